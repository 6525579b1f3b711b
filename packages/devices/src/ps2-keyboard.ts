/**
 * A PS/2 (AT-compatible, MF2) keyboard as seen through its serial link: it answers the host's
 * command bytes (IBM PS/2 Technical Reference, "Keyboard commands") and queues the bytes it
 * sends back. No keys are pressed yet: the point is that an operating system's probe finds a
 * keyboard (reset self-test 0xAA, identity AB 83) and configures it without timeouts.
 *
 * The controller (I8042) pulls bytes with `next()` when its output buffer is free; what the
 * keyboard answers therefore never overtakes the controller's own replies.
 */
import type { StateRecord } from '@ferry86/mmu';
import { bool, bytes, num, require } from './stateful-util.ts';

const ACK = 0xfa;
const RESEND = 0xfe;
const BAT_OK = 0xaa;
const ECHO = 0xee;
/** Longest answer queue kept; a guest hammering commands without reading loses the oldest. */
const QUEUE_MAX = 16;

export const PS2_KEYBOARD_FIELDS = {
  kbdQueue: 'bytes',
  kbdScanning: 'bool',
  kbdPendingCommand: 'u8',
  kbdLastSent: 'u8',
  kbdLeds: 'u8',
  kbdScancodeSet: 'u8',
  kbdTypematic: 'u8',
} as const;

export class Ps2Keyboard {
  private queue: number[] = [];
  /** Scanning enabled (0xF4) or disabled (0xF5). */
  scanning = true;
  /** A command waiting for its argument byte (0xED, 0xF0, 0xF3), or 0. */
  private pending = 0;
  private lastSent = 0;
  leds = 0;
  scancodeSet = 2;
  typematic = 0x2b;
  /**
   * Whether the controller translates to scan code set 1 (its command byte bit 6): the keyboard's
   * identity then reads AB 41, as a translated MF2 keyboard's does.
   */
  translated: () => boolean = () => false;

  /** Power-on: defaults, scanning enabled, nothing to send. */
  reset(): void {
    this.queue = [];
    this.scanning = true;
    this.pending = 0;
    this.lastSent = 0;
    this.leds = 0;
    this.scancodeSet = 2;
    this.typematic = 0x2b;
  }

  get hasOutput(): boolean {
    return this.queue.length > 0;
  }

  /** The next byte the keyboard sends (call only when hasOutput). */
  next(): number {
    const b = this.queue.shift()!;
    this.lastSent = b;
    return b;
  }

  /** A byte from the host (the controller passes on what the CPU wrote to port 0x60). */
  write(b: number): void {
    if (this.pending !== 0) {
      const cmd = this.pending;
      this.pending = 0;
      if (cmd === 0xed) {
        this.leds = b & 7;
        this.send(ACK);
        return;
      }
      if (cmd === 0xf3) {
        this.typematic = b & 0x7f;
        this.send(ACK);
        return;
      }
      if (cmd === 0xf0) {
        this.send(ACK);
        if (b === 0) this.send(this.translated() ? [0x43, 0x41, 0x3f][this.scancodeSet - 1]! : this.scancodeSet);
        else if (b >= 1 && b <= 3) this.scancodeSet = b;
        return;
      }
    }
    switch (b) {
      case 0xff: // reset: acknowledge, run the basic assurance test, report success
        this.reset();
        this.send(ACK);
        this.send(BAT_OK);
        return;
      case 0xfe:
        this.send(this.lastSent);
        return;
      case 0xf6: // set defaults
        this.scanning = true;
        this.leds = 0;
        this.typematic = 0x2b;
        this.send(ACK);
        return;
      case 0xf5: // disable scanning (and restore defaults)
        this.scanning = false;
        this.typematic = 0x2b;
        this.send(ACK);
        return;
      case 0xf4:
        this.scanning = true;
        this.send(ACK);
        return;
      case 0xf3:
      case 0xf0:
      case 0xed:
        this.pending = b;
        this.send(ACK);
        return;
      case 0xf2: // read ID: an MF2 keyboard
        this.send(ACK);
        this.send(0xab);
        this.send(this.translated() ? 0x41 : 0x83);
        return;
      case 0xee:
        this.send(ECHO);
        return;
      default:
        // 0xF7-0xFD are scan-code-set-3 key type commands: accepted and ignored.
        this.send(b >= 0xf7 && b <= 0xfd ? ACK : RESEND);
    }
  }

  private send(b: number): void {
    if (this.queue.length >= QUEUE_MAX) this.queue.shift();
    this.queue.push(b);
  }

  saveTo(r: StateRecord): void {
    r.kbdQueue = Uint8Array.from(this.queue);
    r.kbdScanning = this.scanning;
    r.kbdPendingCommand = this.pending;
    r.kbdLastSent = this.lastSent;
    r.kbdLeds = this.leds;
    r.kbdScancodeSet = this.scancodeSet;
    r.kbdTypematic = this.typematic;
  }

  static check(section: string, r: StateRecord): void {
    require(section, bytes(r, 'kbdQueue').length <= QUEUE_MAX, `keyboard queue holds ${bytes(r, 'kbdQueue').length} bytes (at most ${QUEUE_MAX})`);
    const p = num(r, 'kbdPendingCommand');
    require(section, p === 0 || p === 0xed || p === 0xf0 || p === 0xf3, `keyboard pending command 0x${p.toString(16)} takes no argument`);
    const set = num(r, 'kbdScancodeSet');
    require(section, set >= 1 && set <= 3, `scan code set ${set} is not 1..3`);
  }

  loadFrom(r: StateRecord): void {
    this.queue = Array.from(bytes(r, 'kbdQueue'));
    this.scanning = bool(r, 'kbdScanning');
    this.pending = num(r, 'kbdPendingCommand');
    this.lastSent = num(r, 'kbdLastSent');
    this.leds = num(r, 'kbdLeds');
    this.scancodeSet = num(r, 'kbdScancodeSet');
    this.typematic = num(r, 'kbdTypematic');
  }
}
