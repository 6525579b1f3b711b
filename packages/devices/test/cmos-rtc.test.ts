import { describe, expect, it } from 'vitest';
import { StateError, loadStateful } from '@ferry86/mmu';
import { CmosRtc, DEFAULT_RTC_START_MS } from '../src/cmos-rtc.ts';
import { IoBus } from '../src/io-bus.ts';
import { PcMachine } from '../src/pc-machine.ts';
import { VirtualClock } from '../src/virtual-clock.ts';

interface Rig {
  clock: VirtualClock;
  rtc: CmosRtc;
  bus: IoBus;
  /** Times (ns) at which IRQ# rose. */
  edges: number[];
  read(i: number): number;
  write(i: number, v: number): void;
}

function rig(startMs = DEFAULT_RTC_START_MS, ramBytes = 64 * 1048576): Rig {
  const clock = new VirtualClock();
  const bus = new IoBus();
  const edges: number[] = [];
  const rtc = new CmosRtc({ clock, setIrq: (l) => l && edges.push(clock.nowNs()), startMs, ramBytes });
  rtc.attach(bus);
  return {
    clock, rtc, bus, edges,
    read(i) {
      bus.out8(0x70, i);
      return bus.in8(0x71);
    },
    write(i, v) {
      bus.out8(0x70, i);
      bus.out8(0x71, v);
    },
  };
}

/** The seven time/date registers: sec, min, hour, weekday, day, month, year, then the century. */
const timeRegs = (r: Rig) => [0, 2, 4, 6, 7, 8, 9, 0x32].map((i) => r.read(i));

describe('MC146818A time keeping', () => {
  it('starts at the configured date, in BCD and 24-hour mode as the BIOS leaves it', () => {
    const r = rig(); // 2024-01-01 00:00:00 UTC, a Monday
    expect(timeRegs(r)).toEqual([0x00, 0x00, 0x00, 0x02, 0x01, 0x01, 0x24, 0x20]);
    expect(r.read(0x0b)).toBe(0x02);
    expect(r.read(0x0d)).toBe(0x80); // VRT: the battery is fine
  });

  it('advances with guest time, never with wall time', () => {
    const r = rig(Date.UTC(1999, 11, 31, 23, 59, 58));
    r.clock.skipTo(2.5e9);
    // 2000-01-01 00:00:00 + 0.5 s: the century byte rolls over too. Saturday = 7.
    expect(timeRegs(r)).toEqual([0x00, 0x00, 0x00, 0x07, 0x01, 0x01, 0x00, 0x20]);
    r.clock.skipTo(3600e9 + 2.5e9);
    expect(r.read(4)).toBe(0x01);
  });

  it('reads binary and 12-hour formats as register B selects', () => {
    const r = rig(Date.UTC(2024, 2, 5, 13, 5, 9));
    r.write(0x0b, 0x04); // binary, 12-hour
    expect(timeRegs(r)).toEqual([9, 5, 0x81, 3, 5, 3, 24, 20]); // 1 PM
    r.write(0x0b, 0x00); // BCD, 12-hour
    expect(r.read(4)).toBe(0x81);
    r.write(0x0b, 0x06); // binary, 24-hour
    expect(r.read(4)).toBe(13);
  });

  it('lets software set the time with SET and keeps counting from it', () => {
    const r = rig();
    r.clock.skipTo(5.25e9);
    r.write(0x0b, 0x82); // SET: freeze
    expect(r.read(0)).toBe(0x05);
    r.clock.skipTo(9e9);
    expect(r.read(0)).toBe(0x05); // stopped while SET
    // Day before month: 31 while the month register still says January-but-written-later is fine.
    r.write(7, 0x31);
    r.write(8, 0x12);
    r.write(9, 0x98);
    r.write(0x32, 0x19);
    r.write(4, 0x23);
    r.write(2, 0x59);
    r.write(0, 0x59);
    r.write(0x0b, 0x02); // release
    expect(timeRegs(r).slice(0, 3)).toEqual([0x59, 0x59, 0x23]);
    r.clock.skipTo(10e9);
    expect(timeRegs(r)).toEqual([0x00, 0x00, 0x00, 0x06, 0x01, 0x01, 0x99, 0x19]); // 1999-01-01 Friday
    expect(r.rtc.currentTimeMs()).toBe(Date.UTC(1999, 0, 1));
  });

  it('raises UIP only in the 244 µs + 1984 µs before each second boundary', () => {
    const r = rig();
    const uip = (t: number) => {
      r.clock.skipTo(t);
      return (r.read(0x0a) & 0x80) !== 0;
    };
    expect(uip(0.5e9)).toBe(false);
    expect(uip(1e9 - 2.3e6)).toBe(false);
    expect(uip(1e9 - 2.2e6)).toBe(true);
    expect(uip(1e9 - 1e3)).toBe(true);
    expect(r.read(0)).toBe(0x00); // the seconds have not moved yet
    expect(uip(1e9)).toBe(false);
    expect(r.read(0)).toBe(0x01);
    r.write(0x0b, 0x82);
    expect(uip(2e9 - 1e6)).toBe(false); // SET stops updates, and UIP with them
  });

  it('starts the first update half a second after the divider leaves reset', () => {
    const r = rig();
    r.clock.skipTo(0.3e9);
    r.write(0x0a, 0x70 | 0x06); // divider reset
    r.clock.skipTo(5e9);
    expect(r.read(0)).toBe(0x00);
    r.write(0x0a, 0x26);
    r.clock.skipTo(5.49e9);
    expect(r.read(0)).toBe(0x00);
    r.clock.skipTo(5.5e9);
    expect(r.read(0)).toBe(0x01);
  });
});

