/**
 * The PC's 64 KiB I/O port space (Intel SDM vol. 1 §19: I/O address space).
 *
 * Dispatch is one array load per access: six tables of 65536 functions, one per width and
 * direction, filled with defaults that either split the access into narrower ones or answer
 * "nothing here". A device that only decodes bytes still sees a 16/32-bit access, as byte
 * accesses to consecutive ports (what the ISA bus does with an 8-bit device); a port nobody
 * claims reads all-ones (the floating ISA data bus) and ignores writes.
 */
import type { IoPorts } from '@ferry86/cpu';
import type { SectionSchema, StateRecord, Stateful } from '@ferry86/mmu';
import { checkSchema, require, str } from './stateful-util.ts';

export type PortIn = (port: number) => number;
export type PortOut = (port: number, value: number) => void;

/** The accessors a device provides for one port or a range of ports. All are optional. */
export interface PortHandlers {
  in8?: PortIn;
  out8?: PortOut;
  in16?: PortIn;
  out16?: PortOut;
  in32?: PortIn;
  out32?: PortOut;
}

/** A port is claimed twice for the same access width: two devices would answer one address. */
export class PortConflictError extends Error {
  override readonly name = 'PortConflictError';
  constructor(readonly port: number, readonly width: 8 | 16 | 32, readonly owner: string, readonly claimant: string) {
    super(`I/O port 0x${port.toString(16)} (${width}-bit) is already claimed by "${owner}"; "${claimant}" cannot claim it too`);
  }
}

const IO_BUS_SCHEMA: SectionSchema = {
  type: 'io-bus',
  version: 1,
  // The bus holds no guest state. It records which ports were decoded so that a snapshot is
  // refused by a machine wired differently, instead of silently losing a device.
  fields: { layout: 'string' },
};

const PORTS = 0x10000;

export class IoBus implements IoPorts, Stateful {
  readonly sectionName: string;
  readonly schema = IO_BUS_SCHEMA;

  private readonly r8: PortIn[] = new Array<PortIn>(PORTS);
  private readonly w8: PortOut[] = new Array<PortOut>(PORTS);
  private readonly r16: PortIn[] = new Array<PortIn>(PORTS);
  private readonly w16: PortOut[] = new Array<PortOut>(PORTS);
  private readonly r32: PortIn[] = new Array<PortIn>(PORTS);
  private readonly w32: PortOut[] = new Array<PortOut>(PORTS);
  /** Owner name per port and width (index = width code * 65536 + port), '' when unclaimed. */
  private readonly owners: string[] = new Array<string>(3 * PORTS).fill('');

  // Defaults, created once. Splitting goes back through the tables, so a 32-bit access to a
  // byte-wide device becomes two 16-bit accesses which become four byte accesses.
  private readonly unassignedIn8: PortIn = () => 0xff;
  private readonly unassignedOut: PortOut = () => {};
  private readonly splitIn16: PortIn = (port) =>
    this.r8[port]!(port) | (this.r8[(port + 1) & 0xffff]!((port + 1) & 0xffff) << 8);
  private readonly splitOut16: PortOut = (port, v) => {
    this.w8[port]!(port, v & 0xff);
    const p1 = (port + 1) & 0xffff;
    this.w8[p1]!(p1, (v >>> 8) & 0xff);
  };
  private readonly splitIn32: PortIn = (port) => {
    const p2 = (port + 2) & 0xffff;
    return (this.r16[port]!(port) | (this.r16[p2]!(p2) << 16)) >>> 0;
  };
  private readonly splitOut32: PortOut = (port, v) => {
    this.w16[port]!(port, v & 0xffff);
    const p2 = (port + 2) & 0xffff;
    this.w16[p2]!(p2, (v >>> 16) & 0xffff);
  };

  constructor(sectionName = 'io-bus') {
    this.sectionName = sectionName;
    this.r8.fill(this.unassignedIn8);
    this.w8.fill(this.unassignedOut);
    this.r16.fill(this.splitIn16);
    this.w16.fill(this.splitOut16);
    this.r32.fill(this.splitIn32);
    this.w32.fill(this.splitOut32);
  }

  // ---- IoPorts (the CPU's IN/OUT) ---------------------------------------------------------------

  in8(port: number): number {
    port &= 0xffff;
    return this.r8[port]!(port) & 0xff;
  }

  in16(port: number): number {
    port &= 0xffff;
    return this.r16[port]!(port) & 0xffff;
  }

  in32(port: number): number {
    port &= 0xffff;
    return this.r32[port]!(port) >>> 0;
  }

  out8(port: number, value: number): void {
    port &= 0xffff;
    this.w8[port]!(port, value & 0xff);
  }

  out16(port: number, value: number): void {
    port &= 0xffff;
    this.w16[port]!(port, value & 0xffff);
  }

  out32(port: number, value: number): void {
    port &= 0xffff;
    this.w32[port]!(port, value >>> 0);
  }

