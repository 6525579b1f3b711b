/**
 * The PC board: RAM, MMU, CPU, I/O bus, virtual clock, the PIC pair, the PIT, the CMOS/RTC, the
 * keyboard controller, system control ports A (0x92) and B (0x61), COM1-COM4, the POST port and
 * debug consoles, wired as on a PC/AT, and a 440FX/PIIX3 PCI chipset (as QEMU's "pc" machine), and the run loop that drives them (DESIGN §2.3).
 *
 * The run loop executes the CPU in slices. A slice is planned from the machine's own history —
 * it ends at the next clock event or after SLICE_CAP instructions — and due clock events fire
 * only at planned slice ends or when the CPU halts. A caller's instruction limit, a stamped host
 * input or an absent page may stop the CPU inside a planned slice; that only pauses it, and the
 * plan (saved with the machine) resumes where it stopped. So where events fire, and therefore
 * what the guest sees, does not depend on how the host chopped up run() calls: a guest restored
 * from a snapshot taken anywhere runs on exactly as the original did.
 */
import { Cpu } from '@ferry86/cpu';
import { Mmu, PhysicalMemory } from '@ferry86/mmu';
import type { SectionSchema, StateRecord, Stateful } from '@ferry86/mmu';
import { CmosRtc, DEFAULT_RTC_START_MS } from './cmos-rtc.ts';
import { DebugConsole } from './debug-console.ts';
import { FpuErrorPort } from './fpu-error-port.ts';
import { I440fxChipset } from './i440fx-chipset.ts';
import { I8042 } from './i8042.ts';
import { IoBus } from './io-bus.ts';
import { PicPair } from './pic-pair.ts';
import { Pit8254 } from './pit8254.ts';
import { PostCodePort } from './post-code-port.ts';
import { StampedInputQueue, type StampedInput } from './serial-input.ts';
import { checkSchema, num, require } from './stateful-util.ts';
import { SystemControlPortA } from './system-control-port-a.ts';
import { SystemControlPortB } from './system-control-port-b.ts';
import { Uart16550 } from './uart16550.ts';
import { VirtualClock, type Pacing } from './virtual-clock.ts';
import { CowDisk } from './disk/cow-disk.ts';
import { AtaDrive } from './ata/ata-drive.ts';
import { IdeChannel } from './ata/ide-channel.ts';
import { Piix3Ide } from './ata/piix3-ide.ts';

const MiB = 1024 * 1024;
/**
 * Longest planned slice: 10k instructions = 100 µs of guest time at the default rate. An event
 * scheduled in the middle of a slice (a guest reprogramming the PIT, a UART timeout) fires at
 * the slice's end, so this bounds how late such an event can be; per-slice overhead is noise.
 */
export const SLICE_CAP = 10_000;
/** Realtime pacing lets guest time run this far ahead of the wall before the machine idles. */
const REALTIME_SLACK_NS = 2e6;
const EFLAGS_IF = 1 << 9;
/**
 * Guest time one run() call may skip through in HLT before returning 'idle' (waitMs 0), so that a
 * guest idling with its timer interrupt masked cannot keep run() from returning to the host.
 */
const IDLE_SKIP_BUDGET_NS = 100e6;

export interface DebugConsoleConfig {
  port: number;
  sink?: (byte: number) => void;
}

/** A disk for PcMachineConfig.disks: a raw base image (read-only; writes go to an overlay) or a CowDisk. */
export type DiskImage = Uint8Array | CowDisk;

/**
 * ATA disks on the primary IDE channel (0x1F0-0x1F7, 0x3F6, IRQ14) of the PIIX3 IDE controller
 * (PCI 00:01.1). A machine configured with disks has the controller; one without has neither.
 */
export interface PcDisksConfig {
  primaryMaster?: DiskImage;
  primarySlave?: DiskImage;
}

