import { describe, expect, it } from 'vitest';
import { crc32c, hashBytes, hashToHex, MigrationError, SerialAssembler } from '../src/index.ts';
import { SendWindow, ZERO_PAGE_WORK } from '../src/migration/SendWindow.ts';

describe('checksums', () => {
  it('CRC-32C matches the standard check value and is the same for any split', () => {
    const data = new TextEncoder().encode('123456789');
    expect(crc32c(data)).toBe(0xe3069283);
    const big = new Uint8Array(10_000).map((_, i) => (i * 7) & 0xff);
    const whole = crc32c(big);
    for (const cut of [1, 63, 64, 65, 5000]) expect(crc32c(big, cut, big.length, crc32c(big, 0, cut))).toBe(whole);
    expect(crc32c(big.subarray(3))).toBe(crc32c(big, 3)); // unaligned views
  });

  it('the state hash sees every byte and the length', () => {
    const a = new Uint8Array(4096);
    const h = (b: Uint8Array): string => {
      const out = new Uint32Array(4);
      hashBytes(b, out);
      return hashToHex(out);
    };
    const base = h(a);
    const seen = new Set([base]);
    for (const i of [0, 1, 2047, 4095]) {
      const b = a.slice();
      b[i] = 1;
      seen.add(h(b));
    }
    seen.add(h(a.subarray(0, 4095)));
    expect(seen.size).toBe(6);
    expect(h(a.subarray(1))).toBe(h(new Uint8Array(4095))); // alignment does not matter
  });
});

describe('SendWindow', () => {
  it('counts zero pages as work, frees the window on ACKs and refuses ACKs for unsent bytes', () => {
    const w = new SendWindow(10_000);
    w.sent(1000, 0);
    w.sent(100, 16); // a chunk of zero runs
    expect(w.inFlight).toBe(1100 + 16 * ZERO_PAGE_WORK);
    expect(w.open).toBe(true);
    w.sent(100, 32);
    expect(w.open).toBe(false);
    w.acked(1100, 5, 0);
    expect(w.inFlight).toBe(100 + 16 * ZERO_PAGE_WORK);
    expect(w.receiverRate()).toBe((1100 * 1000) / 5);
    expect(() => w.acked(5000, 6, 0)).toThrow(MigrationError);
  });
});

describe('SerialAssembler', () => {
  it('delivers every byte once and in order whatever the arrival order and overlap', () => {
    const text = 'the quick brown fox jumps over the lazy dog';
    const b = new TextEncoder().encode(text);
    let out = '';
    const s = new SerialAssembler((x) => (out += new TextDecoder().decode(x)));
    s.push({ seq: 10, data: b.slice(10, 20) });
    s.push({ seq: 30, data: b.slice(30) });
    expect(out).toBe('');
    s.push({ seq: 0, data: b.slice(0, 12) });
    expect(out).toBe(text.slice(0, 20));
    s.push({ seq: 0, data: b.slice(0, 5) }); // duplicate
    s.push({ seq: 15, data: b.slice(15, 35) }); // overlaps both sides
    expect(out).toBe(text);
    expect(s.next).toBe(b.length);
  });
});
