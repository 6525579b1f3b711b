import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  DISK_MODULES, LOOP_EXPECTED, S_IFCHR, S_IFDIR, S_IFLNK, S_IFREG, buildCpio, buildInitramfs, buildModulesArchive, knownData,
} from './initramfs.ts';

interface Parsed {
  name: string;
  mode: number;
  rdev: [number, number];
  data: Uint8Array;
}

/** An independent newc reader (buffer-format.rst): 110-byte ASCII header, name, data, 4-byte padding. */
function parseNewc(a: Uint8Array): Parsed[] {
  const out: Parsed[] = [];
  const dec = new TextDecoder('latin1');
  let o = 0;
  for (;;) {
    const h = dec.decode(a.subarray(o, o + 110));
    if (!h.startsWith('070701')) throw new Error(`bad magic at ${o}`);
    const f = (i: number) => parseInt(h.slice(6 + i * 8, 14 + i * 8), 16);
    const namesize = f(11);
    const filesize = f(6);
    const name = dec.decode(a.subarray(o + 110, o + 110 + namesize - 1));
    o = (o + 110 + namesize + 3) & ~3;
    const data = a.slice(o, o + filesize);
    o = (o + filesize + 3) & ~3;
    if (name === 'TRAILER!!!') return out;
    out.push({ name, mode: f(1), rdev: [f(9), f(10)], data });
  }
}

describe('initramfs builder', () => {
  it('writes newc records an independent reader parses back, ending with the trailer', () => {
    const a = buildCpio([
      { name: 'd', mode: S_IFDIR | 0o755 },
      { name: 'd/f', mode: S_IFREG | 0o644, data: Uint8Array.from([1, 2, 3, 4, 5]) },
      { name: 'dev/console', mode: S_IFCHR | 0o600, rdevMajor: 5, rdevMinor: 1 },
    ]);
    expect(a.length % 4).toBe(0);
    const p = parseNewc(a);
    expect(p.map((e) => e.name)).toEqual(['d', 'd/f', 'dev/console']);
    expect(Array.from(p[1]!.data)).toEqual([1, 2, 3, 4, 5]);
    expect(p[2]!.rdev).toEqual([5, 1]);
  });

  it('holds busybox, the sh link, the known data and an /init that checks its digest', () => {
    const busybox = new Uint8Array(1001).fill(0x90);
    const p = parseNewc(buildInitramfs(busybox));
    const byName = new Map(p.map((e) => [e.name, e]));
    expect(byName.get('bin/busybox')!.data).toEqual(busybox);
    expect(byName.get('bin/busybox')!.mode & 0o111).toBe(0o111);
    expect(new TextDecoder().decode(byName.get('bin/sh')!.data)).toBe('busybox');
    expect(byName.get('bin/sh')!.mode & 0o170000).toBe(S_IFLNK);
    const init = new TextDecoder().decode(byName.get('init')!.data);
    expect(init.startsWith('#!/bin/sh\n')).toBe(true);
    expect(init).toContain(createHash('sha256').update(knownData()).digest('hex'));
    expect(init).toContain(String(LOOP_EXPECTED));
    expect(init.trimEnd().endsWith('reboot -f')).toBe(true);
    // The loop's expected value is the sum of squares below 1000.
    let s = 0;
    for (let i = 0; i < 1000; i++) s += i * i;
    expect(s).toBe(LOOP_EXPECTED);
  });

  it('puts the disk modules in /lib/modules, and /init loads every one of them in dependency order', () => {
    const p = parseNewc(buildModulesArchive((m) => new TextEncoder().encode(`module ${m}`)));
    const files = p.filter((e) => (e.mode & 0o170000) === S_IFREG);
    expect(files.map((e) => e.name)).toEqual(DISK_MODULES.map((m) => `lib/modules/${m.split('/').at(-1)}`));
    expect(new TextDecoder().decode(files.at(-1)!.data)).toBe('module fs/ext4/ext4.ko');
    const init = new TextDecoder().decode(parseNewc(buildInitramfs(new Uint8Array(4))).find((e) => e.name === 'init')!.data);
    const loop = /for m in ([^;]*); do\n\s*insmod/.exec(init);
    expect(loop, 'the insmod loop of /init').not.toBeNull();
    const order = loop![1]!.split(' ');
    expect(order).toEqual(DISK_MODULES.map((m) => m.split('/').at(-1)));
    // Each module after what it needs (the "depends=" lines of Debian's 6.1 modules).
    const before = (a: string, b: string) => expect(order.indexOf(a), `${a} before ${b}`).toBeLessThan(order.indexOf(b));
    before('scsi_mod.ko', 'libata.ko');
    before('libata.ko', 'ata_piix.ko');
    before('t10-pi.ko', 'sd_mod.ko');
    before('jbd2.ko', 'ext4.ko');
    before('crc32c_generic.ko', 'ext4.ko');
  });
});
