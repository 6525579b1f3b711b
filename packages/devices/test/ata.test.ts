import { describe, expect, it } from 'vitest';
import { loadStateful, type StateRecord } from '@ferry86/mmu';
import { PcMachine, type RunExit } from '../src/pc-machine.ts';
import { loadMultiboot } from '../src/multiboot.ts';
import { CowDisk } from '../src/disk/cow-disk.ts';
import { assemble, reference } from './guests.ts';
// The same image the reference transcript was recorded with (guests/ata-qemu.mjs).
import { ataTestImage, referenceTranscript } from './guests/ata-qemu.mjs';

const text = (bytes: number[]) => String.fromCharCode(...bytes);

function boot(image: Uint8Array) {
  const m = new PcMachine({ memoryMiB: 32, disks: { primaryMaster: image } });
  const out: number[] = [];
  m.onSerialOutput((b) => out.push(b));
  loadMultiboot(m, assemble('ata'), '');
  return { m, out };
}

function runUntil(m: PcMachine, out: number[], marker: string, step = 1_000_000): RunExit {
  for (let i = 0; i < 2000; i++) {
    const exit = m.run(step);
    if (text(out).includes(marker)) return exit;
    if (exit.reason === 'limit' || (exit.reason === 'idle' && exit.waitMs === 0)) continue;
    return exit;
  }
  throw new Error(`"${marker}" never came; output:\n${text(out)}`);
}

describe('ATA disk on the primary IDE channel', () => {
  it('answers the ATA register protocol exactly as QEMU does (guests/ata.asm)', () => {
    const image = ataTestImage();
    const pristine = image.slice();
    const { m, out } = boot(image);
    runUntil(m, out, 'ata done\n');
    expect(text(out)).toBe(reference('ata.qemu.txt'));
    // The guest wrote sectors 3-4 and 8-11: they are in the overlay, the base image is untouched.
    expect(Buffer.compare(image, pristine)).toBe(0);
    const disk = m.disks.primaryMaster!;
    expect([...disk.overlayBlocks()]).toEqual([0, 1]); // 4 KiB blocks: sectors 0-7 and 8-15
    const s3 = new Uint8Array(512);
    disk.readSectors(3, 1, s3);
    expect(s3[0]).toBe(0x00);
    expect(s3[1]).toBe(0xc0); // first word of the guest's pattern, 0xC000
    const s2 = new Uint8Array(512);
    disk.readSectors(2, 1, s2);
    expect(Buffer.compare(s2, pristine.subarray(1024, 1536))).toBe(0);
  });

  it('the recorded transcript is what qemu-system-i386 prints now', async () => {
    expect(await referenceTranscript()).toBe(reference('ata.qemu.txt'));
  }, 120_000);

  it('is found as the PIIX3 IDE function 00:01.1 (8086:7010, legacy mode, no BMDMA BAR)', () => {
    const m = new PcMachine({ disks: { primaryMaster: ataTestImage() } });
    const cfg = (dev: number, fn: number, off: number) => {
      m.io.out32(0xcf8, (0x80000000 | (dev << 11) | (fn << 8) | off) >>> 0);
      return m.io.in32(0xcfc) >>> 0;
    };
    expect(cfg(1, 1, 0)).toBe(0x70108086);
    expect(cfg(1, 1, 8) >>> 8).toBe(0x010180);
    expect(cfg(1, 1, 0x20)).toBe(0); // BAR4 (bus master) not implemented: hard-wired 0
    m.io.out32(0xcf8, 0x80000000 | (1 << 11) | (1 << 8) | 0x20);
    m.io.out32(0xcfc, 0xffffffff);
    expect(cfg(1, 1, 0x20)).toBe(0);
    expect(cfg(1, 1, 0x40) & 0xffff).toBe(0x8000); // IDETIM: primary channel decode enabled
    expect(m.config.disks).toEqual({ primaryMaster: { sectors: 4096 } });
  });

  it('without disks the machine has no IDE controller: the ports float (0xFF)', () => {
    const m = new PcMachine();
    expect(m.io.in8(0x1f7)).toBe(0xff);
    expect(m.io.in8(0x3f6)).toBe(0xff);
    m.io.out32(0xcf8, 0x80000000 | (1 << 11) | (1 << 8));
    expect(m.io.in32(0xcfc) >>> 0).toBe(0xffffffff);
    expect('disks' in m.config).toBe(false);
    expect(m.stateParts().some((p) => p.sectionName.startsWith('ide'))).toBe(false);
  });

  it('a state saved in the middle of a multi-sector PIO transfer continues exactly where it was', () => {
    const image = ataTestImage();
    const a = new PcMachine({ disks: { primaryMaster: image } });
    const io = a.io;
    // READ SECTORS LBA 5, 3 sectors, then read half of the second sector.
    io.out8(0x1f2, 3); io.out8(0x1f3, 5); io.out8(0x1f4, 0); io.out8(0x1f5, 0); io.out8(0x1f6, 0xe0); io.out8(0x1f7, 0x20);
    const words: number[] = [];
    for (let i = 0; i < 256 + 128; i++) words.push(a.io.in16(0x1f0));
    const saved: [string, StateRecord][] = a.stateParts().map((p) => [p.sectionName, p.saveState()]);
    const b = new PcMachine({ disks: { primaryMaster: image } });
    const parts = new Map(b.stateParts().map((p) => [p.sectionName, p]));
    for (const [name, rec] of saved) loadStateful(parts.get(name)!, rec);
    const rest = (m: PcMachine) => {
      const w: number[] = [];
      for (let i = 0; i < 128 + 256; i++) {
        if (i === 128) expect(m.io.in8(0x1f7)).toBe(0x58); // DRQ for the third sector
        w.push(m.io.in16(0x1f0));
      }
      return { w, status: m.io.in8(0x1f7) };
    };
    const fromA = rest(a);
    const fromB = rest(b);
    expect(fromB).toEqual(fromA);
    expect(fromA.status).toBe(0x50);
    const all = [...words, ...fromA.w];
    const expected = image.subarray(5 * 512, 8 * 512);
    expect(all.every((w, i) => w === (expected[2 * i]! | (expected[2 * i + 1]! << 8)))).toBe(true);
  });

  it('refuses channel state for a different wiring and impossible transfer positions', () => {
    const m = new PcMachine({ disks: { primaryMaster: ataTestImage() } });
    const ide = m.ide!;
    const rec = ide.saveState();
    expect(() => ide.checkState({ ...rec, drives: '11' })).toThrow(/drives "11"/);
    expect(() => ide.checkState({ ...rec, xfer: 1, pos: 600, end: 512 })).toThrow(/data position/);
    expect(() => ide.checkState({ ...rec, xfer: 2, device: 0xe0, end: 512, pos: 0, nextLba: 4096, remaining: 1 })).toThrow(/past the end/);
  });

  it('a CowDisk given in the configuration is used as is', () => {
    const disk = new CowDisk(ataTestImage(), { sectionName: 'boot-disk' });
    const m = new PcMachine({ disks: { primaryMaster: disk } });
    expect(m.disks.primaryMaster).toBe(disk);
    expect(m.stateParts().includes(disk)).toBe(true);
    expect(() => new PcMachine({ disks: { primaryMaster: { sectors: 4096 } as unknown as Uint8Array } })).toThrow(/supply the same base image/);
  });
});
