/**
 * The i386/i486-class CPU: architectural state, memory access through segmentation and the Mmu,
 * and the run loop over the decoded-code cache.
 *
 * Restart rule (DESIGN §2.2): an instruction computes everything that can fault (effective
 * addresses, segment checks, every memory read and write) before it commits registers and flags.
 * A #PF, #GP ... therefore leaves the registers as they were, and a PageAbsentError stops run()
 * with EIP at the instruction and nothing changed.
 */
import type { SectionSchema, StateRecord, Stateful } from '@ferry86/mmu';
import { Mmu, PageAbsentError } from '@ferry86/mmu';
import * as mmuModule from '@ferry86/mmu';
import type { CodePage } from './codecache.ts';
import { CodeCache } from './codecache.ts';
import * as constantsModule from './constants.ts';
import * as decoderModule from './decoder.ts';
import { GuestFault } from './fault.ts';
import * as flagsModule from './flags.ts';
import { Insn } from './insn.ts';
import * as interruptsModule from './interrupts.ts';
import { CpuRegisters } from './regs.ts';
import * as stateModule from './state.ts';
import type { InterruptController, IoPorts, StopReason } from './types.ts';
import * as typesModule from './types.ts';
import * as invalidModule from './handlers/invalid.ts';
import * as cpuidModule from './cpuid.ts';
import { Fpu } from './fpu/fpu.ts';

// Imported values are copied into module constants once: when modules are transpiled to CommonJS
// or run under vitest's module transform, every access to an imported binding is a getter call,
// which costs more than the operations of the interpreter's hot path.
const {
  ATTR_DB, ATTR_REAL_CODE, ATTR_REAL_DATA, ATTR_TYPE_CODE, ATTR_TYPE_EC, ATTR_TYPE_RW, CR0_ET, CR0_PE, CS,
  DF, EXC_DB, EXC_DF, EXC_GP, EXC_PF, EXC_SS, EXC_TS, EXC_UD, FLAGS_FIXED_ONE, IF, RF, SS, TF, VM
} = constantsModule;
const { TLB_READ_SUPERVISOR, TLB_READ_USER, TLB_WRITE_SUPERVISOR, TLB_WRITE_USER } = mmuModule;
const { decodeInstruction } = decoderModule;
const { materializeFlags } = flagsModule;
const { deliverExternal, deliverInterrupt, INT_EXCEPTION } = interruptsModule;
const { CPU_STATE_SCHEMA, loadCpuState, saveCpuState, checkCpuState } = stateModule;
const { NO_INTERRUPTS, NO_IO } = typesModule;
const { udHandler } = invalidModule;
const { CPU_SIGNATURE } = cpuidModule;

/**
 * Checked code pages (codecache.ts): the record remembers its bytes and verifies them before each
 * execution; on a mismatch it is decoded again in place.
 */
function armVerification(c: Cpu, insn: Insn): void {
  const base = (insn.page!.page << 12) + insn.pageOff;
  const b = c.mmu.phys.ram.slice(base, base + insn.len);
  insn.bytes = b;
  let lo = 0;
  let hi = 0;
  for (let k = 0; k < 4 && k < b.length; k++) lo |= b[k]! << (8 * k);
  for (let k = 4; k < 8 && k < b.length; k++) hi |= b[k]! << (8 * (k - 4));
  insn.vLo = lo;
  insn.vHi = hi;
  insn.mLo = b.length >= 4 ? -1 : (1 << (8 * b.length)) - 1;
  insn.mHi = b.length >= 8 ? -1 : b.length <= 4 ? 0 : (1 << (8 * (b.length - 4))) - 1;
  insn.realExec = insn.exec;
  insn.exec = verifyThenExec;
}

function verifyThenExec(c: Cpu, i: Insn): void {
  const base = (i.page!.page << 12) + i.pageOff;
  const dv = c.codeView;
  let same: boolean;
  if (base + 8 <= dv.byteLength) {
    same = (dv.getInt32(base, true) & i.mLo) === i.vLo && (dv.getInt32(base + 4, true) & i.mHi) === i.vHi;
    if (same && i.len > 8) same = sameTail(c.mmu.phys.ram, base, i.bytes!);
  } else {
    same = sameTail(c.mmu.phys.ram, base, i.bytes!);
  }
  if (!same) redecode(c, i);
  i.realExec(c, i);
}

function sameTail(ram: Uint8Array, base: number, b: Uint8Array): boolean {
  for (let k = 0; k < b.length; k++) if (ram[base + k] !== b[k]) return false;
  return true;
}