export interface PcMachineConfig {
  /** Guest RAM in MiB (default 64). */
  memoryMiB?: number;
  /** Back RAM with a SharedArrayBuffer (worker sharing, DESIGN §2.7). */
  shared?: boolean;
  /** 'deterministic' (default): pure virtual time. 'realtime': guest time kept near wall time. */
  pacing?: Pacing;
  /** Guest ns per retired instruction (default 10: a 100 MIPS virtual CPU). */
  nsPerInstruction?: number;
  /** Debug consoles (port 0xE9 hack). Default: one at 0xE9 whose output is discarded. */
  debugcon?: DebugConsoleConfig[];
  /** Keep a log of delivered host input with its stamps (see inputLog). */
  recordInput?: boolean;
  /** Host wall clock in ms for realtime pacing (default performance.now). */
  wallClockMs?: () => number;
  /**
   * The RTC's calendar time when the machine is created: ms since 1970-01-01 UTC, or an ISO 8601
   * date. Default: DEFAULT_RTC_START_MS (2024-01-01) in deterministic pacing, so runs replay; the
   * host's current time in realtime pacing.
   */
  rtcStart?: number | string;
  /**
   * ATA disks (see PcDisksConfig). A Uint8Array is the base image of a new copy-on-write disk
   * (section "disk-primary-master" / "disk-primary-slave"); the array is never written.
   */
  disks?: PcDisksConfig;
}

/**
 * The resolved configuration a machine reports (JSON-serialisable; a stream header carries it and
 * a destination must match it). `rtcStart` is not part of it: it only seeds a new machine's RTC,
 * whose state then travels in snapshots like any device's.
 */
export interface PcMachineResolvedConfig {
  readonly memoryMiB: number;
  readonly shared: boolean;
  readonly pacing: Pacing;
  readonly nsPerInstruction: number;
  readonly recordInput: boolean;
  /** Present only when disks are attached: their sizes in sectors (the images travel separately). */
  readonly disks?: { readonly primaryMaster?: { readonly sectors: number }; readonly primarySlave?: { readonly sectors: number } };
}

/** Legacy serial ports: COM1-COM4 at their standard I/O bases and IRQs (COM1/3 share IRQ4, COM2/4 IRQ3). */
const COM_PORTS = [
  { name: 'com1', base: 0x3f8, irq: 4 },
  { name: 'com2', base: 0x2f8, irq: 3 },
  { name: 'com3', base: 0x3e8, irq: 4 },
  { name: 'com4', base: 0x2e8, irq: 3 },
] as const;

export type RunExitReason =
  /** The instruction limit was reached. */
  | 'limit'
  /** HLT with interrupts disabled: nothing (there is no NMI source) can wake the CPU. */
  | 'halted'
  /** Triple fault. */
  | 'shutdown'
  /** A reset was requested (the machine has been reset). */
  | 'reset'
  /** A RAM page is absent (post-copy / lazy restore): fetch `page`, then run again. */
  | 'absent'
  /**
   * Nothing to do for now: the CPU waits in HLT for an interrupt and no clock event is pending
   * (host input can still wake it), or — realtime pacing — guest time is ahead of the wall.
   * `waitMs` says how long the host may sleep (Infinity: until it sends input).
   */
  | 'idle';

export interface RunExit {
  reason: RunExitReason;
  /** Instructions retired during this run() call. */
  instructions: number;
  /** For 'absent': the page number. */
  page?: number;
  /** For 'idle': how long the host can wait before running again. */
  waitMs?: number;
}

export interface InputLogEntry extends StampedInput {}

const RUN_LOOP_SCHEMA: SectionSchema = {
  type: 'pc-run-loop',
  version: 1,
  fields: { sliceEnd: 'f64' },
};

