import { describe, expect, it } from 'vitest';
import { IoBus } from '../src/io-bus.ts';
import { CowDisk } from '../src/disk/cow-disk.ts';
import { AtaDrive } from '../src/ata/ata-drive.ts';
import { IdeChannel } from '../src/ata/ide-channel.ts';

/** A channel with one 1 MiB disk (sector s filled with s & 0xFF), its IRQ line recorded. */
function channel() {
  const image = new Uint8Array(2048 * 512);
  for (let s = 0; s < 2048; s++) image.fill(s & 0xff, s * 512, (s + 1) * 512);
  const disk = new CowDisk(image);
  const irq: boolean[] = [];
  const ch = new IdeChannel({ base: 0x1f0, control: 0x3f6, setIrq: (l) => irq.push(l), master: new AtaDrive(disk) });
  const io = new IoBus();
  ch.attach(io);
  const identify = () => {
    io.out8(0x1f7, 0xec);
    const w: number[] = [];
    for (let i = 0; i < 256; i++) w.push(io.in16(0x1f0));
    return w;
  };
  return { ch, io, irq, disk, identify };
}

describe('IdeChannel (ATA/ATAPI-6 PIO protocol details QEMU does not model)', () => {
  it('INITIALIZE DEVICE PARAMETERS sets the CHS translation IDENTIFY words 54-58 report, and CHS addressing uses it', () => {
    const { io, identify } = channel();
    io.out8(0x1f6, 0xa3); // 4 heads
    io.out8(0x1f2, 32); // 32 sectors per track
    io.out8(0x1f7, 0x91);
    expect(io.in8(0x1f7)).toBe(0x50);
    const w = identify();
    expect([w[54], w[55], w[56]]).toEqual([16, 4, 32]); // 2048 / (4 × 32) cylinders
    expect(w[57]! | (w[58]! << 16)).toBe(2048);
    // Cylinder 1, head 2, sector 3 = ((1 × 4) + 2) × 32 + 2 = LBA 194.
    io.out8(0x1f2, 1); io.out8(0x1f3, 3); io.out8(0x1f4, 1); io.out8(0x1f5, 0); io.out8(0x1f6, 0xa2);
    io.out8(0x1f7, 0x20);
    expect(io.in16(0x1f0)).toBe(194 | (194 << 8));
    // A sector number beyond the translation aborts.
    io.out8(0x1f2, 1); io.out8(0x1f3, 33); io.out8(0x1f6, 0xa0);
    io.out8(0x1f7, 0x20);
    expect(io.in8(0x1f7)).toBe(0x41);
  });

  it('nIEN masks INTRQ; clearing it with an interrupt still pending asserts the line (§7.9)', () => {
    const { io, irq } = channel();
    io.out8(0x3f6, 0x02);
    io.out8(0x1f7, 0xe7); // FLUSH CACHE: completes with an interrupt
    expect(irq).toEqual([]);
    io.out8(0x3f6, 0x00);
    expect(irq).toEqual([true]);
    expect(io.in8(0x3f6)).toBe(0x50); // alternate status does not acknowledge
    expect(irq).toEqual([true]);
    io.in8(0x1f7);
    expect(irq).toEqual([true, false]);
  });

  it('SRST holds both devices busy until it is released; commands are ignored meanwhile (§9.2)', () => {
    const { io, irq } = channel();
    io.out8(0x3f6, 0x04);
    expect(io.in8(0x3f6) & 0x80).toBe(0x80);
    io.out8(0x1f7, 0xec);
    expect(io.in8(0x3f6) & 0x08).toBe(0);
    io.out8(0x3f6, 0x00);
    expect(io.in8(0x1f7)).toBe(0x50);
    expect(io.in8(0x1f1)).toBe(0x01);
    expect([io.in8(0x1f2), io.in8(0x1f3), io.in8(0x1f4), io.in8(0x1f5)]).toEqual([1, 1, 0, 0]);
    expect(irq).toEqual([]);
  });

  it('READ/WRITE MULTIPLE abort when multiple mode is off; SET MULTIPLE takes powers of two up to 16', () => {
    const { io, identify } = channel();
    io.out8(0x1f2, 0); io.out8(0x1f7, 0xc6);
    expect(io.in8(0x1f7)).toBe(0x50);
    expect(identify()[59]).toBe(0);
    io.out8(0x1f2, 1); io.out8(0x1f3, 0); io.out8(0x1f4, 0); io.out8(0x1f5, 0); io.out8(0x1f6, 0xe0);
    io.out8(0x1f7, 0xc4);
    expect(io.in8(0x1f7)).toBe(0x41);
    expect(io.in8(0x1f1)).toBe(0x04);
    io.out8(0x1f2, 32); io.out8(0x1f7, 0xc6);
    expect(io.in8(0x1f7)).toBe(0x41);
    io.out8(0x1f2, 8); io.out8(0x1f7, 0xc6);
    expect(identify()[59]).toBe(0x108);
  });

  it('WRITE SECTORS EXT with 48-bit addressing writes where the HOB registers say; READ NATIVE MAX EXT reports the last sector', () => {
    const { io, disk } = channel();
    // LBA 0x000000_000100 written as previous (HOB) then current register contents.
    for (const [port, hob, cur] of [[0x1f2, 0, 2], [0x1f3, 0, 0x00], [0x1f4, 0, 0x01], [0x1f5, 0, 0]] as const) {
      io.out8(port, hob);
      io.out8(port, cur);
    }
    io.out8(0x1f6, 0x40);
    io.out8(0x1f7, 0x34);
    for (let i = 0; i < 512; i++) io.out16(0x1f0, 0xbeef);
    expect(io.in8(0x1f7)).toBe(0x50);
    const b = new Uint8Array(1024);
    disk.readSectors(0x100, 2, b);
    expect(b.every((x, i) => x === (i % 2 === 0 ? 0xef : 0xbe))).toBe(true);
    io.out8(0x1f7, 0x27);
    io.out8(0x3f6, 0x80); // HOB: read the previous contents
    expect([io.in8(0x1f3), io.in8(0x1f4), io.in8(0x1f5)]).toEqual([0, 0, 0]);
    io.out8(0x3f6, 0x00);
    expect([io.in8(0x1f3), io.in8(0x1f4), io.in8(0x1f5)]).toEqual([0xff, 0x07, 0]);
  });

  it('32-bit data port accesses move two words (Linux ata_piix transfers with ioread32_rep)', () => {
    const { io } = channel();
    io.out8(0x1f2, 1); io.out8(0x1f3, 7); io.out8(0x1f4, 0); io.out8(0x1f5, 0); io.out8(0x1f6, 0xe0);
    io.out8(0x1f7, 0x20);
    for (let i = 0; i < 128; i++) expect(io.in32(0x1f0) >>> 0).toBe(0x07070707);
    expect(io.in8(0x1f7)).toBe(0x50);
    expect(io.in16(0x1f0)).toBe(0xffff); // nothing to transfer: the data bus floats
  });
});
