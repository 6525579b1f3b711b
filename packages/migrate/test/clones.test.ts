/**
 * One snapshot, many machines (issue 5 item 2): SnapshotImage decodes a snapshot once and
 * restores it into any number of fresh machines; each clone is a complete, independent copy
 * that continues exactly like the original.
 */
import { describe, expect, it } from 'vitest';
import { createPcMachine, openSnapshotImage, saveSnapshot, SnapshotFormatError, SnapshotImage, stateDigest } from '../src/index.ts';
import { bootToyos, runTo } from './toyos-machine.ts';

describe('clones of one snapshot', () => {
  it('three clones run on independently and each reaches the original’s digest', async () => {
    const { m: original, out } = bootToyos(3_000_000, 'workers=2 pages=8');
    const at = original.instructionCount;
    const img = await openSnapshotImage(new Blob([saveSnapshot(original, { compress: true }) as Uint8Array<ArrayBuffer>]), { chunkBytes: 32 * 1024 });
    expect(img.digest).toBe(stateDigest(original));
    const clones = [0, 1, 2].map(() => img.clone(createPcMachine));
    for (const c of clones) expect(stateDigest(c)).toBe(img.digest);

    // The original runs on; its later state is what every clone must reach.
    const outAt = out().length;
    runTo(original, at + 600_000);
    const later = stateDigest(original);
    const laterOut = out().slice(outAt);

    // Clone 0 runs first, alone: the others must not move.
    let text0 = '';
    clones[0]!.setSerialOutput((b) => (text0 += String.fromCharCode(b)));
    runTo(clones[0]!, at + 600_000);
    expect(stateDigest(clones[0]!)).toBe(later);
    expect(text0).toBe(laterOut);
    expect(stateDigest(clones[1]!)).toBe(img.digest);
    // Scribbling on clone 1's RAM does not reach clone 2 (nothing is shared).
    clones[1]!.memory.ram[0x1000] ^= 0xff;
    expect(stateDigest(clones[2]!)).toBe(img.digest);
    clones[1]!.memory.ram[0x1000] ^= 0xff;
    for (const c of clones.slice(1)) {
      runTo(c, at + 600_000);
      expect(stateDigest(c)).toBe(later);
    }
  });

  it('restoreInto an existing machine; a damaged image is refused before anything changes', () => {
    const { m: original } = bootToyos(2_000_000, 'workers=2 pages=8');
    const bytes = saveSnapshot(original);
    const img = SnapshotImage.fromBytes(bytes);
    const { m: other } = bootToyos(1_000_000, 'workers=2 pages=8');
    expect(img.restoreInto(other).digest).toBe(stateDigest(original));
    expect(stateDigest(other)).toBe(stateDigest(original));
    // An image of another configuration is refused, the target untouched.
    const small = createPcMachine({ memoryMiB: 4 });
    const before = stateDigest(small);
    expect(() => img.restoreInto(small)).toThrow(SnapshotFormatError);
    expect(stateDigest(small)).toBe(before);
    const bad = bytes.slice();
    bad[bad.length - 30]! ^= 1;
    expect(() => SnapshotImage.fromBytes(bad)).toThrow(SnapshotFormatError);
  });
});