export class PcMachine {
  readonly phys: PhysicalMemory;
  readonly mmu: Mmu;
  readonly cpu: Cpu;
  readonly io: IoBus;
  readonly clock: VirtualClock;
  readonly pic: PicPair;
  readonly pit: Pit8254;
  readonly com1: Uart16550;
  readonly com2: Uart16550;
  readonly com3: Uart16550;
  readonly com4: Uart16550;
  readonly rtc: CmosRtc;
  readonly kbc: I8042;
  readonly portA: SystemControlPortA;
  readonly portB: SystemControlPortB;
  readonly postCode: PostCodePort;
  /** Port 0xF0 (x87 error latch clear): a hook for when FERR#/IRQ13 is wired. */
  readonly fpuErrorPort: FpuErrorPort;
  /** PCI configuration space (0xCF8/0xCFC), the 440FX host bridge with PAM shadow RAM, the PIIX3 with 0xCF9. */
  readonly chipset: I440fxChipset;
  readonly debugConsoles: readonly DebugConsole[];
  readonly serialInput: StampedInputQueue;
  /** Delivered host input with its stamps, when config.recordInput is set. */
  readonly inputLog: InputLogEntry[] = [];
  readonly config: PcMachineResolvedConfig;
  /** The primary IDE channel, when disks are configured. */
  readonly ide: IdeChannel | null = null;
  /** The PIIX3 IDE function (00:01.1), when disks are configured. */
  readonly ideController: Piix3Ide | null = null;
  /** The attached disks (their copy-on-write overlays hold what the guest wrote). */
  readonly disks: { readonly primaryMaster: CowDisk | null; readonly primarySlave: CowDisk | null } = { primaryMaster: null, primarySlave: null };
  /** The RTC's calendar time at power-on, ms since 1970-01-01 UTC (see PcMachineConfig.rtcStart). */
  readonly rtcStartMs: number;

  /** Instruction count at which the current planned slice ends (0: none planned). */
  private sliceEnd = 0;
  private running = false;
  private resetRequested = false;
  private readonly unstamped: Uint8Array[] = [];
  private readonly serialListeners: ((byte: number) => void)[] = [];
  private readonly runLoopState: Stateful;

