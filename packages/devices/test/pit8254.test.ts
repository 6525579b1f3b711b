import { describe, expect, it } from 'vitest';
import { StateError } from '@ferry86/mmu';
import { IoBus } from '../src/io-bus.ts';
import { PIT_HZ, Pit8254, pitNsToTick, pitTickToNs } from '../src/pit8254.ts';
import { VirtualClock } from '../src/virtual-clock.ts';

function setup(nsPerInstruction = 10) {
  const clock = new VirtualClock({ nsPerInstruction });
  const edges: { level: boolean; tick: number; ns: number }[] = [];
  const pit = new Pit8254(clock, { onIrq0: (level) => edges.push({ level, tick: pitNsToTick(clock.nowNs()), ns: clock.nowNs() }) });
  const bus = new IoBus();
  pit.attach(bus);
  const at = (tick: number) => clock.skipTo(pitTickToNs(tick));
  return { clock, pit, bus, edges, at };
}

/** Control word then a lo/hi count for counter `c`. */
function program(bus: IoBus, c: number, mode: number, count: number, bcd = false) {
  bus.out8(0x43, (c << 6) | 0x30 | (mode << 1) | (bcd ? 1 : 0));
  bus.out8(0x40 + c, count & 0xff);
  bus.out8(0x40 + c, count >> 8);
}

function readCount(bus: IoBus, c: number): number {
  bus.out8(0x43, c << 6); // counter latch command
  return bus.in8(0x40 + c) | (bus.in8(0x40 + c) << 8);
}

