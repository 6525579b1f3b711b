import { describe, expect, it } from 'vitest';
import { StateError, loadStateful } from '@ferry86/mmu';
import { I8042 } from '../src/i8042.ts';
import { IoBus } from '../src/io-bus.ts';

interface Rig {
  kbc: I8042;
  bus: IoBus;
  irq1Edges: number;
  irq12Edges: number;
  a20: boolean[];
  resets: number;
  cmd(c: number, data?: number): void;
  /** Reads every byte the controller has for the CPU, as a driver polling status bit 0 would. */
  drain(): number[];
  status(): number;
}

function rig(): Rig {
  const bus = new IoBus();
  const r: Rig = {
    bus,
    irq1Edges: 0,
    irq12Edges: 0,
    a20: [],
    resets: 0,
    kbc: undefined as unknown as I8042,
    cmd(c, data) {
      bus.out8(0x64, c);
      if (data !== undefined) bus.out8(0x60, data);
    },
    drain() {
      const out: number[] = [];
      while ((bus.in8(0x64) & 1) !== 0) out.push(bus.in8(0x60));
      return out;
    },
    status: () => bus.in8(0x64),
  };
  r.kbc = new I8042({
    setIrq1: (l) => { if (l) r.irq1Edges++; },
    setIrq12: (l) => { if (l) r.irq12Edges++; },
    setA20: (on) => r.a20.push(on),
    requestReset: () => { r.resets++; },
  });
  r.kbc.attach(bus);
  return r;
}

describe('i8042 controller commands', () => {
  it('passes its self-test (0xAA -> 0x55) and interface tests (0xAB, 0xA9 -> 0x00)', () => {
    const r = rig();
    r.cmd(0xaa);
    expect(r.status() & 0x01).toBe(1);
    expect(r.status() & 0x08).toBe(0x08); // last write went to the command port
    expect(r.drain()).toEqual([0x55]);
    expect(r.status() & 0x04).toBe(0x04); // system flag
    r.cmd(0xab);
    r.cmd(0xa9);
    expect(r.drain()).toEqual([0x00, 0x00]);
    expect(r.status() & 0x01).toBe(0);
  });

  it('reads and writes the command byte (0x20 / 0x60)', () => {
    const r = rig();
    r.cmd(0x20);
    expect(r.drain()).toEqual([0x45]);
    r.cmd(0x60, 0x30);
    expect(r.status() & 0x08).toBe(0); // last write was data
    r.cmd(0x20);
    expect(r.drain()).toEqual([0x30]);
  });

  it('disables and enables the keyboard (0xAD/0xAE) and aux (0xA7/0xA8) interfaces in the command byte', () => {
    const r = rig();
    r.cmd(0xad);
    r.cmd(0xa7);
    expect(r.kbc.commandByte & 0x30).toBe(0x30);
    r.cmd(0xae);
    r.cmd(0xa8);
    expect(r.kbc.commandByte & 0x30).toBe(0x00);
  });

  it('drives A20 and the CPU reset through the output port (0xD0/0xD1, 0xFE)', () => {
    const r = rig();
    r.cmd(0xd0);
    expect(r.drain()[0]! & 0x03).toBe(0x03); // reset inactive, A20 on
    r.cmd(0xd1, 0xcd); // A20 off
    expect(r.a20).toEqual([false]);
    r.cmd(0xd0);
    expect(r.drain()[0]! & 0x02).toBe(0);
    r.cmd(0xdf); // A20 on
    expect(r.a20).toEqual([false, true]);
    expect(r.resets).toBe(0);
    r.cmd(0xff); // pulse nothing
    expect(r.resets).toBe(0);
    r.cmd(0xfe); // pulse reset
    expect(r.resets).toBe(1);
    r.cmd(0xd1, 0xce); // bit 0 low: reset
    expect(r.resets).toBe(2);
  });

  it('raises IRQ1 for each byte when the command byte enables it, and not otherwise', () => {
    const r = rig();
    r.cmd(0x60, 0x44); // keyboard interrupt off
    r.cmd(0xaa);
    r.drain();
    expect(r.irq1Edges).toBe(0);
    r.cmd(0x60, 0x45);
    r.bus.out8(0x60, 0xff); // keyboard reset: two bytes
    expect(r.drain()).toEqual([0xfa, 0xaa]);
    expect(r.irq1Edges).toBe(2);
  });

  it('has an auxiliary port with nothing plugged in: loopback works, device writes time out', () => {
    const r = rig();
    r.cmd(0x60, 0x47); // aux interrupt on
    r.cmd(0xd3, 0x5a); // loopback
    expect(r.status() & 0x21).toBe(0x21);
    expect(r.drain()).toEqual([0x5a]);
    expect(r.irq12Edges).toBe(1);
    r.cmd(0xd4, 0xf2); // identify the mouse
    expect(r.status() & 0x61).toBe(0x61); // OBF, AUXB, timeout
    expect(r.drain()).toEqual([0xfe]);
    expect(r.status() & 0x40).toBe(0);
    expect(r.irq1Edges).toBe(0);
  });
});