function redecode(c: Cpu, i: Insn): void {
  const start = c.code32 ? (c.eip - i.len) >>> 0 : (c.eip - i.len) & 0xffff;
  const page = i.page;
  const off = i.pageOff;
  i.reset(udHandler);
  decodeInstruction(c, i, start);
  i.page = page;
  i.pageOff = off;
  armVerification(c, i);
  c.eip = c.code32 ? (start + i.len) >>> 0 : (start + i.len) & 0xffff;
}

/** Exceptions that combine into #DF (SDM vol. 3A §6.15, table 6-5). */
function isContributory(v: number): boolean {
  return v === 0 || (v >= EXC_TS && v <= EXC_GP);
}

/** Construction options. */
export interface CpuOptions {
  /** Fit the x87 FPU (default true; false gives a CPU with an empty coprocessor socket). */
  fpu?: boolean;
}

export class Cpu implements Stateful {
  readonly sectionName = 'cpu0';
  readonly schema: SectionSchema = CPU_STATE_SCHEMA;

  // ---- general registers: one buffer, three views (little-endian host, as every JS engine) ----
  private readonly regBuffer = new ArrayBuffer(48);
  /** EAX..EDI; slot 8 is always 0 (absent base/index in an effective address). */
  readonly r32 = new Int32Array(this.regBuffer, 0, 12);
  /** r16[n * 2] is the low word of register n; r16[16] is 0. */
  readonly r16 = new Uint16Array(this.regBuffer);
  /** AL=r8[0], CL=r8[4], DL=r8[8], BL=r8[12], AH=r8[1], CH=r8[5], DH=r8[9], BH=r8[13]. */
  readonly r8 = new Uint8Array(this.regBuffer);
  /** EIP, unsigned (0..0xFFFFFFFF), or IP (0..0xFFFF) in 16-bit code. */
  eip = 0;

  // ---- EFLAGS: materialised bits + lazy status flags (flags.ts) -------------------------------
  flags = FLAGS_FIXED_ONE;
  fOp = 0;
  fA = 0;
  fB = 0;
  fRes = 0;
  fCin = 0;

  // ---- segment registers with their hidden descriptor caches ---------------------------------
  readonly segSel = new Uint16Array(6);
  readonly segBase = new Int32Array(6);
  /** Byte-granular limit, 0..0xFFFFFFFF. */
  readonly segLimit = new Float64Array(6);
  /** Descriptor bits 40..55 (access byte, then AVL/L/D/G in bits 12..15). */
  readonly segAttr = new Int32Array(6);
  /** 0 for a null selector loaded in protected mode: any access raises #GP(0). */
  readonly segValid = new Uint8Array(6);
  /** Highest offset a read/write may touch without the slow check; -1 forces the slow check. */
  readonly segRLim = new Float64Array(6);
  readonly segWLim = new Float64Array(6);

  // ---- system registers ----------------------------------------------------------------------
  cr0 = CR0_ET;
  cr2 = 0;
  cr3 = 0;
  cr4 = 0;
  readonly dr = new Int32Array(8);
  gdtrBase = 0;
  gdtrLimit = 0;
  idtrBase = 0;
  idtrLimit = 0x3ff;
  ldtrSel = 0;
  ldtrBase = 0;
  ldtrLimit = 0;
  ldtrAttr = 0;
  trSel = 0;
  trBase = 0;
  trLimit = 0;
  trAttr = 0;
  /** Model-specific: time-stamp counter offset added to the time source (WRMSR 0x10 / reset). */
  tscOffset = 0n;
  /**
   * IA32_BIOS_SIGN_ID (MSR 0x8B): software writes 0, executes CPUID.1 and reads the microcode
   * update revision from the high half (SDM vol. 3A §10.11.7.1). Every P6 has it.
   */
  biosSignId = 0n;

  // ---- derived mode bits (kept in sync by the setters below) --------------------------------
  private cplValue = 0;
  /** CS.D: default operand/address size of the running code. */
  code32 = false;
  /** SS.B: the stack pointer is ESP (else SP). */
  ssBig = false;

  // ---- execution state -------------------------------------------------------------------------
  halted = false;
  /** Interrupts (and traps) are held off for one instruction (after STI, MOV SS, POP SS). */
  shadow = false;
  /** Triple fault happened; only reset() leaves this state. */
  shutdown = false;
  /** A hardware interrupt acknowledged from the PIC whose delivery has not completed. */
  pendingIrq = -1;
  /** Set by instructions that must end the current decoded run (mode, CS, paging, IF, I/O, SMC). */
  exit = false;
  instructionCount = 0;
  /**
   * EIP to report a fault at instead of the faulting instruction's, or -1: a task switch that
   * faults after its commit point delivers the fault in the new task (SDM vol. 3A §7.3 step 12).
   */
  restartEip = -1;
  /** Some DR7-enabled breakpoint is an instruction breakpoint (R/W = 00): check every fetch. */
  bpArmed = false;
  stopReason: StopReason = 'limit';
  absentPage = -1;