  constructor(config: PcMachineConfig = {}) {
    const memoryMiB = config.memoryMiB ?? 64;
    if (!Number.isInteger(memoryMiB) || memoryMiB < 2 || memoryMiB > 2048) {
      throw new RangeError(`memoryMiB must be an integer from 2 to 2048, not ${memoryMiB}`);
    }
    const pacing = config.pacing ?? 'deterministic';
    this.config = {
      memoryMiB,
      shared: config.shared ?? false,
      pacing,
      nsPerInstruction: config.nsPerInstruction ?? 10,
      recordInput: config.recordInput ?? false,
    };
    const master = resolveDisk(config.disks?.primaryMaster, 'primaryMaster', 'disk-primary-master');
    const slave = resolveDisk(config.disks?.primarySlave, 'primarySlave', 'disk-primary-slave');
    if (master || slave) {
      this.config = {
        ...this.config,
        disks: {
          ...(master ? { primaryMaster: { sectors: master.sectorCount } } : {}),
          ...(slave ? { primarySlave: { sectors: slave.sectorCount } } : {}),
        },
      };
      this.disks = { primaryMaster: master, primarySlave: slave };
    }
    this.rtcStartMs = resolveRtcStart(config.rtcStart, pacing);
    this.phys = new PhysicalMemory({ ramSize: memoryMiB * MiB, shared: this.config.shared });
    this.mmu = new Mmu(this.phys);
    this.io = new IoBus();
    this.clock = new VirtualClock({
      nsPerInstruction: this.config.nsPerInstruction,
      pacing: this.config.pacing,
      ...(config.wallClockMs ? { wallClockMs: config.wallClockMs } : {}),
    });
    this.pic = new PicPair();
    this.pic.attach(this.io);
    const pic = this.pic;
    this.pit = new Pit8254(this.clock, { onIrq0: (level) => pic.setIrq(0, level) });
    this.pit.attach(this.io);
    const coms = COM_PORTS.map((c) => {
      // Two UARTs share each IRQ line; a UART whose OUT2 is off leaves the line alone, so the
      // line is the OR of both outputs.
      const uart: Uart16550 = new Uart16550({
        clock: this.clock,
        setIrq: () => pic.setIrq(c.irq, coms.some((u, i) => COM_PORTS[i]!.irq === c.irq && u.irqLevel)),
        sectionName: c.name,
      });
      uart.attach(this.io, c.base);
      return uart;
    });
    [this.com1, this.com2, this.com3, this.com4] = coms as [Uart16550, Uart16550, Uart16550, Uart16550];
    this.rtc = new CmosRtc({
      clock: this.clock,
      setIrq: (level) => pic.setIrq(8, level),
      startMs: this.rtcStartMs,
      ramBytes: memoryMiB * MiB,
    });
    this.rtc.attach(this.io);
    const reset = () => this.requestReset();
    const a20 = () => this.updateA20();
    this.kbc = new I8042({
      setIrq1: (level) => pic.setIrq(1, level),
      setIrq12: (level) => pic.setIrq(12, level),
      setA20: a20,
      requestReset: reset,
    });
    this.kbc.attach(this.io);
    this.portA = new SystemControlPortA({ onA20: a20, requestReset: reset });
    this.portA.attach(this.io);
    this.portB = new SystemControlPortB(this.pit, this.clock);
    this.portB.attach(this.io);
    this.postCode = new PostCodePort();
    this.postCode.attach(this.io);
    this.fpuErrorPort = new FpuErrorPort();
    this.fpuErrorPort.attach(this.io);
    this.chipset = new I440fxChipset(this.phys, { requestReset: reset });
    this.chipset.attach(this.io);
    if (this.disks.primaryMaster || this.disks.primarySlave) {
      const m = this.disks.primaryMaster;
      const sl = this.disks.primarySlave;
      this.ideController = new Piix3Ide();
      this.chipset.bus.add(this.ideController);
      this.ide = new IdeChannel({
        base: 0x1f0,
        control: 0x3f6,
        setIrq: (level) => pic.setIrq(14, level),
        master: m ? new AtaDrive(m, { serial: 'FERRY86-PM' }) : null,
        slave: sl ? new AtaDrive(sl, { serial: 'FERRY86-PS' }) : null,
        sectionName: 'ide-primary',
      });
      this.ide.attach(this.io);
    }
    this.com1.onTransmit((b) => {
      for (const l of this.serialListeners) l(b);
    });
    this.debugConsoles = (config.debugcon ?? [{ port: 0xe9 }]).map((d) => {
      const con = new DebugConsole(d.port, d.sink ?? null);
      con.attach(this.io);
      return con;
    });
    this.serialInput = new StampedInputQueue();

    this.cpu = new Cpu(this.mmu, this.io, this.pic);
    // PC/AT x87 error reporting (CR0.NE=0): FERR# sets a latch that drives IRQ13 until software
    // writes port 0xF0 (IBM PC/AT technical reference; Intel SDM vol. 1 §8.7). The level is held
    // by the PIC's IRQ line state, which travels in the "pic" section.
    this.cpu.onFerr((asserted) => {
      if (asserted) this.pic.raiseIrq(13);
    });
    this.fpuErrorPort.onClear = () => this.pic.lowerIrq(13);
    const cpu = this.cpu;
    const clock = this.clock;
    clock.setInstructionCounter(() => cpu.instructionCount);
    // RDTSC: one cycle per instruction at the virtual CPU's rate, idle time included.
    cpu.setTimeSource(() => BigInt(Math.floor(clock.nowNs() / clock.nsPerInstruction)));

    const self = this;
    this.runLoopState = {
      sectionName: 'run-loop',
      schema: RUN_LOOP_SCHEMA,
      saveState: () => ({ sliceEnd: self.sliceEnd }),
      checkState(record: StateRecord) {
        checkSchema('run-loop', RUN_LOOP_SCHEMA, record);
        const end = num(record, 'sliceEnd');
        require('run-loop', Number.isSafeInteger(end) && end >= 0, `sliceEnd ${end} is not an instruction count`);
      },
      loadState(record: StateRecord) {
        this.checkState!(record);
        self.sliceEnd = num(record, 'sliceEnd');
      },
    };
  }

  // ---- serial port --------------------------------------------------------------------------------

  /** Receives every byte the guest transmits on COM1. Returns a function that unsubscribes. */
  onSerialOutput(listener: (byte: number) => void): () => void {
    this.serialListeners.push(listener);
    return () => {
      const i = this.serialListeners.indexOf(listener);
      if (i >= 0) this.serialListeners.splice(i, 1);
    };
  }