describe('MC146818A interrupts', () => {
  it('delivers the periodic interrupt at the rate select frequency, re-armed by reading C', () => {
    const r = rig();
    r.write(0x0a, 0x26); // RS = 6: 1024 Hz
    r.write(0x0b, 0x42); // PIE
    let count = 0;
    while (r.clock.nextEventNs() <= 1e9) {
      r.clock.skipToNextEvent();
      if (r.rtc.irq) {
        count++;
        expect(r.read(0x0c) & 0xc0).toBe(0xc0); // IRQF | PF
        expect(r.rtc.irq).toBe(false);
      }
    }
    expect(count).toBe(1024);
    expect(r.edges[0]).toBeCloseTo(1e9 / 1024, 3);
  });

  it('uses the datasheet periods for every rate, including the 256 Hz and 128 Hz specials', () => {
    for (const [rs, hz] of [[1, 256], [2, 128], [3, 8192], [0x0f, 2]] as const) {
      const r = rig();
      r.write(0x0a, 0x20 | rs);
      r.write(0x0b, 0x42);
      r.clock.skipToNextEvent();
      expect(r.edges[0]).toBeCloseTo(1e9 / hz, 3);
    }
    const off = rig();
    off.write(0x0a, 0x20);
    off.write(0x0b, 0x42);
    expect(off.clock.nextEventNs()).toBe(Infinity); // RS = 0: no periodic interrupt
  });

  it('holds the IRQ until register C is read, and clears C on read', () => {
    const r = rig();
    r.write(0x0b, 0x42);
    r.clock.skipToNextEvent();
    r.clock.skipTo(r.clock.nowNs() + 50e6); // many periods, no read
    expect(r.edges.length).toBe(1);
    expect(r.read(0x0c)).toBe(0xc0);
    expect(r.read(0x0c)).toBe(0x00);
  });

  it('sets PF even with PIE off, without scheduling events', () => {
    const r = rig();
    expect(r.clock.nextEventNs()).toBe(Infinity);
    r.clock.skipTo(10e6);
    expect(r.read(0x0c)).toBe(0x40); // PF, but no IRQF
    expect(r.edges.length).toBe(0);
  });

  it('signals update-ended once a second with UIE', () => {
    const r = rig();
    r.clock.skipTo(0.2e9);
    r.read(0x0c);
    r.write(0x0b, 0x12);
    r.clock.skipToNextEvent();
    expect(r.clock.nowNs()).toBe(1e9);
    expect(r.read(0x0c) & 0xb0).toBe(0x90); // IRQF | UF (PF is set too: it runs without PIE)
    r.clock.skipToNextEvent();
    expect(r.clock.nowNs()).toBe(2e9);
    expect(r.edges).toEqual([1e9, 2e9]);
  });

  it('fires the alarm when h:m:s match, with 0xC0-0xFF as "don\'t care"', () => {
    const r = rig();
    r.write(1, 0x05); // 00:00:05
    r.write(3, 0x00);
    r.write(5, 0x00);
    r.write(0x0b, 0x22); // AIE
    for (let s = 1; s <= 6; s++) {
      r.clock.skipTo(s * 1e9);
      const c = r.read(0x0c);
      expect((c & 0x20) !== 0).toBe(s === 5);
    }
    expect(r.edges).toEqual([5e9]);
    // Every second.
    r.write(1, 0xc0);
    r.write(3, 0xff);
    r.write(5, 0xc0);
    r.clock.skipTo(7e9);
    expect(r.read(0x0c) & 0xa0).toBe(0xa0);
  });

  it('reaches the CPU as IRQ8 through the slave PIC', () => {
    const m = new PcMachine({ memoryMiB: 4 });
    m.io.out8(0xa1, 0xff);
    m.io.out8(0x70, 0x0b);
    m.io.out8(0x71, 0x42);
    m.clock.skipTo(1e6);
    expect(m.pic.slave.irr & 1).toBe(1);
  });
});