  readonly fault = new GuestFault();
  readonly codeCache: CodeCache;
  /** RAM as a DataView, for verifying instructions in checked code pages. */
  readonly codeView: DataView;
  readonly regs: CpuRegisters;
  private timeSource: () => bigint = () => BigInt(Math.floor(this.instructionCount));
  /** The Mmu TLB entries and RAM views, for the inline fast paths of the memory helpers. */
  private readonly tlb: Int32Array;
  private readonly ram8: Uint8Array;
  private readonly ram16: Uint16Array;
  private readonly ram32: Int32Array;
  /** TLB permission bits that allow a data read / write at the current privilege. */
  private tlbRead = TLB_READ_SUPERVISOR;
  private tlbWrite = TLB_WRITE_SUPERVISOR;
  /** Linear page of the instruction the run loop last looked up. */
  private curLinPage = 0;
  private readonly scratch = new Insn(udHandler);

  /**
   * The x87 FPU, or null for a CPU without one (then D8-DF only raise #NM under CR0.EM/TS, and
   * CPUID does not report an FPU). See CpuOptions.fpu.
   */
  readonly fpu: Fpu | null;

  constructor(
    readonly mmu: Mmu,
    public io: IoPorts = NO_IO,
    public pic: InterruptController = NO_INTERRUPTS,
    options: CpuOptions = {},
  ) {
    this.fpu = options.fpu !== false ? new Fpu() : null;
    this.tlb = mmu.tlb.entries;
    this.ram8 = mmu.phys.ram;
    this.ram16 = mmu.phys.ram16;
    this.ram32 = mmu.phys.ram32;
    this.codeCache = new CodeCache(mmu.phys);
    this.codeView = new DataView(mmu.phys.buffer);
    this.codeCache.onInvalidate = () => {
      this.exit = true;
    };
    this.codeCache.now = () => this.instructionCount;
    this.regs = new CpuRegisters(this);
    this.reset();
  }

  // ==== reset and loader helpers ===============================================================

  /** Power-on state (SDM vol. 3A §9.1.1, table 9-1): CS:IP = F000:FFF0 with CS base FFFF0000. */
  reset(): void {
    this.r32.fill(0);
    this.r32[2] = CPU_SIGNATURE; // EDX holds the processor signature after RESET
    this.eip = 0xfff0;
    this.flags = FLAGS_FIXED_ONE;
    this.fOp = 0;
    this.cr0 = CR0_ET | (1 << 30) | (1 << 29); // CD and NW set, as after RESET
    this.cr2 = 0;
    this.cr3 = 0;
    this.cr4 = 0;
    this.dr.fill(0);
    this.dr[6] = 0xffff0ff0 | 0;
    this.dr[7] = 0x400;
    this.bpArmed = false;
    this.restartEip = -1;
    this.gdtrBase = 0;
    this.gdtrLimit = 0xffff;
    this.idtrBase = 0;
    this.idtrLimit = 0xffff;
    this.ldtrSel = 0;
    this.ldtrBase = 0;
    this.ldtrLimit = 0xffff;
    this.ldtrAttr = 0x82;
    this.trSel = 0;
    this.trBase = 0;
    this.trLimit = 0xffff;
    this.trAttr = 0x8b;
    for (let s = 0; s < 6; s++) this.setSegCache(s, 0, 0, 0xffff, s === CS ? ATTR_REAL_CODE : ATTR_REAL_DATA);
    this.setSegCache(CS, 0xf000, 0xffff0000 | 0, 0xffff, ATTR_REAL_CODE);
    this.cpl = 0;
    this.halted = false;
    this.shadow = false;
    this.shutdown = false;
    this.pendingIrq = -1;
    this.exit = true;
    this.tscOffset = 0n;
    this.biosSignId = 0n;
    this.fpu?.reset();
    this.mmu.setControl(this.cr0, this.cr3, this.cr4);
  }

  /**
   * Connects the FPU's FERR# output (legacy x87 error reporting with CR0.NE = 0): `cb(true)`
   * when an unmasked x87 exception becomes pending, `cb(false)` when it is cleared (FNCLEX,
   * FNINIT, FLDCW/FLDENV/FRSTOR that mask it). A PC routes it to IRQ 13 and clears its latch on
   * an OUT to port 0xF0. No-op on a CPU without an FPU.
   */
  onFerr(cb: ((asserted: boolean) => void) | null): void {
    if (this.fpu !== null) this.fpu.onFerr = cb;
  }