describe('PS/2 keyboard behind the i8042', () => {
  it('answers the probe Linux does: reset, identify, LEDs, scanning, typematic', () => {
    const r = rig();
    const send = (...b: number[]) => b.map((x) => r.bus.out8(0x60, x));
    send(0xff);
    expect(r.drain()).toEqual([0xfa, 0xaa]);
    send(0xf2);
    expect(r.drain()).toEqual([0xfa, 0xab, 0x41]); // translated MF2 id
    r.cmd(0x60, 0x05); // translation off
    send(0xf2);
    expect(r.drain()).toEqual([0xfa, 0xab, 0x83]);
    send(0xf5, 0xed, 0x07, 0xf3, 0x20, 0xf4);
    expect(r.drain()).toEqual([0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa]);
    expect(r.kbc.keyboard.leds).toBe(7);
    expect(r.kbc.keyboard.typematic).toBe(0x20);
    send(0xf0, 0x00);
    expect(r.drain()).toEqual([0xfa, 0xfa, 0x02]);
    send(0xee);
    expect(r.drain()).toEqual([0xee]);
    send(0x12); // not a command
    expect(r.drain()).toEqual([0xfe]);
  });

  it('holds keyboard bytes while the keyboard interface is disabled', () => {
    const r = rig();
    r.bus.out8(0x60, 0xf2); // sending to the keyboard enables its interface, so disable after
    r.cmd(0xad);
    r.drain(); // what was already in the output buffer
    expect(r.status() & 1).toBe(0);
    r.cmd(0xae);
    expect(r.drain().length).toBeGreaterThan(0);
  });

  it('lets controller replies go before waiting keyboard bytes', () => {
    const r = rig();
    r.bus.out8(0x60, 0xf2); // FA AB 41 queued; FA in the buffer
    r.cmd(0x20); // command byte reply queued
    expect(r.drain()).toEqual([0xfa, 0x45, 0xab, 0x41]);
  });
});

describe('i8042 state', () => {
  it('restores a transfer in progress', () => {
    const a = rig();
    a.bus.out8(0x60, 0xf2);
    a.bus.in8(0x60);
    a.cmd(0xd1); // waiting for its data byte
    const rec = a.kbc.saveState();
    const b = rig();
    loadStateful(b.kbc, rec);
    b.bus.out8(0x60, 0xcf);
    expect(b.drain()).toEqual([0xab, 0x41]);
    expect(b.kbc.outputPortValue & 0x03).toBe(0x03);
  });

  it('rejects a malformed record and keeps its state', () => {
    const r = rig();
    const rec = { ...r.kbc.saveState(), pendingCommand: 0xaa };
    expect(() => loadStateful(r.kbc, rec)).toThrow(StateError);
    r.cmd(0x20);
    expect(r.drain()).toEqual([0x45]);
  });
});