  /**
   * Host input for COM1. Without a stamp it enters at the next slice boundary (at once when the
   * machine is not running) and is stamped then. With `atInstruction` (and optionally `atNs`, the
   * guest time while halted at that count) it enters exactly there: this is how a recorded input
   * log is replayed.
   */
  sendSerialInput(data: ArrayLike<number> | string, atInstruction?: number, atNs?: number): void {
    const b = typeof data === 'string' ? new TextEncoder().encode(data) : Uint8Array.from(data);
    if (b.length === 0) return;
    if (atInstruction === undefined) {
      this.unstamped.push(b);
      if (!this.running) this.deliverInput();
      return;
    }
    if (!(Number.isSafeInteger(atInstruction) && atInstruction >= 0)) {
      throw new RangeError(`atInstruction ${atInstruction} is not an instruction count`);
    }
    if (atNs !== undefined && !(Number.isFinite(atNs) && atNs >= 0)) throw new RangeError(`atNs ${atNs} is not a guest time`);
    this.serialInput.add({ atInstruction, atNs: atNs ?? -1, bytes: b });
    if (!this.running) this.deliverInput();
  }

  private deliverInput(): void {
    const count = this.cpu.instructionCount;
    const now = this.clock.nowNs();
    while (this.unstamped.length > 0) this.deliver({ atInstruction: count, atNs: now, bytes: this.unstamped.shift()! });
    for (let c = this.serialInput.takeDue(count, now); c !== null; c = this.serialInput.takeDue(count, now)) this.deliver(c);
  }

  private deliver(input: StampedInput): void {
    if (this.config.recordInput) {
      this.inputLog.push({ atInstruction: this.cpu.instructionCount, atNs: this.clock.nowNs(), bytes: input.bytes });
    }
    this.com1.receive(input.bytes);
  }

  // ---- control --------------------------------------------------------------------------------------

  /** Asks for a system reset (keyboard controller pulse, port 0x92/0xCF9); run() performs it and reports 'reset'. */
  requestReset(): void {
    this.resetRequested = true;
  }

  /**
   * Power-on reset of the CPU and the board's devices. RAM, ROM and guest time are kept, and so
   * are the RTC's time and CMOS RAM (battery-backed; the RTC only sees its RESET# pin).
   */
  reset(): void {
    this.cpu.reset();
    this.pic.reset();
    this.pit.reset();
    this.com1.reset();
    this.com2.reset();
    this.com3.reset();
    this.com4.reset();
    this.rtc.reset();
    this.kbc.reset();
    this.portA.reset();
    this.portB.reset();
    this.chipset.reset();
    this.ide?.reset();
    this.updateA20();
    this.sliceEnd = 0;
    this.resetRequested = false;
  }

  /** Every part whose state travels in a snapshot or migration. */
  stateParts(): Stateful[] {
    return [
      this.cpu, this.phys, this.clock, this.pic, this.pit, this.com1, this.com2, this.com3, this.com4,
      this.rtc, this.kbc, this.portA, this.portB, this.postCode, ...this.chipset.stateParts(),
      ...this.debugConsoles, this.io, this.serialInput, this.runLoopState,
      ...(this.ide ? [this.ide] : []),
      ...[this.disks.primaryMaster, this.disks.primarySlave].filter((d): d is CowDisk => d !== null),
    ];
  }

  /**
   * The A20 gate: enabled when either the keyboard controller's output port or port 0x92 asks
   * for it (the chipset ORs the two, Intel PIIX datasheet "A20M#").
   */
  private updateA20(): void {
    // Called while the devices are being built, before both exist.
    if (this.kbc === undefined || this.portA === undefined) return;
    this.phys.setA20((this.kbc.outputPortValue & 2) !== 0 || this.portA.a20);
  }

  // ---- run loop ---------------------------------------------------------------------------------