  /**
   * The machine state a multiboot loader hands over (Multiboot spec §3.2): protected mode without
   * paging, CS/DS/ES/FS/GS/SS flat 4 GiB segments at CPL 0, IF = 0. No GDT is loaded: the
   * selectors (0x08 code, 0x10 data) only name what the hidden caches already hold.
   */
  enterFlatProtectedMode(eip: number): void {
    this.cr0 = (this.cr0 | CR0_PE) & ~((1 << 31) | (1 << 30) | (1 << 29));
    this.mmu.setControl(this.cr0, this.cr3, this.cr4);
    const code = 0x9b | ATTR_DB | (1 << 15);
    const data = 0x93 | ATTR_DB | (1 << 15);
    for (let s = 0; s < 6; s++) this.setSegCache(s, s === CS ? 0x08 : 0x10, 0, 0xffffffff, s === CS ? code : data);
    this.cpl = 0;
    materializeFlags(this);
    this.flags = FLAGS_FIXED_ONE;
    this.eip = eip >>> 0;
    this.halted = false;
    this.exit = true;
  }

  /**
   * Makes the run loop look at the interrupt line before the next instruction (for an
   * interrupt controller whose output changes while run() is executing, e.g. from a device
   * callback that is not an I/O instruction; port I/O already ends the decoded run).
   */
  requestInterruptCheck(): void {
    this.exit = true;
  }

  /** Detaches the CPU from its PhysicalMemory (removes the code cache's dirty log). */
  dispose(): void {
    this.codeCache.dispose();
  }

  setTimeSource(tsc: () => bigint): void {
    this.timeSource = tsc;
  }

  /** Time-stamp counter as RDTSC reads it. */
  readTsc(): bigint {
    return BigInt.asUintN(64, this.timeSource() + this.tscOffset);
  }

  // ==== privilege and mode =====================================================================

  get cpl(): number {
    return this.cplValue;
  }

  set cpl(v: number) {
    this.cplValue = v;
    this.mmu.cpl = v;
    // U/S: CPL 3 is a user access (SDM vol. 3A §4.6).
    this.tlbRead = v === 3 ? TLB_READ_USER : TLB_READ_SUPERVISOR;
    this.tlbWrite = v === 3 ? TLB_WRITE_USER : TLB_WRITE_SUPERVISOR;
  }

  get protectedMode(): boolean {
    return (this.cr0 & CR0_PE) !== 0;
  }

  /** Virtual-8086 mode (SDM vol. 3A ch. 20; CR4.VME is not implemented). */
  get v86(): boolean {
    return (this.flags & VM) !== 0;
  }

  // ==== segment caches ==========================================================================

  /** Loads a segment register's selector and hidden cache verbatim and refreshes derived state. */
  setSegCache(seg: number, sel: number, base: number, limit: number, attr: number): void {
    this.segSel[seg] = sel;
    this.segBase[seg] = base | 0;
    this.segLimit[seg] = limit >>> 0;
    this.segAttr[seg] = attr;
    this.segValid[seg] = 1;
    this.refreshSeg(seg);
  }

  /** A null selector in protected mode: the register is unusable until reloaded. */
  setSegNull(seg: number, sel: number): void {
    this.segSel[seg] = sel;
    this.segBase[seg] = 0;
    this.segLimit[seg] = 0;
    this.segAttr[seg] = 0;
    this.segValid[seg] = 0;
    this.refreshSeg(seg);
  }

  /** Real-mode load (SDM vol. 3A §20.1.1): only selector and base change. */
  setSegReal(seg: number, sel: number): void {
    this.segSel[seg] = sel & 0xffff;
    this.segBase[seg] = (sel & 0xffff) << 4;
    this.segValid[seg] = 1;
    this.refreshSeg(seg);
  }

  /** Recomputes the fast-path limits and mode bits that depend on a segment's cache. */
  refreshSeg(seg: number): void {
    const attr = this.segAttr[seg]!;
    const limit = this.segLimit[seg]!;
    let r = -1;
    let w = -1;
    if (this.segValid[seg] === 1) {
      if ((this.cr0 & CR0_PE) === 0 || (this.flags & VM) !== 0) {
        // Real mode ignores the type; an expand-down cache (unreal tricks) still takes the slow path.
        if ((attr & (ATTR_TYPE_CODE | ATTR_TYPE_EC)) !== ATTR_TYPE_EC) r = w = limit;
      } else if ((attr & ATTR_TYPE_CODE) !== 0) {
        if ((attr & ATTR_TYPE_RW) !== 0) r = limit;
      } else if ((attr & ATTR_TYPE_EC) === 0) {
        r = limit;
        if ((attr & ATTR_TYPE_RW) !== 0) w = limit;
      }
    }
    this.segRLim[seg] = r;
    this.segWLim[seg] = w;
    if (seg === CS) {
      const c32 = (attr & ATTR_DB) !== 0;
      if (c32 !== this.code32) this.code32 = c32;
      this.exit = true;
    } else if (seg === SS) {
      this.ssBig = (attr & ATTR_DB) !== 0;
    }
  }

