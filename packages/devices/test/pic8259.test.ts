import { describe, expect, it } from 'vitest';
import { StateError } from '@ferry86/mmu';
import { IoBus } from '../src/io-bus.ts';
import { PicPair } from '../src/pic-pair.ts';

/** The BIOS programming of a PC/AT: vectors 0x08 and 0x70, slave on IR2, 8086 mode, all unmasked. */
function atPics(opts: { master?: number[]; slave?: number[]; icw1?: number; icw4?: number } = {}) {
  const pics = new PicPair();
  const bus = new IoBus();
  pics.attach(bus);
  const icw1 = opts.icw1 ?? 0x11;
  const icw4 = opts.icw4 ?? 0x01;
  bus.out8(0x20, icw1); bus.out8(0x21, 0x08); bus.out8(0x21, 0x04); bus.out8(0x21, icw4);
  bus.out8(0xa0, icw1); bus.out8(0xa1, 0x70); bus.out8(0xa1, 0x02); bus.out8(0xa1, icw4);
  bus.out8(0x21, 0x00);
  bus.out8(0xa1, 0x00);
  return { pics, bus };
}

const EOI = 0x20;
const readIsr = (bus: IoBus, port: number) => { bus.out8(port, 0x0b); return bus.in8(port); };
const readIrr = (bus: IoBus, port: number) => { bus.out8(port, 0x0a); return bus.in8(port); };

