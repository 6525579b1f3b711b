import { describe, expect, it } from 'vitest';
import { loadStateful } from '@ferry86/mmu';
import { PcMachine } from '../src/pc-machine.ts';
import { REFRESH_PERIOD_NS } from '../src/system-control-port-b.ts';
import { pitTickToNs } from '../src/pit8254.ts';

function board(): PcMachine {
  return new PcMachine({ memoryMiB: 4 });
}

/** Puts 32-bit code at 0x1000 and points the CPU at it. */
function runCode(m: PcMachine, code: number[]): void {
  m.phys.writeBytes(0x1000, Uint8Array.from(code));
  m.cpu.enterFlatProtectedMode(0x1000);
}

describe('system control port B (0x61)', () => {
  it('gates PIT counter 2 with bit 0 and reads its OUT on bit 5', () => {
    const m = board();
    const io = m.io;
    io.out8(0x43, 0xb0); // counter 2, LSB then MSB, mode 0
    io.out8(0x42, 100);
    io.out8(0x42, 0);
    expect(io.in8(0x61) & 0x20).toBe(0);
    io.out8(0x61, 0x01); // gate high: counting starts
    expect(m.pit.getGate(2)).toBe(true);
    const t0 = m.clock.nowNs();
    m.clock.skipTo(t0 + pitTickToNs(50));
    expect(io.in8(0x61) & 0x20).toBe(0);
    m.clock.skipTo(t0 + pitTickToNs(102));
    expect(io.in8(0x61) & 0x21).toBe(0x21);
    io.out8(0x61, 0x00);
    expect(m.pit.getGate(2)).toBe(false);
  });

  it('keeps bits 0-3 as written and toggles bit 4 with each refresh period of guest time', () => {
    const m = board();
    m.io.out8(0x61, 0xff);
    expect(m.io.in8(0x61) & 0x0f).toBe(0x0f);
    expect(m.portB.speakerOn).toBe(true);
    const seen = new Set<number>();
    for (let i = 0; i < 4; i++) {
      m.clock.skipTo((i + 0.5) * REFRESH_PERIOD_NS);
      seen.add(m.io.in8(0x61) & 0x10);
    }
    expect([...seen].sort()).toEqual([0, 0x10]);
    m.clock.skipTo(10.5 * REFRESH_PERIOD_NS);
    const a = m.io.in8(0x61) & 0x10;
    m.clock.skipTo(11.5 * REFRESH_PERIOD_NS);
    expect(m.io.in8(0x61) & 0x10).not.toBe(a);
  });
});

describe('A20 gate', () => {
  it('is the OR of port 0x92 bit 1 and the keyboard controller output port', () => {
    const m = board();
    expect(m.phys.a20Enabled).toBe(true); // power-on: the KBC output port enables it
    m.io.out8(0x92, 0x02);
    m.io.out8(0x64, 0xdd); // KBC A20 off
    expect(m.phys.a20Enabled).toBe(true); // port 0x92 still holds it
    m.io.out8(0x92, 0x00);
    expect(m.phys.a20Enabled).toBe(false);
    expect(m.io.in8(0x92) & 0x02).toBe(0);
    m.io.out8(0x92, 0x02);
    expect(m.phys.a20Enabled).toBe(true);
    expect(m.io.in8(0x92) & 0x02).toBe(0x02);
  });
});

describe('machine reset', () => {
  it('a guest writing 0xFE to port 0x64 resets the machine: run() says "reset", CPU at F000:FFF0, devices at power-on', () => {
    const m = board();
    m.io.out8(0x70, 0x0f);
    m.io.out8(0x71, 0x0a); // CMOS shutdown byte: survives
    m.io.out8(0x64, 0x60);
    m.io.out8(0x60, 0x00); // KBC command byte changed: reset restores it
    m.io.out8(0x3f9, 0x0f); // COM1 IER
    // mov al, 0xfe; out 0x64, al; jmp $
    runCode(m, [0xb0, 0xfe, 0xe6, 0x64, 0xeb, 0xfe]);
    const exit = m.run(1_000_000);
    expect(exit.reason).toBe('reset');
    expect(exit.instructions).toBeLessThan(20_000);
    expect(m.cpu.eip).toBe(0xfff0);
    expect(m.cpu.segSel[1]).toBe(0xf000);
    expect(m.kbc.commandByte).toBe(0x45);
    expect(m.io.in8(0x3f9)).toBe(0);
    m.io.out8(0x70, 0x0f);
    expect(m.io.in8(0x71)).toBe(0x0a);
  });

  it('port 0x92 bit 0 rising resets the machine', () => {
    const m = board();
    // mov al, 1; out 0x92, al; jmp $
    runCode(m, [0xb0, 0x01, 0xe6, 0x92, 0xeb, 0xfe]);
    expect(m.run(1_000_000).reason).toBe('reset');
    expect(m.io.in8(0x92) & 1).toBe(0);
  });

  it('output port bit 0 written low through 0xD1 resets the machine', () => {
    const m = board();
    // mov al, 0xd1; out 0x64, al; mov al, 0xfe; out 0x60, al; jmp $
    runCode(m, [0xb0, 0xd1, 0xe6, 0x64, 0xb0, 0xfe, 0xe6, 0x60, 0xeb, 0xfe]);
    expect(m.run(1_000_000).reason).toBe('reset');
  });
});

