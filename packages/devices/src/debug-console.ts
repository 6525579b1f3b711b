/**
 * The "port 0xE9 hack" debug console of Bochs and QEMU (Bochs port_e9_hack, QEMU isa-debugcon):
 * every byte the guest writes to the port goes to a host sink; reading the port returns 0xE9 so
 * a guest can detect that the console exists.
 */
import type { SectionSchema, StateRecord, Stateful } from '@ferry86/mmu';
import type { IoBus } from './io-bus.ts';
import { checkSchema, num, require } from './stateful-util.ts';

const DEBUGCON_SCHEMA: SectionSchema = {
  type: 'debugcon',
  version: 1,
  // No guest state; the port is recorded so a snapshot is refused by a machine that put the
  // console elsewhere (the guest would write into the void).
  fields: { port: 'u16' },
};

export class DebugConsole implements Stateful {
  readonly sectionName: string;
  readonly schema = DEBUGCON_SCHEMA;

  constructor(readonly port = 0xe9, private sink: ((byte: number) => void) | null = null, sectionName?: string) {
    if (!Number.isInteger(port) || port < 0 || port > 0xffff) throw new RangeError(`debug console port ${port} is not 0..0xffff`);
    this.sectionName = sectionName ?? `debugcon-${port.toString(16)}`;
  }

  /** Where written bytes go (null: discarded). */
  onOutput(sink: ((byte: number) => void) | null): void {
    this.sink = sink;
  }

  attach(bus: IoBus): void {
    bus.register(this.port, {
      in8: () => 0xe9,
      out8: (_p, v) => {
        if (this.sink) this.sink(v & 0xff);
      },
    }, this.sectionName);
  }

  saveState(): StateRecord {
    return { port: this.port };
  }

  checkState(record: StateRecord): void {
    checkSchema(this.sectionName, this.schema, record);
    const p = num(record, 'port');
    require(this.sectionName, p === this.port, `the snapshot's debug console is at port 0x${p.toString(16)}, this one at 0x${this.port.toString(16)}`);
  }

  loadState(record: StateRecord): void {
    this.checkState(record);
  }
}