describe('Pic8259 / PicPair', () => {
  it('is masked at power-on: a request does not reach the CPU', () => {
    const pics = new PicPair();
    pics.raiseIrq(1);
    expect(pics.master.imr).toBe(0xff);
    expect(pics.hasInterrupt()).toBe(false);
  });

  it('delivers a request as ICW2 base + IR and keeps it in service until EOI', () => {
    const { pics, bus } = atPics();
    pics.raiseIrq(1);
    expect(pics.hasInterrupt()).toBe(true);
    expect(readIrr(bus, 0x20)).toBe(0x02);
    expect(pics.acknowledge()).toBe(0x09);
    expect(readIsr(bus, 0x20)).toBe(0x02);
    expect(readIrr(bus, 0x20)).toBe(0x00);
    expect(pics.hasInterrupt()).toBe(false);
    bus.out8(0x20, EOI);
    expect(readIsr(bus, 0x20)).toBe(0);
  });

  it('resolves fixed priority (IR0 highest) and lets only higher levels nest', () => {
    const { pics, bus } = atPics();
    pics.raiseIrq(5);
    pics.raiseIrq(3);
    expect(pics.acknowledge()).toBe(0x0b); // IRQ3 first
    expect(pics.hasInterrupt()).toBe(false); // IRQ5 is lower than IRQ3 in service
    pics.raiseIrq(1);
    expect(pics.acknowledge()).toBe(0x09); // IRQ1 nests over IRQ3
    expect(readIsr(bus, 0x20)).toBe(0x0a);
    bus.out8(0x20, EOI); // non-specific: clears the highest in service, IRQ1
    expect(readIsr(bus, 0x20)).toBe(0x08);
    expect(pics.hasInterrupt()).toBe(false);
    bus.out8(0x20, EOI);
    expect(pics.acknowledge()).toBe(0x0d);
  });

  it('specific EOI clears the named level only', () => {
    const { pics, bus } = atPics();
    pics.raiseIrq(4); pics.acknowledge();
    pics.raiseIrq(0); pics.acknowledge();
    bus.out8(0x20, 0x60 | 4); // specific EOI for IR4
    expect(readIsr(bus, 0x20)).toBe(0x01);
  });

  it('masks with OCW1 and delivers a latched edge when unmasked', () => {
    const { pics, bus } = atPics();
    bus.out8(0x21, 0x08);
    pics.raiseIrq(3);
    expect(pics.hasInterrupt()).toBe(false);
    expect(bus.in8(0x21)).toBe(0x08);
    bus.out8(0x21, 0x00);
    expect(pics.hasInterrupt()).toBe(true);
    expect(pics.acknowledge()).toBe(0x0b);
  });

  it('edge mode: a line held high interrupts once; a new edge interrupts again', () => {
    const { pics, bus } = atPics();
    pics.raiseIrq(4);
    pics.acknowledge();
    bus.out8(0x20, EOI);
    pics.raiseIrq(4); // still high, no edge
    expect(pics.hasInterrupt()).toBe(false);
    pics.lowerIrq(4);
    pics.raiseIrq(4);
    expect(pics.acknowledge()).toBe(0x0c);
  });

  it('a request withdrawn before the acknowledge yields the default IR7: spurious IRQ7, no ISR bit', () => {
    const { pics, bus } = atPics();
    pics.raiseIrq(3);
    expect(pics.hasInterrupt()).toBe(true);
    pics.lowerIrq(3);
    expect(pics.hasInterrupt()).toBe(false);
    expect(pics.acknowledge()).toBe(0x0f);
    expect(readIsr(bus, 0x20)).toBe(0);
  });

  it('a master IR2 request with no slave request gives the slave default: spurious IRQ15 (EOI to the master only)', () => {
    const { pics, bus } = atPics();
    pics.raiseIrq(2);
    expect(pics.acknowledge()).toBe(0x77);
    expect(readIsr(bus, 0xa0)).toBe(0);
    expect(readIsr(bus, 0x20)).toBe(0x04);
  });

  it('level mode (ICW1 LTIM): a line still high after EOI requests again', () => {
    const { pics, bus } = atPics({ icw1: 0x19 });
    pics.raiseIrq(5);
    expect(pics.acknowledge()).toBe(0x0d);
    bus.out8(0x20, EOI);
    expect(pics.hasInterrupt()).toBe(true);
    pics.lowerIrq(5);
    expect(pics.hasInterrupt()).toBe(false);
  });

  it('cascades IRQ8-15 through IR2: slave vector, both ISRs set, both need EOI', () => {
    const { pics, bus } = atPics();
    pics.raiseIrq(10);
    expect(pics.hasInterrupt()).toBe(true);
    expect(pics.acknowledge()).toBe(0x72);
    expect(readIsr(bus, 0x20)).toBe(0x04);
    expect(readIsr(bus, 0xa0)).toBe(0x04);
    pics.raiseIrq(11);
    expect(pics.hasInterrupt()).toBe(false); // IR2 in service at the master blocks the slave
    bus.out8(0xa0, EOI);
    expect(pics.hasInterrupt()).toBe(false); // master still has IR2 in service
    bus.out8(0x20, EOI);
    expect(pics.acknowledge()).toBe(0x73);
  });

  it('slave interrupts rank at IR2: above IRQ3-7, below IRQ0-1', () => {
    const { pics, bus } = atPics();
    pics.raiseIrq(3);
    pics.raiseIrq(12);
    pics.raiseIrq(1);
    expect(pics.acknowledge()).toBe(0x09);
    bus.out8(0x20, EOI);
    expect(pics.acknowledge()).toBe(0x74);
    bus.out8(0xa0, EOI); bus.out8(0x20, EOI);
    expect(pics.acknowledge()).toBe(0x0b);
  });

  it('special fully nested mode lets a higher slave request through while the slave is in service', () => {
    const { pics, bus } = atPics({ icw4: 0x11 });
    pics.raiseIrq(12);
    expect(pics.acknowledge()).toBe(0x74);
    pics.raiseIrq(9); // higher than IRQ12 on the slave
    expect(pics.hasInterrupt()).toBe(true);
    expect(pics.acknowledge()).toBe(0x71);
    pics.raiseIrq(14); // lower than IRQ12: still blocked by the slave itself
    expect(pics.hasInterrupt()).toBe(false);
    expect(bus.in8(0x21)).toBe(0);
  });

  it('poll command: the next read is an acknowledge returning 0x80 | level', () => {
    const { pics, bus } = atPics();
    pics.raiseIrq(6);
    bus.out8(0x20, 0x0c); // OCW3 poll
    expect(bus.in8(0x20)).toBe(0x86);
    expect(readIsr(bus, 0x20)).toBe(0x40);
    bus.out8(0x20, 0x0c);
    expect(bus.in8(0x20)).toBe(0x00); // nothing requesting
  });

  it('automatic EOI leaves nothing in service', () => {
    const { pics, bus } = atPics({ icw4: 0x03 });
    pics.raiseIrq(3);
    expect(pics.acknowledge()).toBe(0x0b);
    expect(readIsr(bus, 0x20)).toBe(0);
    pics.raiseIrq(5);
    expect(pics.hasInterrupt()).toBe(true);
  });

  it('rotation: set-priority and rotate-on-EOI change which level wins', () => {
    const { pics, bus } = atPics();
    bus.out8(0x20, 0xc0 | 4); // set priority: IR4 lowest, IR5 highest
    pics.raiseIrq(3);
    pics.raiseIrq(5);
    expect(pics.acknowledge()).toBe(0x0d);
    bus.out8(0x20, 0xa0); // rotate on non-specific EOI: IR5 becomes lowest, IR6 highest
    expect(pics.master.lowestPriority).toBe(5);
    pics.raiseIrq(6);
    expect(pics.acknowledge()).toBe(0x0e);
    bus.out8(0x20, 0xe0 | 6); // rotate on specific EOI for IR6: IR7 highest
    pics.lowerIrq(5); pics.raiseIrq(5);
    expect(pics.acknowledge()).toBe(0x0b); // IR3 ranks above IR5 now (order 7,0,1,2,3,...)
  });

  it('rotate in automatic EOI mode makes each serviced level the lowest', () => {
    const { pics, bus } = atPics({ icw4: 0x03 });
    bus.out8(0x20, 0x80);
    pics.raiseIrq(0);
    pics.raiseIrq(1);
    expect(pics.acknowledge()).toBe(0x08);
    expect(pics.master.lowestPriority).toBe(0);
    expect(pics.acknowledge()).toBe(0x09);
    bus.out8(0x20, 0x00); // clear rotate in AEOI
    pics.lowerIrq(0); pics.raiseIrq(0);
    pics.acknowledge();
    expect(pics.master.lowestPriority).toBe(1);
  });

  it('special mask mode: masking the level in service admits lower levels', () => {
    const { pics, bus } = atPics();
    pics.raiseIrq(2 + 1);
    expect(pics.acknowledge()).toBe(0x0b);
    pics.raiseIrq(6);
    expect(pics.hasInterrupt()).toBe(false);
    bus.out8(0x21, 0x08); // mask IR3 (in service)
    bus.out8(0x20, 0x68); // OCW3: set special mask mode
    expect(pics.hasInterrupt()).toBe(true);
    expect(pics.acknowledge()).toBe(0x0e);
    bus.out8(0x20, 0x48); // reset special mask mode
    expect(pics.master.specialMask).toBe(false);
  });

  it('ICW1 clears the IMR and the edge latches: an input already high must make a new edge', () => {
    const { pics, bus } = atPics();
    bus.out8(0x21, 0xff);
    pics.raiseIrq(4);
    bus.out8(0x20, 0x11); bus.out8(0x21, 0x08); bus.out8(0x21, 0x04); bus.out8(0x21, 0x01);
    expect(bus.in8(0x21)).toBe(0x00);
    expect(pics.hasInterrupt()).toBe(false);
    pics.lowerIrq(4); pics.raiseIrq(4);
    expect(pics.acknowledge()).toBe(0x0c);
  });

  it('single mode (SNGL) skips ICW3', () => {
    const pics = new PicPair();
    const bus = new IoBus();
    pics.attach(bus);
    bus.out8(0x20, 0x13); bus.out8(0x21, 0x20); bus.out8(0x21, 0x01);
    bus.out8(0x21, 0x00); // this is OCW1 now
    pics.raiseIrq(2);
    expect(pics.acknowledge()).toBe(0x22); // IR2 is not a cascade input in single mode
  });

  it('keeps ELCR as plain registers with the PIIX reserved bits', () => {
    const { bus } = atPics();
    bus.out8(0x4d0, 0xff);
    bus.out8(0x4d1, 0xff);
    expect(bus.in8(0x4d0)).toBe(0xf8);
    expect(bus.in8(0x4d1)).toBe(0xde);
  });

  it('signals INTR rising so a run loop can end its slice', () => {
    const { pics } = atPics();
    let n = 0;
    pics.onInterruptRequest(() => n++);
    pics.raiseIrq(3);
    pics.raiseIrq(4);
    expect(n).toBe(1);
  });

  it('round-trips the pair state: the restored pair behaves identically', () => {
    const { pics, bus } = atPics();
    bus.out8(0x21, 0x10);
    pics.raiseIrq(10); pics.acknowledge();
    pics.raiseIrq(4); pics.raiseIrq(12); pics.raiseIrq(6);
    const saved = pics.saveState();
    const { pics: other, bus: otherBus } = atPics();
    other.loadState(saved);
    expect(other.hasInterrupt()).toBe(pics.hasInterrupt());
    for (const b of [bus, otherBus]) { b.out8(0xa0, EOI); b.out8(0x20, EOI); }
    const drain = (p: PicPair, b: IoBus) => {
      const v: number[] = [];
      while (p.hasInterrupt()) { v.push(p.acknowledge()); b.out8(0xa0, EOI); b.out8(0x20, EOI); }
      return v;
    };
    expect(drain(other, otherBus)).toEqual(drain(pics, bus));
    expect(other.saveState()).toEqual(pics.saveState());
  });

  it('refuses a pair record with a bad chip record, changing neither chip', () => {
    const { pics } = atPics();
    pics.raiseIrq(3);
    const good = pics.saveState();
    expect(() => pics.loadState({ ...good, slave_initStep: 7 })).toThrow(StateError);
    expect(() => pics.loadState({ ...good, master_isr: undefined as unknown as number })).toThrow(StateError);
    expect(pics.saveState()).toEqual(good);
  });

  it('refuses bad chip records without changing the chip', () => {
    const { pics } = atPics();
    pics.raiseIrq(5);
    const good = pics.master.saveState();
    const before = JSON.stringify(good);
    for (const bad of [
      { ...good, initStep: 1 },
      { ...good, lowestPriority: 8 },
      { ...good, vectorBase: 0x09 },
      { ...good, irr: 0x80, lines: 0 },
      { ...good, imr: 0x100 },
      { ...good, elcr: 0x01 },
      { ...good, poll: 1 },
    ]) {
      expect(() => pics.master.loadState(bad)).toThrow(StateError);
    }
    expect(JSON.stringify(pics.master.saveState())).toBe(before);
    expect(pics.hasInterrupt()).toBe(true);
  });
});