describe('other board ports', () => {
  it('records POST codes written to port 0x80', () => {
    const m = board();
    m.io.out8(0x80, 0x12);
    m.io.out8(0x80, 0x34);
    expect(m.postCode.last).toBe(0x34);
    expect(m.postCode.writes).toBe(2);
  });

  it('calls the x87 error-latch hook on writes to port 0xF0', () => {
    const m = board();
    let cleared = 0;
    m.fpuErrorPort.onClear = () => cleared++;
    m.io.out8(0xf0, 0);
    expect(cleared).toBe(1);
  });

  it('has COM2-COM4 at 0x2F8/IRQ3, 0x3E8/IRQ4, 0x2E8/IRQ3, sharing lines without clobbering each other', () => {
    const m = board();
    for (const base of [0x2f8, 0x3e8, 0x2e8]) {
      m.io.out8(base + 7, 0xa5); // scratch register
      expect(m.io.in8(base + 7)).toBe(0xa5);
    }
    // COM2: THR-empty interrupt with OUT2 -> IRQ3.
    m.io.out8(0x2fc, 0x08);
    m.io.out8(0x2f9, 0x02);
    expect(m.com2.irqLevel).toBe(true);
    expect(m.pic.master.irr & 0x08).toBe(0x08);
    // COM4 on the same line stays quiet; touching it must not drop COM2's request.
    m.io.out8(0x2ec, 0x08);
    m.io.out8(0x2e9, 0x00);
    expect(m.com4.irqLevel).toBe(false);
    expect(m.pic.master.irr & 0x08).toBe(0x08);
    // COM3 raises IRQ4.
    m.io.out8(0x3ec, 0x08);
    m.io.out8(0x3e9, 0x02);
    expect(m.pic.master.irr & 0x10).toBe(0x10);
  });

  it('carries the new devices in stateParts and restores them', () => {
    const a = board();
    a.io.out8(0x80, 0x77);
    a.io.out8(0x61, 0x03);
    a.io.out8(0x70, 0x50);
    a.io.out8(0x71, 0x99);
    a.io.out8(0x2ff, 0x42);
    const names = a.stateParts().map((p) => p.sectionName);
    for (const n of ['rtc', 'i8042', 'port92', 'port61', 'post-code', 'com2', 'com3', 'com4']) expect(names).toContain(n);
    const b = board();
    const parts = new Map(b.stateParts().map((p) => [p.sectionName, p]));
    for (const p of a.stateParts()) loadStateful(parts.get(p.sectionName)!, p.saveState());
    expect(b.postCode.last).toBe(0x77);
    expect(b.io.in8(0x61) & 0x0f).toBe(0x03);
    b.io.out8(0x70, 0x50);
    expect(b.io.in8(0x71)).toBe(0x99);
    expect(b.io.in8(0x2ff)).toBe(0x42);
  });

  it('starts the RTC at the configured date (not part of the migration-compatibility config)', () => {
    const m = new PcMachine({ memoryMiB: 4, rtcStart: '2001-02-03T04:05:06Z' });
    expect(m.rtcStartMs).toBe(Date.UTC(2001, 1, 3, 4, 5, 6));
    expect(JSON.stringify(m.config)).toBe(JSON.stringify(new PcMachine({ memoryMiB: 4 }).config));
    m.io.out8(0x70, 0x09);
    expect(m.io.in8(0x71)).toBe(0x01);
    expect(new PcMachine({ memoryMiB: 4 }).rtcStartMs).toBe(Date.UTC(2024, 0, 1));
    expect(() => new PcMachine({ memoryMiB: 4, rtcStart: 'yesterday' })).toThrow(RangeError);
  });
});
