import { describe, expect, it } from 'vitest';
import { CowDisk, DiskImageMismatchError, loadMultiboot, PcMachine } from '@ferry86/devices';
import {
  createLoopbackPair, MigratablePc, MigrationSource, MigrationTarget,
  createPcMachine, decodeSection, DEFAULT_LIMITS, encodeSection, IncrementalSnapshotter, restoreSnapshot, restoreSnapshotChain,
  saveSnapshot, SnapshotFormatError, stateDigest,
} from '../src/index.ts';
import { FrameType } from '../src/format/constants.ts';
import { joinStream, splitStream } from './stream-frames.ts';
import { assemble } from '../../devices/test/guests.ts';
import { ataTestImage } from '../../devices/test/guests/ata-qemu.mjs';

const MIB = 8;

function diskPc(image: Uint8Array): MigratablePc {
  return createPcMachine({ memoryMiB: MIB, disks: { primaryMaster: image } });
}

/** WRITE SECTORS through the primary channel's ports, as a guest driver would. */
function ataWrite(pc: PcMachine, lba: number, data: Uint8Array): void {
  const io = pc.io;
  io.out8(0x1f2, data.length / 512);
  io.out8(0x1f3, lba & 0xff);
  io.out8(0x1f4, (lba >>> 8) & 0xff);
  io.out8(0x1f5, (lba >>> 16) & 0xff);
  io.out8(0x1f6, 0xe0 | ((lba >>> 24) & 0x0f));
  io.out8(0x1f7, 0x30);
  for (let i = 0; i < data.length; i += 2) io.out16(0x1f0, data[i]! | (data[i + 1]! << 8));
  expect(io.in8(0x1f7)).toBe(0x50);
}