  refreshAllSegs(): void {
    for (let s = 0; s < 6; s++) this.refreshSeg(s);
  }

  // ==== faults ====================================================================================

  /** Raises exception `vector` (a fault: EIP is rolled back to the instruction). */
  raise(vector: number, errorCode = -1): never {
    const f = this.fault;
    f.vector = vector;
    f.hasErrorCode = errorCode >= 0;
    f.errorCode = errorCode >= 0 ? errorCode : 0;
    throw f;
  }

  gp(code: number): never {
    return this.raise(EXC_GP, code & 0xffff);
  }

  ud(): never {
    return this.raise(EXC_UD);
  }

  /** The slow segment check: null, type, expand-down and limit (SDM vol. 3A §5.3, §5.4). */
  segSlow(seg: number, off: number, size: number, write: boolean): void {
    const o = off >>> 0;
    const bad = seg === SS ? EXC_SS : EXC_GP;
    if (this.segValid[seg] === 0) this.raise(EXC_GP, 0);
    const attr = this.segAttr[seg]!;
    const real = (this.cr0 & CR0_PE) === 0 || (this.flags & VM) !== 0;
    if (!real) {
      if ((attr & ATTR_TYPE_CODE) !== 0) {
        if (write || (attr & ATTR_TYPE_RW) === 0) this.raise(EXC_GP, 0);
      } else if (write && (attr & ATTR_TYPE_RW) === 0) {
        this.raise(EXC_GP, 0);
      }
    }
    const limit = this.segLimit[seg]!;
    const last = o + size - 1;
    if ((attr & (ATTR_TYPE_CODE | ATTR_TYPE_EC)) === ATTR_TYPE_EC) {
      const upper = (attr & ATTR_DB) !== 0 ? 0xffffffff : 0xffff;
      if (o <= limit || last > upper) this.raise(bad, 0);
      return;
    }
    if (last > limit) this.raise(bad, 0);
  }

  // ==== memory through segments ==============================================================

  /** Effective address of the instruction's memory operand. */
  ea(i: Insn): number {
    if (i.a32) return (this.r32[i.base]! + (this.r32[i.index]! << i.scale) + i.disp) | 0;
    return (this.r16[i.base]! + this.r16[i.index]! + i.disp) & 0xffff;
  }

  // The fast paths read the Mmu's TLB directly (DESIGN §3): an entry with the permission bit for
  // the current privilege maps a RAM page, and a write entry exists only for a page every dirty
  // log has already marked, so writing the RAM array directly is safe. Anything else (misses,
  // page-crossing or unaligned multi-byte accesses, ROM, MMIO) goes through the Mmu.

  rd8(seg: number, off: number): number {
    if (off >>> 0 > this.segRLim[seg]!) this.segSlow(seg, off, 1, false);
    const lin = (this.segBase[seg]! + off) | 0;
    const e = this.tlb[lin >>> 12]!;
    if ((e & this.tlbRead) !== 0) return this.ram8[(e & -4096) | (lin & 0xfff)]!;
    return this.mmu.read8(lin);
  }

  rd16(seg: number, off: number): number {
    if ((off >>> 0) + 1 > this.segRLim[seg]!) this.segSlow(seg, off, 2, false);
    const lin = (this.segBase[seg]! + off) | 0;
    const e = this.tlb[lin >>> 12]!;
    if ((e & this.tlbRead) !== 0 && (lin & 1) === 0) return this.ram16[((e & -4096) | (lin & 0xfff)) >>> 1]!;
    return this.mmu.read16(lin);
  }

  rd32(seg: number, off: number): number {
    if ((off >>> 0) + 3 > this.segRLim[seg]!) this.segSlow(seg, off, 4, false);
    const lin = (this.segBase[seg]! + off) | 0;
    const e = this.tlb[lin >>> 12]!;
    if ((e & this.tlbRead) !== 0 && (lin & 3) === 0) return this.ram32[((e & -4096) | (lin & 0xfff)) >>> 2]!;
    return this.mmu.read32(lin);
  }

