import { describe, expect, it } from 'vitest';
import { restoreSnapshot, saveSnapshot, snapshotChunks, stateDigest, SnapshotFormatError } from '../src/index.ts';
import { FakeMachine, scribble } from './fake-machine.ts';

function machine(): FakeMachine {
  const m = new FakeMachine({ ramKiB: 1024, hotPages: 16 });
  scribble(m);
  m.run(5000);
  return m;
}

describe('snapshot round trip', () => {
  it('restores RAM and every section exactly, and the digests agree', () => {
    const src = machine();
    const bytes = saveSnapshot(src);
    const dst = new FakeMachine({ ramKiB: 1024, hotPages: 16 });
    dst.run(777); // different state that must be replaced entirely
    const r = restoreSnapshot(dst, bytes);
    expect(Buffer.from(dst.memory.ram).equals(Buffer.from(src.memory.ram))).toBe(true);
    expect(dst.cpu.saveState()).toEqual(src.cpu.saveState());
    expect(dst.dev.saveState()).toEqual(src.dev.saveState());
    expect(r.digest).toBe(stateDigest(src));
    expect(stateDigest(dst)).toBe(stateDigest(src));
    // And the restored machine continues identically.
    src.run(1000);
    dst.run(1000);
    expect(stateDigest(dst)).toBe(stateDigest(src));
  });

  it('elides zero pages: a mostly empty machine makes a small snapshot', () => {
    const m = new FakeMachine({ ramKiB: 4096, hotPages: 4 });
    m.memory.writeBytes(5 * 4096 + 1, Uint8Array.of(9));
    const bytes = saveSnapshot(m);
    expect(bytes.length).toBeLessThan(3 * 4096);
    const dst = new FakeMachine({ ramKiB: 4096, hotPages: 4 });
    dst.memory.writeBytes(0, new Uint8Array(dst.memory.ramSize).fill(0xaa));
    restoreSnapshot(dst, bytes);
    expect(Buffer.from(dst.memory.ram).equals(Buffer.from(m.memory.ram))).toBe(true);
  });

  it('streams the same bytes in chunks and restores from chunks of any size', () => {
    const src = machine();
    const whole = saveSnapshot(src, { chunkSize: 64 * 1024 });
    const chunks = [...snapshotChunks(src, { chunkSize: 64 * 1024 })];
    expect(chunks.length).toBeGreaterThan(3);
    expect(Buffer.concat(chunks).equals(Buffer.from(whole))).toBe(true);
    for (const size of [1, 7, 4096, 100_003]) {
      const pieces: Uint8Array[] = [];
      for (let i = 0; i < whole.length; i += size) pieces.push(whole.slice(i, i + size));
      const dst = new FakeMachine({ ramKiB: 1024, hotPages: 16 });
      restoreSnapshot(dst, pieces);
      expect(stateDigest(dst)).toBe(stateDigest(src));
    }
  });

  it('refuses a snapshot of another machine configuration', () => {
    const bytes = saveSnapshot(machine());
    const other = new FakeMachine({ ramKiB: 1024, hotPages: 8 });
    const before = stateDigest(other);
    expect(() => restoreSnapshot(other, bytes)).toThrow(SnapshotFormatError);
    try {
      restoreSnapshot(other, bytes);
    } catch (e) {
      expect((e as SnapshotFormatError).code).toBe('config-mismatch');
    }
    expect(stateDigest(other)).toBe(before);
  });
});