  // ---- wiring -----------------------------------------------------------------------------------

  /**
   * Claims `count` consecutive ports starting at `port` for `owner`. Each handler is installed for
   * every port of the range and receives the absolute port number. Throws PortConflictError (and
   * installs nothing) if any width it provides is already claimed on any of those ports.
   */
  register(port: number, handlers: PortHandlers, owner = 'device', count = 1): void {
    checkRange(port, count);
    const widths = presentWidths(handlers);
    for (let p = port; p < port + count; p++) {
      for (const w of widths) {
        const current = this.owners[w * PORTS + p]!;
        if (current !== '') throw new PortConflictError(p, WIDTH_BITS[w]!, current, owner);
      }
    }
    // Bound once here so that handlers written as object methods keep their `this`.
    const h = bindAll(handlers);
    for (let p = port; p < port + count; p++) {
      if (h.in8 || h.out8) {
        this.r8[p] = h.in8 ?? this.unassignedIn8;
        this.w8[p] = h.out8 ?? this.unassignedOut;
        this.owners[p] = owner;
      }
      if (h.in16 || h.out16) {
        this.r16[p] = h.in16 ?? this.splitIn16;
        this.w16[p] = h.out16 ?? this.splitOut16;
        this.owners[PORTS + p] = owner;
      }
      if (h.in32 || h.out32) {
        this.r32[p] = h.in32 ?? this.splitIn32;
        this.w32[p] = h.out32 ?? this.splitOut32;
        this.owners[2 * PORTS + p] = owner;
      }
    }
  }

  /** Releases `count` ports from `port` (all widths), whoever claimed them. */
  unregister(port: number, count = 1): void {
    checkRange(port, count);
    for (let p = port; p < port + count; p++) {
      this.r8[p] = this.unassignedIn8;
      this.w8[p] = this.unassignedOut;
      this.r16[p] = this.splitIn16;
      this.w16[p] = this.splitOut16;
      this.r32[p] = this.splitIn32;
      this.w32[p] = this.splitOut32;
      this.owners[p] = '';
      this.owners[PORTS + p] = '';
      this.owners[2 * PORTS + p] = '';
    }
  }

  /** Who claimed `port` for the given width ('' if nobody). */
  ownerOf(port: number, width: 8 | 16 | 32 = 8): string {
    return this.owners[WIDTH_CODE[width] * PORTS + (port & 0xffff)]!;
  }

  /** A compact description of the claimed ports: "owner:width:first-last" runs, sorted. */
  layout(): string {
    const runs: string[] = [];
    for (let w = 0; w < 3; w++) {
      let p = 0;
      while (p < PORTS) {
        const owner = this.owners[w * PORTS + p]!;
        if (owner === '') {
          p++;
          continue;
        }
        let end = p;
        while (end + 1 < PORTS && this.owners[w * PORTS + end + 1] === owner) end++;
        runs.push(`${owner}:${WIDTH_BITS[w]}:${hex(p)}-${hex(end)}`);
        p = end + 1;
      }
    }
    return runs.join(',');
  }

  // ---- Stateful ---------------------------------------------------------------------------------

  saveState(): StateRecord {
    return { layout: this.layout() };
  }

  checkState(record: StateRecord): void {
    checkSchema(this.sectionName, this.schema, record);
    const theirs = str(record, 'layout');
    const ours = this.layout();
    require(this.sectionName, theirs === ours,
      `the snapshot's machine decodes I/O ports differently (snapshot: ${theirs || 'none'}; this machine: ${ours || 'none'})`);
  }

  loadState(record: StateRecord): void {
    this.checkState(record);
  }
}

const WIDTH_BITS = [8, 16, 32] as const;
const WIDTH_CODE = { 8: 0, 16: 1, 32: 2 } as const;

function bindAll(h: PortHandlers): PortHandlers {
  const b: PortHandlers = {};
  if (h.in8) b.in8 = h.in8.bind(h);
  if (h.out8) b.out8 = h.out8.bind(h);
  if (h.in16) b.in16 = h.in16.bind(h);
  if (h.out16) b.out16 = h.out16.bind(h);
  if (h.in32) b.in32 = h.in32.bind(h);
  if (h.out32) b.out32 = h.out32.bind(h);
  return b;
}

function presentWidths(h: PortHandlers): number[] {
  const widths: number[] = [];
  if (h.in8 || h.out8) widths.push(0);
  if (h.in16 || h.out16) widths.push(1);
  if (h.in32 || h.out32) widths.push(2);
  if (widths.length === 0) throw new RangeError('register() needs at least one port handler');
  return widths;
}

function checkRange(port: number, count: number): void {
  if (!Number.isInteger(port) || !Number.isInteger(count) || port < 0 || count < 1 || port + count > PORTS) {
    throw new RangeError(`I/O port range 0x${port.toString(16)}+${count} is outside 0..0xffff`);
  }
}

function hex(n: number): string {
  return n.toString(16).padStart(4, '0');
}