  wr8(seg: number, off: number, v: number): void {
    if (off >>> 0 > this.segWLim[seg]!) this.segSlow(seg, off, 1, true);
    const lin = (this.segBase[seg]! + off) | 0;
    const e = this.tlb[lin >>> 12]!;
    if ((e & this.tlbWrite) !== 0) this.ram8[(e & -4096) | (lin & 0xfff)] = v;
    else this.mmu.write8(lin, v);
  }

  wr16(seg: number, off: number, v: number): void {
    if ((off >>> 0) + 1 > this.segWLim[seg]!) this.segSlow(seg, off, 2, true);
    const lin = (this.segBase[seg]! + off) | 0;
    const e = this.tlb[lin >>> 12]!;
    if ((e & this.tlbWrite) !== 0 && (lin & 1) === 0) this.ram16[((e & -4096) | (lin & 0xfff)) >>> 1] = v;
    else this.mmu.write16(lin, v);
  }

  wr32(seg: number, off: number, v: number): void {
    if ((off >>> 0) + 3 > this.segWLim[seg]!) this.segSlow(seg, off, 4, true);
    const lin = (this.segBase[seg]! + off) | 0;
    const e = this.tlb[lin >>> 12]!;
    if ((e & this.tlbWrite) !== 0 && (lin & 3) === 0) this.ram32[((e & -4096) | (lin & 0xfff)) >>> 2] = v;
    else this.mmu.write32(lin, v);
  }

  /** Checks that `size` bytes at seg:off may be written (segment and paging) without writing. */
  probeWrite(seg: number, off: number, size: number): void {
    if ((off >>> 0) + size - 1 > this.segWLim[seg]!) this.segSlow(seg, off, size, true);
    this.mmu.probeWrite((this.segBase[seg]! + off) | 0, size);
  }

  // ==== stack ================================================================================

  /** Current stack pointer (ESP or SP by SS.B). */
  getSp(): number {
    return this.ssBig ? this.r32[4]! : this.r16[8]!;
  }

  setSp(v: number): void {
    if (this.ssBig) this.r32[4] = v;
    else this.r16[8] = v;
  }

  /** Stack pointer after moving it by `delta`, wrapped to the stack size. */
  spAdd(delta: number): number {
    return this.ssBig ? (this.r32[4]! + delta) | 0 : (this.r16[8]! + delta) & 0xffff;
  }

  push16(v: number): void {
    const sp = this.spAdd(-2);
    this.wr16(SS, sp, v);
    this.setSp(sp);
  }

  push32(v: number): void {
    const sp = this.spAdd(-4);
    this.wr32(SS, sp, v);
    this.setSp(sp);
  }

  pop16(): number {
    const sp = this.getSp();
    const v = this.rd16(SS, sp);
    this.setSp(sp + 2);
    return v;
  }

  pop32(): number {
    const sp = this.getSp();
    const v = this.rd32(SS, sp);
    this.setSp(sp + 4);
    return v;
  }

  /** Reads the stack `delta` bytes above the stack pointer without popping. */
  peek16(delta: number): number {
    return this.rd16(SS, this.spAdd(delta));
  }

  peek32(delta: number): number {
    return this.rd32(SS, this.spAdd(delta));
  }

  // ==== EFLAGS ===============================================================================

  /** The architectural EFLAGS value. */
  getEflags(): number {
    materializeFlags(this);
    return (this.flags | FLAGS_FIXED_ONE) >>> 0;
  }

  /** Replaces the bits of EFLAGS selected by `mask` (the caller applies privilege rules). */
  setEflags(value: number, mask: number): void {
    materializeFlags(this);
    const old = this.flags;
    const v = (old & ~mask) | (value & mask) | FLAGS_FIXED_ONE;
    this.flags = v;
    if (((old ^ v) & (IF | TF | VM)) !== 0) this.exit = true;
    if (((old ^ v) & VM) !== 0) this.refreshAllSegs();
  }

  get df(): boolean {
    return (this.flags & DF) !== 0;
  }

  // ==== run loop ================================================================================

