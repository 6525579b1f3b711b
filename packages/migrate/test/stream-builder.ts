import {
  combineDigest,
  encodeHeader,
  encodeSection,
  PageHashes,
  RamWriter,
  StreamEncoder,
  type DigestSection,
} from '../src/index.ts';
import type { Stateful } from '@ferry86/mmu';
import type { FakeMachine } from './fake-machine.ts';

export interface BuildOptions {
  /** Replace the machine's parts (to send other schemas/versions/sections). */
  parts?: Stateful[];
  /** Extra raw sections (payloads) to send. */
  extraSections?: DigestSection[];
  /** Override the digest written to END. */
  digest?: Uint32Array;
  /** Called after the pages, before the sections, to add frames. */
  beforeSections?: (enc: StreamEncoder) => number | void;
  pageCount?: number;
  config?: object;
  skipPages?: boolean;
}

/** Builds a stream frame by frame, so tests can make streams that are valid except for one thing. */
export function buildStream(m: FakeMachine, o: BuildOptions = {}): Uint8Array {
  const chunks: Uint8Array[] = [];
  const enc = new StreamEncoder((c) => chunks.push(c), { chunkSize: 64 * 1024 });
  const pageCount = o.pageCount ?? m.memory.pageCount;
  enc.raw(encodeHeader('test', o.config ?? m.config, pageCount));
  const hashes = new PageHashes(m.memory.pageCount);
  const ram = new RamWriter(m.memory.ram, enc, hashes);
  if (!o.skipPages) ram.writeAll(m.memory.pageCount);
  const extraRecords = o.beforeSections?.(enc) ?? 0;
  const parts = o.parts ?? m.stateParts();
  const sections: DigestSection[] = parts.map((p) => ({ name: p.sectionName, payload: encodeSection(p.sectionName, p.schema, p.saveState()) }));
  sections.push(...(o.extraSections ?? []));
  for (const s of sections) enc.section(s.payload);
  enc.end(o.digest ?? combineDigest(hashes, sections), sections.length, ram.zeroPages + ram.fullPages + extraRecords);
  enc.flush();
  return new Uint8Array(Buffer.concat(chunks));
}

/** Byte offsets where frames start (and the stream end), parsed from the framing alone. */
export function frameBoundaries(bytes: Uint8Array): number[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 16 + v.getUint32(12, true) + 4;
  const out = [pos];
  while (pos < bytes.length) {
    pos += 12 + v.getUint32(pos + 8, true) + 4;
    out.push(pos);
  }
  return out;
}
