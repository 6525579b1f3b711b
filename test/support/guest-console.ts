import type { PcMachine } from '@ferry86/devices';

/**
 * Drives a PcMachine in-process and collects its COM1 output as text (latin1), for tests that
 * talk to a guest's serial console.
 */
export class GuestConsole {
  output = '';

  constructor(readonly machine: PcMachine) {
    machine.onSerialOutput((b) => {
      this.output += String.fromCharCode(b);
    });
  }

  /**
   * Runs until `done(output)` holds, checking between slices of `step` instructions. Fails with
   * the tail of the output if the guest stops first or the instruction budget runs out.
   */
  runUntil(done: (output: string) => boolean, maxInstructions: number, step = 200_000): void {
    let spent = 0;
    while (!done(this.output)) {
      if (spent >= maxInstructions) {
        throw new Error(`guest did not get there within ${maxInstructions} instructions; output ends:\n${this.output.slice(-1500)}`);
      }
      const exit = this.machine.run(step);
      spent += exit.instructions;
      if (exit.reason !== 'limit' && exit.reason !== 'idle') {
        if (done(this.output)) return;
        throw new Error(`guest stopped (${exit.reason}) after ${spent} instructions; output ends:\n${this.output.slice(-1500)}`);
      }
    }
  }

  type(text: string): void {
    this.machine.sendSerialInput(text);
  }
}
