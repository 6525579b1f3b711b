import { type FieldType, type FieldValue, type StateRecord } from '@ferry86/mmu';
import {
  combineDigest,
  decodeSection,
  DEFAULT_LIMITS,
  encodeSection,
  FrameType,
  PageHashes,
  type DigestSection,
  type MigratablePc,
} from '../src/index.ts';
import { fixHeaderCrc, joinStream, splitStream, type RawFrame } from './stream-frames.ts';

/**
 * Mutations of a valid stream for the restore fuzzers: raw byte damage, framing damage with
 * CRCs fixed up (so the parsers behind the CRC are reached), and — given the source machine —
 * forged section values with the END digest recomputed.
 */
/** mulberry32: small, fast, good enough to pick mutations reproducibly. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HUGE = [0xffffffff, 0xfffffff0, 0x80000000, 0x7fffffff, 0x10000000, 64 << 20, (64 << 20) + 1, 0x1000001];

export interface Mutant {
  bytes: Uint8Array;
  what: string;
  /** A forged case: the digest was recomputed, so acceptance of a different state is legitimate. */
  forged?: string;
}

export class Mutator {
  readonly header: Uint8Array;
  readonly frames: RawFrame[];
  private readonly sections: DigestSection[];
  private readonly pageHashes: PageHashes | null;

  constructor(
    readonly good: Uint8Array,
    /** The machine the stream was saved from; without it no forged cases are made. */
    source: MigratablePc | null,
    private readonly r: () => number,
  ) {
    const s = splitStream(good);
    this.header = s.header;
    this.frames = s.frames;
    this.sections = this.frames
      .filter((f) => f.type === FrameType.Section)
      .map((f, i) => ({ name: decodeSection(f.payload, i, DEFAULT_LIMITS).name, payload: f.payload }));
    this.pageHashes = source ? new PageHashes(source.memory.pageCount) : null;
    this.pageHashes?.setAllFromRam(source!.memory.ram);
  }

  private int(n: number): number {
    return Math.floor(this.r() * n);
  }