  /**
   * Executes up to `maxInstructions` instructions and returns how many retired (an exception
   * delivered for a faulting instruction counts as one, so a guest stuck re-faulting still makes
   * progress against the budget). Interrupts are taken between slices: at entry, after anything
   * that may have changed IF or the PIC's output (STI, POPF, IRET, I/O), and after HLT.
   */
  run(maxInstructions: number): number {
    const begin = this.instructionCount;
    const stopAt = begin + maxInstructions;
    this.stopReason = 'limit';
    if (this.shutdown) {
      this.stopReason = 'shutdown';
      return 0;
    }
    while (this.instructionCount < stopAt) {
      // ---- slice boundary -------------------------------------------------------------------
      let sliceStop = stopAt;
      let singleStep = false;
      if (this.shadow) {
        this.shadow = false;
        sliceStop = this.instructionCount + 1;
      } else {
        if (this.pendingIrq >= 0 || ((this.flags & IF) !== 0 && this.pic.hasInterrupt())) {
          if (!this.takeInterrupt()) break;
        }
        if (this.halted) {
          this.stopReason = 'halt';
          break;
        }
        if ((this.flags & TF) !== 0) {
          singleStep = true;
          sliceStop = this.instructionCount + 1;
        }
      }
      if (this.bpArmed || (this.flags & RF) !== 0) {
        // One instruction per slice so each fetch is checked; RF masks the check once and is
        // cleared as that instruction starts (SDM vol. 3A §17.3.1.1).
        sliceStop = this.instructionCount + 1;
        if ((this.flags & RF) !== 0) this.flags &= ~RF;
        else if (this.codeBreakpointHit()) {
          this.instructionCount++;
          if (!this.raiseEvent(EXC_DB, false, 0)) break;
          continue;
        }
      }
      this.exit = false;
      let start = this.eip;
      let faulted = false;
      try {
        let insn = this.lookup(null, start);
        let linPage = this.curLinPage;
        const code32 = this.code32;
        const csBase = this.segBase[CS]!;
        const limEnd = this.segLimit[CS]! + 1;
        for (;;) {
          const end = start + insn.len;
          if (end > limEnd) this.gp(0);
          this.eip = code32 ? end >>> 0 : end & 0xffff;
          insn.exec(this, insn);
          const cnt = this.instructionCount + 1;
          this.instructionCount = cnt;
          if (this.exit || cnt >= sliceStop) break;
          const eip = this.eip;
          if (eip === end) {
            const nx = insn.next;
            if (nx !== null) {
              start = eip;
              insn = nx;
              continue;
            }
          } else {
            const t = insn.target;
            if (t !== null) {
              const lin = (csBase + eip) | 0;
              if (lin >>> 12 === linPage && (lin & 0xfff) === insn.targetOff) {
                start = eip;
                insn = t;
                continue;
              }
            }
          }
          start = eip;
          insn = this.lookup(insn, eip);
          linPage = this.curLinPage;
        }
      } catch (e) {
        this.eip = start;
        if (this.restartEip >= 0) {
          this.eip = this.restartEip;
          this.restartEip = -1;
        }
        faulted = true;
        if (!this.handleFault(e)) break;
      }
      if (singleStep && !faulted && !this.halted) {
        // Single-step trap after the instruction (SDM vol. 3A §17.3.1.4): DR6.BS, EIP = next.
        this.dr[6] |= 1 << 14;
        if (!this.raiseEvent(EXC_DB, false, 0)) break;
      }
    }
    return this.instructionCount - begin;
  }

  /** Recomputes bpArmed after DR7 changes (data and I/O breakpoints are not implemented). */
  armBreakpoints(): void {
    const dr7 = this.dr[7]!;
    let armed = false;
    for (let n = 0; n < 4; n++) {
      if (((dr7 >> (2 * n)) & 3) !== 0 && ((dr7 >>> (16 + 4 * n)) & 3) === 0) armed = true;
    }
    this.bpArmed = armed;
    this.exit = true;
  }

  /**
   * An enabled instruction breakpoint matches the linear address of CS:EIP: DR6 gets B0-B3 for
   * the matches (the other status bits cleared, as Bochs reports it) and true is returned.
   */
  private codeBreakpointHit(): boolean {
    const dr7 = this.dr[7]!;
    const lin = (this.segBase[CS]! + this.eip) | 0;
    let bits = 0;
    for (let n = 0; n < 4; n++) {
      if (((dr7 >> (2 * n)) & 3) !== 0 && ((dr7 >>> (16 + 4 * n)) & 3) === 0 && this.dr[n] === lin) bits |= 1 << n;
    }
    if (bits === 0) return false;
    this.dr[6] = (this.dr[6]! & 0xffff0ff0) | bits;
    return true;
  }