describe('CMOS RAM', () => {
  it('holds the BIOS memory-size fields and the century', () => {
    const r = rig(DEFAULT_RTC_START_MS, 64 * 1048576);
    const w = (lo: number) => r.read(lo) | (r.read(lo + 1) << 8);
    expect(w(0x15)).toBe(640);
    expect(w(0x17)).toBe(63 * 1024);
    expect(w(0x30)).toBe(63 * 1024);
    expect(w(0x34)).toBe(48 * 16); // 64 KiB units above 16 MiB
    expect(r.read(0x32)).toBe(0x20);
    const big = rig(DEFAULT_RTC_START_MS, 2048 * 1048576);
    expect(big.read(0x17) | (big.read(0x18) << 8)).toBe(0xffff); // saturates
  });

  it('stores the other bytes, masks NMI with bit 7 of the index and keeps RAM across RESET#', () => {
    const r = rig();
    r.write(0x0f, 0x0a); // shutdown status byte
    r.write(0x7f, 0x5a);
    r.bus.out8(0x70, 0x80 | 0x7f);
    expect(r.rtc.nmiMasked).toBe(true);
    expect(r.bus.in8(0x71)).toBe(0x5a);
    r.write(0x0b, 0x72);
    r.rtc.reset();
    expect(r.read(0x0f)).toBe(0x0a);
    expect(r.read(0x0b)).toBe(0x02); // PIE/AIE/UIE cleared by RESET#
    expect(r.rtc.nmiMasked).toBe(false);
  });
});

describe('MC146818A state', () => {
  it('restores to the same time, flags and pending interrupt', () => {
    const a = rig();
    a.write(0x0b, 0x42);
    a.write(0x40, 0x77);
    a.clock.skipTo(0.4e9 + 1);
    const rtcRec = a.rtc.saveState();
    const clockRec = a.clock.saveState();
    const b = rig(Date.UTC(2030, 0, 1));
    loadStateful(b.clock, clockRec);
    loadStateful(b.rtc, rtcRec);
    expect(timeRegs(b)).toEqual(timeRegs(a));
    expect(b.read(0x40)).toBe(0x77);
    a.clock.skipToNextEvent();
    b.clock.skipToNextEvent();
    expect(b.clock.nowNs()).toBe(a.clock.nowNs());
    expect(b.read(0x0c)).toBe(a.read(0x0c));
  });

  it('rejects a bad record without changing anything', () => {
    const r = rig();
    r.write(0x40, 1);
    const rec = { ...r.rtc.saveState(), ram: new Uint8Array(64) };
    expect(() => loadStateful(r.rtc, rec)).toThrow(StateError);
    expect(r.read(0x40)).toBe(1);
  });
});