function filled(sectors: number, seed: number): Uint8Array {
  const b = new Uint8Array(sectors * 512);
  for (let i = 0; i < b.length; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

/** The disk section of a snapshot, decoded. */
function diskSection(bytes: Uint8Array) {
  const { frames } = splitStream(bytes);
  for (const [i, f] of frames.entries()) {
    if (f.type !== FrameType.Section) continue;
    const s = decodeSection(f.payload, i, DEFAULT_LIMITS);
    if (s.name === 'disk-primary-master') return s;
  }
  throw new Error('no disk section');
}

/** Replaces the disk section's record (re-encoded, fresh CRCs: only the meaning is wrong). */
function withDiskRecord(bytes: Uint8Array, edit: (r: Record<string, unknown>) => void): Uint8Array {
  const { header, frames } = splitStream(bytes);
  const disk = new CowDisk(new Uint8Array(512));
  const out = frames.map((f, i) => {
    if (f.type !== FrameType.Section) return f;
    const s = decodeSection(f.payload, i, DEFAULT_LIMITS);
    if (s.name !== 'disk-primary-master') return f;
    const r = { ...s.record } as Record<string, unknown>;
    edit(r);
    return { ...f, payload: encodeSection(s.name, disk.schema, r as never) };
  });
  return joinStream(header, out);
}

function errorOf(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}

describe('disk overlays in snapshots', () => {
  it('a full snapshot carries the overlay; restored, the disk reads back what was written and the digest matches', () => {
    const image = ataTestImage();
    const a = diskPc(image);
    ataWrite(a.pc, 3, filled(2, 1));
    ataWrite(a.pc, 100, filled(1, 2));
    const snap = saveSnapshot(a);
    const b = diskPc(image);
    const r = restoreSnapshot(b, snap);
    expect(r.digest).toBe(stateDigest(a));
    expect(stateDigest(b)).toBe(stateDigest(a));
    const back = new Uint8Array(1024);
    b.pc.disks.primaryMaster!.readSectors(3, 2, back);
    expect(Buffer.compare(back, filled(2, 1))).toBe(0);
    expect([...b.pc.disks.primaryMaster!.overlayBlocks()]).toEqual([0, 12]);
    // The digest covers the overlay: one more byte written changes it.
    ataWrite(a.pc, 101, filled(1, 3));
    expect(stateDigest(a)).not.toBe(stateDigest(b));
  });

  it('an incremental chain carries only the blocks written since its parent and rebuilds the overlay exactly', () => {
    const image = ataTestImage();
    const a = diskPc(image);
    loadMultiboot(a.pc, assemble('ata'), '');
    const chain = new IncrementalSnapshotter(a);
    const s0 = chain.saveBytes('s0');
    // The ATA guest writes sectors 3-4 and 8-11 (blocks 0 and 1).
    for (let i = 0; i < 50 && a.pc.cpu.instructionCount < 2_000_000; i++) {
      const e = a.run(100_000);
      if (e.reason === 'halted') break;
    }
    const s1 = chain.saveBytes('s1');
    ataWrite(a.pc, 1000, filled(3, 4)); // block 125
    const s2 = chain.saveBytes('s2');
    const s3 = chain.saveBytes('s3'); // nothing written
    expect(s2.info.digest).toBe(stateDigest(a));

    const rec = (s: { bytes: Uint8Array }) => diskSection(s.bytes).record;
    expect(rec(s0).delta).toBe(false);
    expect([s0, s1, s2, s3].map((x) => x.info.deltaUnits['disk-primary-master'])).toEqual([0, 2, 1, 0]);
    expect([...(rec(s1).blocks as Uint32Array)]).toEqual([0, 1]);
    expect(rec(s1).delta).toBe(true);
    expect([...(rec(s2).blocks as Uint32Array)]).toEqual([125]);
    expect((rec(s2).data as Uint8Array).length).toBe(4096);
    expect(rec(s2).overlayBlocks).toBe(3);
    expect([...(rec(s3).blocks as Uint32Array)]).toEqual([]);

    const b = diskPc(image);
    const r = restoreSnapshotChain(b, [s0.bytes, s1.bytes, s2.bytes, s3.bytes]);
    expect(r.digest).toBe(s3.info.digest);
    expect(stateDigest(b)).toBe(stateDigest(a));
    const da = a.pc.disks.primaryMaster!;
    const db = b.pc.disks.primaryMaster!;
    expect([...db.overlayBlocks()]).toEqual([...da.overlayBlocks()]);
    const ea = new Uint8Array(image.length);
    const eb = new Uint8Array(image.length);
    da.read(0, ea);
    db.read(0, eb);
    expect(Buffer.compare(ea, eb)).toBe(0);
    // Restoring a prefix of the chain gives that snapshot's disk.
    const c = diskPc(image);
    restoreSnapshotChain(c, [s0.bytes, s1.bytes]);
    expect([...c.pc.disks.primaryMaster!.overlayBlocks()]).toEqual([0, 1]);
  });

  it('a save that is rolled back leaves its blocks for the next one', () => {
    const image = ataTestImage();
    const a = diskPc(image);
    const chain = new IncrementalSnapshotter(a);
    const s0 = chain.saveBytes('s0');
    ataWrite(a.pc, 40, filled(1, 5)); // block 5
    expect(() => chain.save(() => {
      throw new Error('disk full');
    }, 'lost')).toThrow('disk full');
    const s1 = chain.saveBytes('s1');
    expect([...(diskSection(s1.bytes).record.blocks as Uint32Array)]).toEqual([5]);
    const b = diskPc(image);
    restoreSnapshotChain(b, [s0.bytes, s1.bytes]);
    expect(stateDigest(b)).toBe(stateDigest(a));
  });

  it('a delta restored without its parent is refused', () => {
    const image = ataTestImage();
    const a = diskPc(image);
    const chain = new IncrementalSnapshotter(a);
    chain.saveBytes('s0');
    ataWrite(a.pc, 8, filled(1, 6));
    const s1 = chain.saveBytes('s1');
    const e = errorOf(() => restoreSnapshot(diskPc(image), s1.bytes));
    expect(e).toBeInstanceOf(SnapshotFormatError);
    expect((e as SnapshotFormatError).code).toBe('parent-mismatch');
  });

  it('an overlay made over another base image is refused with DiskImageMismatchError, the machine untouched', () => {
    const image = ataTestImage();
    const a = diskPc(image);
    ataWrite(a.pc, 3, filled(1, 7));
    const snap = saveSnapshot(a);
    const other = image.slice();
    other[12345] ^= 1; // same size, one bit different
    const b = diskPc(other);
    ataWrite(b.pc, 9, filled(1, 8));
    const before = stateDigest(b);
    const e = errorOf(() => restoreSnapshot(b, snap));
    expect(e).toBeInstanceOf(SnapshotFormatError);
    expect((e as SnapshotFormatError).code).toBe('bad-section');
    expect((e as Error).cause).toBeInstanceOf(DiskImageMismatchError);
    expect((e as Error).message).toMatch(/base image/);
    expect(stateDigest(b)).toBe(before);
    // A different size is a different machine configuration.
    const c = diskPc(new Uint8Array(image.length * 2));
    const e2 = errorOf(() => restoreSnapshot(c, snap));
    expect((e2 as SnapshotFormatError).code).toBe('config-mismatch');
  });

  it('corrupted overlay records give typed errors and change nothing', () => {
    const image = ataTestImage();
    const a = diskPc(image);
    ataWrite(a.pc, 3, filled(1, 9));
    ataWrite(a.pc, 64, filled(1, 10));
    const snap = saveSnapshot(a);
    const cases: [string, (r: Record<string, unknown>) => void, RegExp][] = [
      ['truncated data', (r) => { r.data = (r.data as Uint8Array).subarray(0, 4000); }, /overlay data is 4000 bytes/],
      ['block past the end', (r) => { r.blocks = Uint32Array.of(0, 600); }, /past the end of the disk/],
      ['unsorted blocks', (r) => { r.blocks = Uint32Array.of(8, 0); }, /strictly ascending/],
      ['wrong block size', (r) => { r.blockSize = 512; }, /512-byte blocks/],
      ['wrong count', (r) => { r.overlayBlocks = 7; }, /overlayBlocks 7/],
      ['delta alone', (r) => { r.delta = true; }, /parent/],
    ];
    for (const [what, edit, msg] of cases) {
      const b = diskPc(image);
      const before = stateDigest(b);
      const e = errorOf(() => restoreSnapshot(b, withDiskRecord(snap, edit)));
      expect(e, what).toBeInstanceOf(SnapshotFormatError);
      expect((e as Error).message, what).toMatch(msg);
      expect(stateDigest(b), what).toBe(before);
    }
  });

  it('the CowDisk keeps the base untouched and several dirty logs independent', () => {
    const base = ataTestImage().subarray(0, 64 * 512);
    const copy = base.slice();
    const d = new CowDisk(base, { blockSize: 4096 });
    const l1 = d.createDirtyLog('one');
    d.write(4096 * 2 + 10, Uint8Array.of(1, 2, 3));
    const l2 = d.createDirtyLog('two');
    d.write(4096 - 1, Uint8Array.of(9, 9)); // straddles blocks 0 and 1
    expect([...l1.collect()]).toEqual([0, 1, 2]);
    expect([...l1.collect()]).toEqual([]);
    expect([...l2.collect()]).toEqual([0, 1]);
    l2.markDirty([3]);
    expect([...l2.collect()]).toEqual([3]);
    l2.dispose();
    d.write(0, Uint8Array.of(7));
    expect([...l1.collect()]).toEqual([0]);
    expect(Buffer.compare(base, copy)).toBe(0);
    const r = new Uint8Array(8);
    d.read(4096 - 4, r);
    expect([...r]).toEqual([...copy.subarray(4092, 4095), 9, 9, ...copy.subarray(4097, 4100)]);
    expect(d.overlayBlockCount).toBe(3);
    expect(() => d.read(base.length - 1, new Uint8Array(2))).toThrow(/outside the disk/);
    d.discardOverlay();
    d.read(0, r);
    expect([...r]).toEqual([...copy.subarray(0, 8)]);
  });

  it('live migration carries the overlay of a disk the guest is writing to', async () => {
    const image = ataTestImage();
    const run = (m: MigratablePc, sink: (s: string) => void) => {
      m.setSerialOutput((x) => sink(String.fromCharCode(x)));
    };
    const finish = (m: MigratablePc) => {
      for (let i = 0; i < 100; i++) if (m.run(200_000).reason === 'halted') break;
    };
    // The uninterrupted run.
    const ref = diskPc(image);
    let refOut = '';
    run(ref, (c) => (refOut += c));
    loadMultiboot(ref.pc, assemble('ata'), '');
    finish(ref);
    expect(refOut).toContain('ata done');

    const src = diskPc(image);
    let out = '';
    run(src, (c) => (out += c));
    loadMultiboot(src.pc, assemble('ata'), '');
    src.run(520_000); // the guest has written sectors 3-4; WRITE MULTIPLE (sectors 8-11) is still to come
    const source = new MigrationSource(src, { sliceInstructions: 20_000, stepBytes: 64 * 1024 });
    const tgt = new MigrationTarget<MigratablePc>({
      // The stream names the disk by size; the destination supplies the same base image.
      createMachine: (c) => new MigratablePc(new PcMachine({ ...(c as object), disks: { primaryMaster: image } })),
    });
    const [a, b] = createLoopbackPair();
    const received = tgt.receive(b);
    const stats = await source.migrate(a);
    const { machine: dst } = await received;
    expect(stats.status).toBe('completed');
    expect(stateDigest(dst)).toBe(stateDigest(src));
    expect([...dst.pc.disks.primaryMaster!.overlayBlocks()]).toEqual([...src.pc.disks.primaryMaster!.overlayBlocks()]);
    expect(dst.pc.disks.primaryMaster!.overlayBlockCount).toBeGreaterThan(0);
    // The destination finishes the guest: together the two print what the uninterrupted run did,
    // and end in its state.
    run(dst, (c) => (out += c));
    finish(dst);
    expect(out).toBe(refOut);
    expect(stateDigest(dst)).toBe(stateDigest(ref));
    expect([...dst.pc.disks.primaryMaster!.overlayBlocks()]).toEqual([0, 1]);
  });
});
