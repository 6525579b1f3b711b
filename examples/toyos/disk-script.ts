/**
 * Types a script of shell commands into toyos on a ferry86 PcMachine, one command after the
 * previous one finished, deterministically: the machine runs in chunks that end at multiples of
 * CHUNK retired instructions, and the host looks at the console and types only at those
 * boundaries. So a run restored from a snapshot taken at a boundary, driven by the same code from
 * the same script position, types at exactly the same instructions as the run that never stopped
 * (DESIGN §2.3) — which is what the snapshot tests check.
 */
import type { PcMachine } from '@ferry86/devices';
import { commandFinished } from './run-qemu.mjs';

export const CHUNK = 100_000;

/** Where a script run is: what it typed, and the console output since the last command was typed. */
export interface ScriptPosition {
  /** Commands typed so far (the next one to type is commands[next]). */
  next: number;
  /** Console output since commands[next - 1] was typed; since boot while next is 0. */
  pending: string;
}

export interface ScriptHooks {
  /** Called at a chunk boundary right after commands[index] was typed. */
  afterTyping?: (index: number, pos: ScriptPosition) => void;
}

/**
 * Runs `pc` on from `pos` until every command of `commands` was typed and the last one finished.
 * Returns the console output of this call. Throws if the guest stops or `maxInstructions` pass.
 */
export function driveScript(pc: PcMachine, commands: readonly string[], pos: ScriptPosition, hooks: ScriptHooks = {}, maxInstructions = 3e9): string {
  let out = '';
  const off = pc.onSerialOutput((b) => {
    const c = String.fromCharCode(b);
    out += c;
    pos.pending += c;
  });
  try {
    const start = pc.cpu.instructionCount;
    for (;;) {
      const ready = pos.next === 0
        ? /\nready\r?\n/.test(pos.pending) && pos.pending.endsWith('> ')
        : commandFinished(pos.pending, commands[pos.next - 1]!);
      if (ready) {
        if (pos.next === commands.length) return out;
        const index = pos.next++;
        pos.pending = '';
        pc.sendSerialInput(`${commands[index]}\r`);
        hooks.afterTyping?.(index, pos);
      }
      if (pc.cpu.instructionCount - start > maxInstructions) throw new Error(`the script did not finish within ${maxInstructions} instructions:\n${out.slice(-1500)}`);
      const count = pc.cpu.instructionCount;
      const target = (Math.floor(count / CHUNK) + 1) * CHUNK;
      while (pc.cpu.instructionCount < target) {
        const exit = pc.run(target - pc.cpu.instructionCount);
        if (exit.reason !== 'limit' && exit.reason !== 'idle') throw new Error(`toyos stopped (${exit.reason}):\n${out.slice(-1500)}`);
      }
    }
  } finally {
    off();
  }
}
