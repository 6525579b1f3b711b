import { describe, expect, it } from 'vitest';
import { StateError } from '@ferry86/mmu';
import { StampedInputQueue } from '../src/serial-input.ts';

describe('StampedInputQueue', () => {
  const b = (s: string) => new TextEncoder().encode(s);

  it('orders chunks by instruction then guest time, ties in arrival order', () => {
    const q = new StampedInputQueue();
    q.add({ atInstruction: 50, atNs: -1, bytes: b('c') });
    q.add({ atInstruction: 10, atNs: 900, bytes: b('b') });
    q.add({ atInstruction: 10, atNs: 100, bytes: b('a') });
    q.add({ atInstruction: 50, atNs: -1, bytes: b('d') });
    expect(q.instructionsUntilNext(0)).toBe(10);
    expect(q.takeDue(10, 500)?.bytes).toEqual(b('a'));
    expect(q.takeDue(10, 500)).toBeNull(); // 'b' waits for guest time 900 at count 10
    expect(q.nextNsAt(10)).toBe(900);
    expect(q.takeDue(11, 0)?.bytes).toEqual(b('b')); // past its count: due whatever the time
    expect(q.takeDue(50, 0)?.bytes).toEqual(b('c'));
    expect(q.takeDue(50, 0)?.bytes).toEqual(b('d'));
  });

  it('round-trips its state and refuses inconsistent records unchanged', () => {
    const q = new StampedInputQueue();
    q.add({ atInstruction: 7, atNs: -1, bytes: b('xy') });
    q.add({ atInstruction: 9, atNs: 5, bytes: b('z') });
    const rec = q.saveState();
    const r = new StampedInputQueue();
    r.loadState(rec);
    expect(r.saveState()).toEqual(rec);
    for (const bad of [
      { ...rec, lengths: new Uint32Array([2, 2]) },
      { ...rec, atInstruction: new Float64Array([9, 7]) },
      { ...rec, atNs: new Float64Array([-1, NaN]) },
      { ...rec, atInstruction: new Float64Array([7]) },
    ]) {
      expect(() => r.loadState(bad)).toThrow(StateError);
    }
    expect(r.saveState()).toEqual(rec);
  });
});