  /** Runs until `maxInstructions` have retired or something the host must handle happens. */
  run(maxInstructions: number): RunExit {
    const cpu = this.cpu;
    const clock = this.clock;
    const start = cpu.instructionCount;
    const realtime = clock.pacing === 'realtime';
    const exit = (reason: RunExitReason, extra: Partial<RunExit> = {}): RunExit => ({ reason, instructions: cpu.instructionCount - start, ...extra });
    let stalls = 0;
    let skippedNs = 0;
    if (!(maxInstructions > 0)) return exit('limit');
    this.running = true;
    try {
      for (;;) {
        this.deliverInput();
        if (this.resetRequested) {
          this.reset();
          return exit('reset');
        }
        if (cpu.shutdown) return exit('shutdown');

        if (cpu.halted && (stalls > 1 || !this.interruptDeliverable())) {
          // HLT is a boundary the guest chose: due events fire, then time skips to the next one.
          this.sliceEnd = 0;
          clock.fireDueEvents();
          this.deliverInput();
          if ((cpu.getEflags() & EFLAGS_IF) === 0 && cpu.pendingIrq < 0) return exit('halted');
          if (stalls <= 1 && this.interruptDeliverable()) continue;
          stalls = 0;
          const target = Math.min(clock.nextEventNs(), this.serialInput.nextNsAt(cpu.instructionCount));
          if (target === Infinity) {
            // Nothing can change the guest before host input arrives, so input stamped for a
            // later instruction count (which the halted CPU would never reach) enters now.
            const next = this.serialInput.takeNext();
            if (next === null) return exit('idle', { waitMs: Infinity });
            this.deliver(next);
            continue;
          }
          if (realtime) {
            const wall = clock.nowNs() - clock.aheadOfWallNs();
            if (target > wall) return exit('idle', { waitMs: (target - wall) / 1e6 });
          }
          if (skippedNs > IDLE_SKIP_BUDGET_NS) return exit('idle', { waitMs: 0 });
          skippedNs += Math.max(0, target - clock.nowNs());
          clock.skipTo(target);
          continue;
        }

        const done = cpu.instructionCount - start;
        if (done >= maxInstructions) return exit('limit');

        if (this.sliceEnd <= cpu.instructionCount) {
          clock.fireDueEvents();
          if (realtime) {
            const ahead = clock.aheadOfWallNs();
            if (ahead > REALTIME_SLACK_NS) return exit('idle', { waitMs: ahead / 1e6 });
          }
          const until = clock.instructionsUntilNextEvent();
          this.sliceEnd = cpu.instructionCount + Math.max(1, Math.min(until, SLICE_CAP));
        }
        const count = cpu.instructionCount;
        const n = Math.min(this.sliceEnd - count, maxInstructions - done, this.serialInput.instructionsUntilNext(count));
        const ran = cpu.run(n);
        stalls = ran === 0 ? stalls + 1 : 0;
        switch (cpu.stopReason) {
          case 'shutdown':
            // A reset requested earlier in the slice (SeaBIOS: keyboard-controller pulse, then a
            // deliberate triple fault as the fallback) happens before the CPU could get there.
            if (this.resetRequested) {
              this.reset();
              return exit('reset');
            }
            return exit('shutdown');
          case 'absent':
            return exit('absent', { page: cpu.absentPage });
          case 'halt':
            this.sliceEnd = 0;
            clock.fireDueEvents();
            break;
          default:
            if (cpu.instructionCount >= this.sliceEnd) {
              this.sliceEnd = 0;
              clock.fireDueEvents();
            }
        }
      }
    } finally {
      this.running = false;
    }
  }

  private interruptDeliverable(): boolean {
    return this.cpu.pendingIrq >= 0 || ((this.cpu.getEflags() & EFLAGS_IF) !== 0 && this.pic.hasInterrupt());
  }
}

function resolveDisk(d: unknown, slot: string, sectionName: string): CowDisk | null {
  if (d === undefined || d === null) return null;
  if (d instanceof CowDisk) return d;
  if (d instanceof Uint8Array) return new CowDisk(d, { sectionName });
  throw new TypeError(
    `disks.${slot} must be a disk image (Uint8Array) or a CowDisk, not ${JSON.stringify(d)}: ` +
    'a configuration read from a snapshot names only the disk size, so supply the same base image the snapshot was taken with',
  );
}

function resolveRtcStart(start: number | string | undefined, pacing: Pacing): number {
  if (start === undefined) return pacing === 'deterministic' ? DEFAULT_RTC_START_MS : Date.now();
  const ms = typeof start === 'number' ? start : Date.parse(start);
  if (!Number.isFinite(ms)) throw new RangeError(`rtcStart ${JSON.stringify(start)} is not a date (ms since 1970 or ISO 8601)`);
  return ms;
}
