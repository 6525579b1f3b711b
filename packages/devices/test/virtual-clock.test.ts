import { describe, expect, it } from 'vitest';
import { StateError } from '@ferry86/mmu';
import { ClockTimerError, VirtualClock } from '../src/virtual-clock.ts';

describe('VirtualClock', () => {
  it('derives guest time from retired instructions (10 ns each by default)', () => {
    const c = new VirtualClock();
    expect(c.nowNs()).toBe(0);
    c.advance(1000);
    expect(c.instructions).toBe(1000);
    expect(c.nowNs()).toBe(10_000);
    const fast = new VirtualClock({ nsPerInstruction: 0.5 });
    fast.advance(4);
    expect(fast.nowNs()).toBe(2);
    expect(() => new VirtualClock({ nsPerInstruction: 0 })).toThrow(RangeError);
  });

  it('fires due events in time order, ties in scheduling order, passing the due time', () => {
    const c = new VirtualClock();
    const fired: string[] = [];
    const mk = (name: string) => c.timer(name, (due) => fired.push(`${name}@${due}`));
    const a = mk('a');
    const b = mk('b');
    const d = mk('d');
    d.schedule(300);
    b.schedule(200);
    a.schedule(200);
    c.advance(19); // 190 ns: nothing due
    expect(fired).toEqual([]);
    c.advance(20); // 390 ns
    expect(fired).toEqual(['b@200', 'a@200', 'd@300']);
  });

  it('lets a callback reschedule its own timer (periodic events) and fires catch-up occurrences in order', () => {
    const c = new VirtualClock();
    const times: number[] = [];
    const t = c.timer('tick', (due) => {
      times.push(due);
      t.schedule(due + 100);
    });
    t.schedule(100);
    c.advance(35); // 350 ns
    expect(times).toEqual([100, 200, 300]);
    expect(c.nextEventNs()).toBe(400);
  });

  it('says exactly how many instructions remain until the next event', () => {
    const c = new VirtualClock();
    let fired = 0;
    c.timer('x', () => fired++).schedule(1005);
    expect(c.instructionsUntilNextEvent()).toBe(101);
    c.advance(100);
    expect(fired).toBe(0);
    expect(c.instructionsUntilNextEvent()).toBe(1);
    c.advance(1);
    expect(fired).toBe(1);
    expect(c.instructionsUntilNextEvent()).toBe(Infinity);
  });

  it('moving or cancelling a timer replaces its single pending occurrence', () => {
    const c = new VirtualClock();
    let fired = 0;
    const t = c.timer('x', () => fired++);
    t.schedule(500);
    t.schedule(100);
    expect(c.pendingEvents()).toEqual([{ timer: 'x', dueNs: 100 }]);
    c.cancel('x');
    c.advance(100);
    expect(fired).toBe(0);
    expect(c.nextEventNs()).toBe(Infinity);
  });

  it('HLT skip-ahead jumps guest time to the next event without retiring instructions', () => {
    const c = new VirtualClock();
    const seen: number[] = [];
    c.timer('t', () => seen.push(c.nowNs())).schedule(1_000_000);
    c.advance(10);
    expect(c.skipToNextEvent()).toBe(true);
    expect(seen).toEqual([1_000_000]);
    expect(c.instructions).toBe(10);
    expect(c.idleNs).toBe(1_000_000 - 100);
    expect(c.skipToNextEvent()).toBe(false);
    c.advance(1);
    expect(c.nowNs()).toBe(1_000_010);
  });

  it('tells the run loop when an event is scheduled ahead of all others', () => {
    const c = new VirtualClock();
    const earlier: number[] = [];
    c.onEarlierEvent((ns) => earlier.push(ns));
    const a = c.timer('a', () => {});
    const b = c.timer('b', () => {});
    a.schedule(1000);
    b.schedule(2000);
    b.schedule(500);
    expect(earlier).toEqual([1000, 500]);
  });

  it('reads a live instruction counter when the machine installs one', () => {
    const c = new VirtualClock();
    let cpuCount = 0;
    c.setInstructionCounter(() => cpuCount);
    cpuCount = 42;
    expect(c.nowNs()).toBe(420);
    c.advance(42);
    expect(c.instructions).toBe(42);
  });

  it('rejects duplicate or malformed timer names', () => {
    const c = new VirtualClock();
    c.timer('pit0', () => {});
    expect(() => c.timer('pit0', () => {})).toThrow(ClockTimerError);
    expect(() => c.timer('has space', () => {})).toThrow(ClockTimerError);
    expect(() => c.schedule(10, 'nope')).toThrow(ClockTimerError);
    expect(() => c.schedule(NaN, 'pit0')).toThrow(RangeError);
  });

  it('restores pending events exactly, on a new clock with the same timers', () => {
    const make = (log: string[]) => {
      const c = new VirtualClock({ nsPerInstruction: 7 });
      const p = c.timer('pit0', (due) => { log.push(`pit@${due}`); p.schedule(due + 1000); });
      c.timer('com1.timeout', (due) => log.push(`uart@${due}`));
      return c;
    };
    const logA: string[] = [];
    const a = make(logA);
    a.schedule(1000, 'pit0');
    a.schedule(1500, 'com1.timeout');
    a.advance(50);
    a.skipToNextEvent();
    const saved = a.saveState();
    const logB: string[] = [];
    const b = make(logB);
    b.loadState(saved);
    expect(b.nowNs()).toBe(a.nowNs());
    expect(b.pendingEvents()).toEqual(a.pendingEvents());
    for (const c of [a, b]) { c.advance(400); c.skipToNextEvent(); }
    expect(logB).toEqual(logA.slice(1));
    expect(b.saveState()).toEqual(a.saveState());
  });

  it('refuses bad records without changing anything', () => {
    const c = new VirtualClock();
    c.timer('pit0', () => {});
    c.schedule(500, 'pit0');
    c.advance(3);
    const good = c.saveState();
    const before = JSON.stringify(c.pendingEvents()) + c.nowNs();
    const bad = [
      { ...good, eventTimers: JSON.stringify(['rtc']) },
      { ...good, eventTimers: '{not json' },
      { ...good, eventDueNs: new Float64Array([NaN]) },
      { ...good, eventTimers: JSON.stringify(['pit0', 'pit0']), eventDueNs: new Float64Array([1, 2]), eventSeq: new Float64Array([0, 0]) },
      { ...good, nsPerInstruction: -1 },
      { ...good, instructions: 1.5 },
      { ...good, extra: 1 },
    ];
    for (const r of bad) expect(() => c.loadState(r)).toThrow(StateError);
    expect(JSON.stringify(c.pendingEvents()) + c.nowNs()).toBe(before);
  });

  it('realtime pacing: reports how far guest time runs ahead of the wall, sliding the anchor when far behind', () => {
    let wall = 1000;
    const c = new VirtualClock({ pacing: 'realtime', wallClockMs: () => wall });
    c.anchorToWall();
    c.advance(1_000_000); // 10 ms of guest time in 0 ms of wall time
    expect(c.aheadOfWallNs()).toBe(10e6);
    wall += 10;
    expect(c.aheadOfWallNs()).toBe(0);
    wall += 1000; // host stalled for a second
    expect(c.aheadOfWallNs(250e6)).toBe(-250e6);
    expect(c.wallEquivalentNs()).toBe(c.nowNs() + 250e6);
  });
});
