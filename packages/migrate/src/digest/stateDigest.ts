import { encodeSection } from '../format/section-codec.ts';
import { allParts, type MigratableMachine } from '../machine.ts';
import type { Stateful } from '@ferry86/mmu';
import { hashBytes, hashToHex, hashWords } from './hash128.ts';
import { PageHashes } from './PageHashes.ts';

/** Domain tag: "F86D" so a digest never equals a plain hash of the same words. */
const DIGEST_TAG = 0x44363846;

/** A section's contribution to the digest: its name and canonical payload. */
export interface DigestSection {
  readonly name: string;
  readonly payload: Uint8Array;
}

/**
 * The whole-state digest (DESIGN §2.5): one 128-bit hash over the per-page hash table and the
 * canonical encodings of all sections in name order. Field order never matters (payloads are
 * canonical); section order never matters (sorted here). Integrity, not security (hash128.ts).
 */
export function combineDigest(pages: PageHashes, sections: readonly DigestSection[]): Uint32Array {
  const sorted = [...sections].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const words = new Uint32Array(4 + pages.table.length + 4 * sorted.length);
  words[0] = DIGEST_TAG;
  words[1] = pages.pageCount;
  words[2] = sorted.length;
  words.set(pages.table, 4);
  let o = 4 + pages.table.length;
  for (const s of sorted) {
    hashBytes(s.payload, words, o);
    o += 4;
  }
  const out = new Uint32Array(4);
  hashWords(words, 0, words.length, words.length * 4, out, 0);
  return out;
}

export function digestEquals(a: Uint32Array, b: Uint32Array): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3];
}

export { hashToHex as digestToHex };

/** Canonical encodings of the parts' current state, as a snapshot would carry them. */
export function encodeParts(parts: readonly Stateful[]): DigestSection[] {
  return parts.map((p) => ({ name: p.sectionName, payload: encodeSection(p.sectionName, p.schema, p.saveState()) }));
}

/**
 * Digest of a machine's current state (all RAM and every part), as hex. Two machines with equal
 * digests hold the same RAM and the same saved state; tests compare a migrated guest with its
 * source this way. Costs one pass over RAM (GB/s).
 */
export function stateDigest(machine: MigratableMachine, extraParts: readonly Stateful[] = []): string {
  const pages = new PageHashes(machine.memory.pageCount);
  pages.setAllFromRam(machine.memory.ram);
  return hashToHex(combineDigest(pages, encodeParts(allParts(machine, extraParts))));
}