describe('Pit8254', () => {
  it('tick <-> ns conversion is exact at every edge', () => {
    for (const t of [0, 1, 2, 1193, 65536, 1193182, 123456789, 9e12]) {
      expect(pitNsToTick(pitTickToNs(t))).toBe(t);
      if (t > 0) expect(pitNsToTick(pitTickToNs(t) - 400)).toBe(t - 1);
    }
    expect(pitTickToNs(PIT_HZ)).toBeCloseTo(1e9, 3);
  });

  it('is idle at power-on: no IRQ0 activity, no clock events', () => {
    const { clock, edges } = setup();
    expect(clock.nextEventNs()).toBe(Infinity);
    clock.advance(10_000_000);
    expect(edges).toEqual([]);
  });

  it('mode 2 rate generator: IRQ0 rises every N clocks, scheduled as clock events', () => {
    const { clock, bus, edges } = setup();
    program(bus, 0, 2, 1193);
    // Loaded on edge 1; OUT low when the count is 1 (edge 1193) and high on reload (edge 1194).
    for (let i = 0; i < 6; i++) clock.skipToNextEvent();
    // The control word sets OUT high at once (mode 2's initial state).
    expect(edges.map((e) => [e.level, e.tick])).toEqual([
      [true, 0], [false, 1193], [true, 1194], [false, 1193 * 2], [true, 1193 * 2 + 1], [false, 1193 * 3], [true, 1193 * 3 + 1],
    ]);
    for (const e of edges) expect(e.ns).toBe(pitTickToNs(e.tick));
  });

  it('fires IRQ0 at the same guest time whatever the run loop slicing, to the instruction', () => {
    const run = (slice: (i: number) => number) => {
      const { clock, bus, edges } = setup(7);
      program(bus, 0, 3, 597);
      let i = 0;
      while (clock.nowNs() < 5e6) {
        const n = Math.max(1, Math.min(slice(i++), clock.instructionsUntilNextEvent()));
        clock.advance(n);
      }
      return edges.map((e) => `${e.level}@${e.ns}`);
    };
    const a = run(() => 100_000);
    const b = run((i) => 1 + ((i * 7919) % 3001));
    expect(a.length).toBeGreaterThan(20);
    expect(b).toEqual(a);
  });

  it('mode 0: OUT low after the control word, high N+1 clocks after the count is written; count readable', () => {
    const { pit, bus, at } = setup();
    bus.out8(0x43, 0x30);
    expect(pit.getOutput(0)).toBe(false);
    bus.out8(0x40, 100);
    bus.out8(0x40, 0);
    at(1);
    expect(readCount(bus, 0)).toBe(100);
    at(51);
    expect(readCount(bus, 0)).toBe(50);
    at(100);
    expect(pit.getOutput(0)).toBe(false);
    at(101);
    expect(pit.getOutput(0)).toBe(true);
    at(111);
    expect(readCount(bus, 0)).toBe(0x10000 - 10); // keeps counting down past zero
    expect(pit.getOutput(0)).toBe(true);
  });

  it('mode 0: writing the first byte of a new count stops counting and drops OUT at once', () => {
    const { pit, bus, at } = setup();
    program(bus, 0, 0, 10);
    at(20);
    expect(pit.getOutput(0)).toBe(true);
    bus.out8(0x40, 50);
    expect(pit.getOutput(0)).toBe(false);
    const held = readCount(bus, 0);
    at(40);
    expect(readCount(bus, 0)).toBe(held);
    bus.out8(0x40, 0);
    at(40 + 51);
    expect(pit.getOutput(0)).toBe(true);
  });

  it('counter latch freezes the count until it is read; a second latch is ignored', () => {
    const { bus, at } = setup();
    program(bus, 0, 2, 1000);
    at(101);
    bus.out8(0x43, 0x00);
    at(301);
    bus.out8(0x43, 0x00); // ignored: a count is already latched
    expect(bus.in8(0x40) | (bus.in8(0x40) << 8)).toBe(900);
    expect(readCount(bus, 0)).toBe(700);
  });

  it('read-back command latches status (OUT, NULL COUNT, RW, mode, BCD) and counts of several counters', () => {
    const { bus, at } = setup();
    bus.out8(0x43, 0xb6); // counter 2, lo/hi, mode 3, binary
    bus.out8(0x43, 0xe8); // read-back status of counter 2
    expect(bus.in8(0x42)).toBe(0x40 | 0x80 | 0x36); // null count, OUT high (mode 3 initial)
    bus.out8(0x42, 0x00); bus.out8(0x42, 0x10);
    program(bus, 1, 2, 300);
    at(1);
    // Status and count of counters 1 and 2 at once: status is read first, then the count.
    bus.out8(0x43, 0xcc);
    expect(bus.in8(0x41)).toBe(0x80 | 0x34);
    expect(bus.in8(0x41) | (bus.in8(0x41) << 8)).toBe(300);
    // Gate 2 is low: in mode 3 the count is not loaded until GATE rises, so NULL COUNT stays set.
    expect(bus.in8(0x42)).toBe(0x80 | 0x40 | 0x36);
  });

  it('live reads without a latch follow the access mode (LSB then MSB)', () => {
    const { bus, at } = setup();
    program(bus, 0, 2, 0x1234);
    at(1);
    expect(bus.in8(0x40)).toBe(0x34);
    expect(bus.in8(0x40)).toBe(0x12);
  });

  it('LSB-only and MSB-only access modes', () => {
    const { bus, at } = setup();
    bus.out8(0x43, 0x14); // counter 0, LSB only, mode 2
    bus.out8(0x40, 0x80);
    at(1);
    expect(bus.in8(0x40)).toBe(0x80);
    bus.out8(0x43, 0x24); // MSB only
    bus.out8(0x40, 0x02); // written at edge 1, loaded on edge 2
    at(2);
    expect(bus.in8(0x40)).toBe(0x02); // 0x0200 read as its MSB
  });

  it('BCD counting: count 0x0100 is one hundred clocks and reads back as BCD digits', () => {
    const { pit, bus, at } = setup();
    program(bus, 0, 0, 0x0100, true);
    at(1 + 37);
    expect(readCount(bus, 0)).toBe(0x0063);
    at(1 + 100);
    expect(pit.getOutput(0)).toBe(true);
    at(1 + 101);
    expect(readCount(bus, 0)).toBe(0x9999);
  });

  it('mode 3 square wave: half the period high, half low; odd counts high one clock longer', () => {
    const { pit, bus, at } = setup();
    pit.setGate(2, true);
    program(bus, 2, 3, 9);
    const levels: boolean[] = [];
    for (let t = 1; t < 1 + 18; t++) { at(t); levels.push(pit.getOutput(2)); }
    expect(levels.map((l) => (l ? 1 : 0)).join('')).toBe('111110000' + '111110000');
    program(bus, 2, 3, 4);
    const base = 19; // written at edge 18
    const even: number[] = [];
    for (let t = base; t < base + 8; t++) { at(t); even.push(pit.getOutput(2) ? 1 : 0); }
    expect(even.join('')).toBe('11001100');
  });

  it('mode 2/3 with GATE low: OUT forced high, counting stops; GATE rising reloads', () => {
    const { pit, bus, at } = setup();
    pit.setGate(2, true);
    program(bus, 2, 2, 10);
    at(5);
    pit.setGate(2, false);
    const frozen = readCount(bus, 2);
    at(9);
    expect(pit.getOutput(2)).toBe(true);
    expect(readCount(bus, 2)).toBe(frozen);
    pit.setGate(2, true);
    at(10);
    expect(readCount(bus, 2)).toBe(10);
    at(19);
    expect(pit.getOutput(2)).toBe(false);
  });

  it('mode 1 one-shot on counter 2: triggered by GATE, OUT low for N clocks, retriggerable', () => {
    const { pit, bus, at } = setup();
    program(bus, 2, 1, 5);
    at(10);
    expect(pit.getOutput(2)).toBe(true);
    pit.setGate(2, true); // trigger at edge 10, loaded on 11
    at(11);
    expect(pit.getOutput(2)).toBe(false);
    at(15);
    expect(pit.getOutput(2)).toBe(false);
    at(16);
    expect(pit.getOutput(2)).toBe(true);
    pit.setGate(2, false);
    pit.setGate(2, true);
    at(17);
    expect(pit.getOutput(2)).toBe(false);
  });

  it('mode 4 software strobe: OUT low for exactly one clock, N+1 clocks after the write', () => {
    const { pit, bus, at } = setup();
    program(bus, 0, 4, 3);
    const levels: number[] = [];
    for (let t = 0; t <= 6; t++) { at(t); levels.push(pit.getOutput(0) ? 1 : 0); }
    expect(levels.join('')).toBe('1111011');
  });

  it('mode 5 hardware strobe: triggered by GATE', () => {
    const { pit, bus, at } = setup();
    program(bus, 2, 5, 2);
    at(3);
    pit.setGate(2, true); // loaded on edge 4, zero on edge 6
    const levels: number[] = [];
    for (let t = 4; t <= 8; t++) { at(t); levels.push(pit.getOutput(2) ? 1 : 0); }
    expect(levels.join('')).toBe('11011');
  });

  it('mode 0/4 with GATE low: counting suspended and resumed', () => {
    const { pit, bus, at } = setup();
    program(bus, 2, 0, 10); // gate 2 is low at reset: loaded, not counting
    at(20);
    expect(readCount(bus, 2)).toBe(10);
    pit.setGate(2, true);
    at(25);
    expect(readCount(bus, 2)).toBe(5);
    pit.setGate(2, false);
    at(40);
    expect(readCount(bus, 2)).toBe(5);
    expect(pit.getOutput(2)).toBe(false);
    pit.setGate(2, true);
    at(45);
    expect(pit.getOutput(2)).toBe(true);
  });

  it('mode 2: a count written while counting takes effect at the end of the current period', () => {
    const { clock, bus, edges } = setup();
    program(bus, 0, 2, 100);
    clock.skipTo(pitTickToNs(150));
    bus.out8(0x40, 50);
    bus.out8(0x40, 0);
    for (let i = 0; i < 6; i++) clock.skipToNextEvent();
    expect(edges.filter((e) => e.level).map((e) => e.tick)).toEqual([0, 101, 201, 251, 301]);
  });

  it('round-trips state mid-count: the restored timer raises IRQ0 at the same instants', () => {
    const a = setup();
    program(a.bus, 0, 2, 777);
    a.pit.setGate(2, true);
    program(a.bus, 2, 3, 1000);
    a.clock.advance(12345);
    a.bus.out8(0x43, 0x00); // a latched count travels too
    const rec = { pit: a.pit.saveState(), clock: a.clock.saveState() };
    const b = setup();
    b.pit.loadState(rec.pit);
    b.clock.loadState(rec.clock);
    expect(b.bus.in8(0x40) | (b.bus.in8(0x40) << 8)).toBe(a.bus.in8(0x40) | (a.bus.in8(0x40) << 8));
    a.edges.length = 0;
    for (const s of [a, b]) for (let i = 0; i < 5; i++) s.clock.skipToNextEvent();
    expect(b.edges).toEqual(a.edges);
    expect(b.pit.getOutput(2)).toBe(a.pit.getOutput(2));
  });

  it('refuses bad records without changing the timer', () => {
    const { pit, bus } = setup();
    program(bus, 0, 2, 500);
    const good = pit.saveState();
    const bad = [
      { ...good, c0_access: 0 },
      { ...good, c1_phase: 9 },
      { ...good, c0_count: 0 },
      { ...good, c2_bcd: true, c2_count: 20000 },
      { ...good, c0_baseTick: 1.5 },
      { ...good, c3_mode: 1 },
    ];
    for (const r of bad) expect(() => pit.loadState(r)).toThrow(StateError);
    expect(pit.saveState()).toEqual(good);
  });
});