  private pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)]!;
  }

  private frameIndex(): number {
    // Favour the small, meaningful frames (sections, zero runs, END) over the many page frames.
    if (this.r() < 0.6) {
      const small = this.frames.map((f, i) => (f.type !== FrameType.Pages ? i : -1)).filter((i) => i >= 0);
      return this.pick(small);
    }
    return this.int(this.frames.length);
  }

  next(): Mutant {
    const good = this.good;
    const kind = this.int(this.pageHashes ? 13 : 12);
    switch (kind) {
      case 0: {
        const b = good.slice();
        const pos = this.int(b.length);
        const bit = this.int(8);
        b[pos]! ^= 1 << bit;
        return { bytes: b, what: `flip bit ${bit} of byte ${pos}` };
      }
      case 1: {
        const b = good.slice();
        const pos = this.int(b.length);
        const v = this.pick([0, 0xff, this.int(256)]);
        b[pos] = v;
        return { bytes: b, what: `byte ${pos} := ${v}` };
      }
      case 2: {
        const n = this.r() < 0.3 ? this.int(200) : this.int(good.length);
        return { bytes: good.slice(0, n), what: `truncate to ${n}` };
      }
      case 3: {
        const pos = this.int(good.length + 1);
        const ins = new Uint8Array(1 + this.int(16)).map(() => this.int(256));
        const b = new Uint8Array(good.length + ins.length);
        b.set(good.subarray(0, pos));
        b.set(ins, pos);
        b.set(good.subarray(pos), pos + ins.length);
        return { bytes: b, what: `insert ${ins.length} bytes at ${pos}` };
      }
      case 4: {
        const pos = this.int(good.length);
        const n = 1 + this.int(64);
        const tail = good.subarray(Math.min(good.length, pos + n));
        const b = new Uint8Array(pos + tail.length);
        b.set(good.subarray(0, pos));
        b.set(tail, pos);
        return { bytes: b, what: `delete ${n} bytes at ${pos}` };
      }
      case 5: {
        // A frame's length field set huge, its CRC left as is (the length is checked first).
        const f = this.frameIndex();
        const b = good.slice();
        const at = this.frameOffset(f) + 8;
        const len = this.frames[f]!.payload.length;
        const v = this.pick([...HUGE, len + 1, len - 1, 0]);
        new DataView(b.buffer).setUint32(at, v >>> 0, true);
        return { bytes: b, what: `frame ${f} length := ${v >>> 0}` };
      }
      case 6: {
        const f = this.frameIndex();
        const to = this.int(this.frames.length + 1);
        const frames = [...this.frames];
        frames.splice(to, 0, this.frames[f]!);
        return { bytes: joinStream(this.header, frames), what: `duplicate frame ${f} at ${to}` };
      }
      case 7: {
        const a = this.frameIndex();
        const c = this.frameIndex();
        const frames = [...this.frames];
        frames[a] = this.frames[c]!;
        frames[c] = this.frames[a]!;
        return { bytes: joinStream(this.header, frames), what: `swap frames ${a} and ${c}` };
      }
      case 8: {
        const f = this.frameIndex();
        const frames = this.frames.filter((_, i) => i !== f);
        return { bytes: joinStream(this.header, frames), what: `drop frame ${f}` };
      }
      case 9:
      case 10: {
        // Payload edits with the CRC fixed: reach the parsers behind the CRC.
        const f = this.frameIndex();
        const frames = [...this.frames];
        const p = this.frames[f]!.payload.slice();
        if (p.length === 0) return this.next();
        let what: string;
        if (kind === 9) {
          const pos = this.int(p.length);
          const bit = this.int(8);
          p[pos]! ^= 1 << bit;
          what = `frame ${f} payload bit ${bit} of byte ${pos} (CRC fixed)`;
        } else {
          const pos = this.int(Math.max(1, p.length - 3));
          const v = this.pick([...HUGE, this.int(65536), 0]);
          for (let k = 0; k < 4 && pos + k < p.length; k++) p[pos + k] = (v >>> (8 * k)) & 0xff;
          what = `frame ${f} payload u32 at ${pos} := ${v >>> 0} (CRC fixed)`;
        }
        const flags = this.r() < 0.05 ? this.int(256) : this.frames[f]!.flags;
        frames[f] = { ...this.frames[f]!, payload: p, flags };
        return { bytes: joinStream(this.header, frames), what: `${what}${flags !== this.frames[f]!.flags ? `, flags ${flags}` : ''}` };
      }
      case 11: {
        // Header body edits with its CRC fixed (page size, page count, producer, configuration).
        const b = good.slice();
        if (this.r() < 0.2) {
          // Format version and header flags (version 1 vs 2, the compression flag, unknown bits).
          const at = 8 + this.int(4);
          const v = this.pick([0, 1, 2, 3, 0x80, 0xff, b[at]! ^ 1]);
          b[at] = v;
          fixHeaderCrc(b);
          return { bytes: b, what: `header byte ${at} := ${v} (CRC fixed)` };
        }
        const bodyEnd = this.header.length - 4;
        const pos = 16 + this.int(bodyEnd - 16);
        if (this.r() < 0.5) {
          const v = this.pick([...HUGE, 0, 1, 2559, 2561]);
          for (let k = 0; k < 4 && pos + k < bodyEnd; k++) b[pos + k] = (v >>> (8 * k)) & 0xff;
        } else {
          b[pos] = this.int(256);
        }
        fixHeaderCrc(b);
        return { bytes: b, what: `header body edit at ${pos} (CRC fixed)` };
      }
      default:
        return this.forge();
    }
  }

  private frameOffset(f: number): number {
    let pos = this.header.length;
    for (let i = 0; i < f; i++) pos += 16 + this.frames[i]!.payload.length;
    return pos;
  }

  /** Rewrites one field of one section and recomputes the END digest to match. */
  private forge(): Mutant {
    const frameIdx = this.frames.map((f, i) => (f.type === FrameType.Section ? i : -1)).filter((i) => i >= 0);
    const fi = this.pick(frameIdx);
    const s = decodeSection(this.frames[fi]!.payload, fi, DEFAULT_LIMITS);
    const names = Object.keys(s.fieldTypes);
    if (names.length === 0) return this.next();
    const field = this.pick(names);
    const type = s.fieldTypes[field]!;
    const record: StateRecord = { ...s.record, [field]: this.mutateValue(type, s.record[field]!) };
    const payload = encodeSection(s.name, { type: s.type, version: s.version, fields: s.fieldTypes, optional: s.optional }, record);
    const frames = [...this.frames];
    frames[fi] = { ...this.frames[fi]!, payload };
    const sections = this.sections.map((x) => (x.name === s.name ? { name: x.name, payload } : x));
    const endAt = frames.length - 1;
    const end = frames[endAt]!.payload.slice();
    const digest = combineDigest(this.pageHashes!, sections);
    const v = new DataView(end.buffer);
    for (let i = 0; i < 4; i++) v.setUint32(4 * i, digest[i]!, true);
    frames[endAt] = { ...frames[endAt]!, payload: end };
    return { bytes: joinStream(this.header, frames), what: `forged ${s.name}.${field} (${type})`, forged: `${s.name}.${field}` };
  }

  private mutateValue(type: FieldType, v: FieldValue): FieldValue {
    const r = this.r;
    const n = (max: number): number => this.pick([0, 1, max, max - 1, Math.floor(r() * (max + 1)), ((v as number) ^ (1 << this.int(32))) >>> 0 & max]);
    switch (type) {
      case 'u8': return n(0xff);
      case 'u16': return n(0xffff);
      case 'u32': return n(0xffffffff) >>> 0;
      case 'i32': return n(0xffffffff) | 0;
      case 'f64': return this.pick([NaN, Infinity, -Infinity, -1, 0, 2 ** 53, 1e300, -0.5, (v as number) + 1, r() * 1e9]);
      case 'bool': return !(v as boolean);
      case 'u64': return this.pick([0n, 1n, (1n << 64n) - 1n, BigInt(this.int(1 << 30))]);
      case 'string': return this.pick(['', 'x', '\u{1F600}', 'a'.repeat(300)]);
      default: {
        const a = v as Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array;
        const C = a.constructor as new (n: number) => typeof a;
        const op = this.int(3);
        if (op === 0 || a.length === 0) {
          const out = new C(Math.max(0, a.length + this.pick([-1, 1, 7, -a.length])));
          out.set(a.subarray(0, Math.min(a.length, out.length)) as never);
          return out;
        }
        const out = a.slice();
        const i = this.int(a.length);
        out[i] = a instanceof Float64Array ? this.pick([NaN, -1, 1e300]) : this.int(2 ** 31);
        return out;
      }
    }
  }
}