  /** Finds (or decodes and caches) the instruction at CS:eip and links `prev` to it. */
  private lookup(prev: Insn | null, eip: number): Insn {
    const lin = (this.segBase[CS]! + eip) | 0;
    const phys = this.mmu.translateFetch(lin);
    this.curLinPage = lin >>> 12;
    const cp = this.codeCache.pageFor(phys >>> 12);
    if (cp === null) return this.decodeUncached(eip);
    const off = phys & 0xfff;
    const key = this.code32 ? off | 0x1000 : off;
    let insn = cp.insns.get(key);
    if (insn === undefined) {
      insn = new Insn(udHandler);
      const crossed = decodeInstruction(this, insn, eip);
      this.codeCache.decoded++;
      if (crossed) return insn;
      insn.page = cp;
      insn.pageOff = off;
      if (cp.checked) armVerification(this, insn);
      cp.insns.set(key, insn);
    }
    if (prev !== null && prev.page === cp) this.link(prev, insn, cp, off);
    return insn;
  }

  private link(prev: Insn, insn: Insn, cp: CodePage, off: number): void {
    if (insn.page !== cp) return;
    if (prev.pageOff + prev.len === off) prev.next = insn;
    else {
      prev.target = insn;
      prev.targetOff = off;
    }
  }

  private decodeUncached(eip: number): Insn {
    const insn = this.scratch;
    insn.reset(udHandler);
    decodeInstruction(this, insn, eip);
    return insn;
  }

  /** Delivers a pending or newly asserted hardware interrupt. Returns false if run() must stop. */
  private takeInterrupt(): boolean {
    let vector = this.pendingIrq;
    if (vector < 0) {
      vector = this.pic.acknowledge() & 0xff;
      this.pendingIrq = vector;
    }
    this.halted = false;
    const start = this.eip;
    try {
      deliverExternal(this, vector);
      this.pendingIrq = -1;
      return true;
    } catch (e) {
      // The interrupt stays pending if its delivery touched an absent page.
      this.eip = start;
      if (this.restartEip >= 0) {
        this.eip = this.restartEip;
        this.restartEip = -1;
      }
      if (e instanceof PageAbsentError) {
        this.stopReason = 'absent';
        this.absentPage = e.page;
        return false;
      }
      this.pendingIrq = -1;
      return this.handleFault(e);
    }
  }

  /** Turns a thrown fault into its delivery. Returns false if run() must stop. */
  private handleFault(e: unknown): boolean {
    if (e === this.fault) {
      this.instructionCount++;
      return this.raiseEvent(this.fault.vector, this.fault.hasErrorCode, this.fault.errorCode);
    }
    if (e === this.mmu.pageFault) {
      this.cr2 = this.mmu.pageFault.linear | 0;
      this.instructionCount++;
      return this.raiseEvent(EXC_PF, true, this.mmu.pageFault.errorCode);
    }
    if (e instanceof PageAbsentError) {
      this.stopReason = 'absent';
      this.absentPage = e.page;
      return false;
    }
    throw e;
  }

  /**
   * Delivers an exception, turning a fault during delivery into #DF or, during #DF delivery,
   * into shutdown (SDM vol. 3A §6.15 "Interrupt 8"). Returns false if run() must stop.
   */
  raiseEvent(vector: number, hasError: boolean, code: number): boolean {
    let v = vector;
    let he = hasError;
    let ec = code;
    for (;;) {
      try {
        deliverInterrupt(this, v, INT_EXCEPTION, he, ec);
        return true;
      } catch (e) {
        this.restartEip = -1;
        let v2: number;
        let he2 = true;
        let ec2 = 0;
        if (e === this.fault) {
          v2 = this.fault.vector;
          he2 = this.fault.hasErrorCode;
          ec2 = this.fault.errorCode;
        } else if (e === this.mmu.pageFault) {
          this.cr2 = this.mmu.pageFault.linear | 0;
          v2 = EXC_PF;
          ec2 = this.mmu.pageFault.errorCode;
        } else if (e instanceof PageAbsentError) {
          this.stopReason = 'absent';
          this.absentPage = e.page;
          return false;
        } else {
          throw e;
        }
        if (v === EXC_DF) {
          this.enterShutdown();
          return false;
        }
        if ((isContributory(v) && isContributory(v2)) || (v === EXC_PF && (v2 === EXC_PF || isContributory(v2)))) {
          v = EXC_DF;
          he = true;
          ec = 0;
        } else {
          v = v2;
          he = he2;
          ec = ec2;
        }
      }
    }
  }

  /** Triple fault: the processor stops (a PC board would pulse RESET; the board decides). */
  private enterShutdown(): void {
    this.shutdown = true;
    this.halted = true;
    this.stopReason = 'shutdown';
  }

  // ==== state ===================================================================================

  saveState(): StateRecord {
    return saveCpuState(this);
  }

  checkState(record: StateRecord): void {
    checkCpuState(this, record);
  }

  loadState(record: StateRecord): void {
    loadCpuState(this, record);
    this.exit = true;
  }
}

