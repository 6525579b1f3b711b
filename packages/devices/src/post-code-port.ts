/**
 * The POST diagnostic port 0x80: BIOSes write progress codes there for a plug-in display card,
 * and Linux writes to it as an I/O delay (outb_p). It has no effect; the last code is kept so a
 * host can show where firmware stopped. Reads return the floating bus.
 */
import type { SectionSchema, StateRecord, Stateful } from '@ferry86/mmu';
import type { IoBus } from './io-bus.ts';
import { checkSchema, num } from './stateful-util.ts';

const POST_SCHEMA: SectionSchema = { type: 'post-code', version: 1, fields: { last: 'u8', writes: 'f64' } };

export class PostCodePort implements Stateful {
  readonly sectionName: string;
  readonly schema = POST_SCHEMA;
  /** The last byte written. */
  last = 0;
  /** How many bytes were written (for diagnostics). */
  writes = 0;

  constructor(sectionName = 'post-code') {
    this.sectionName = sectionName;
  }

  attach(bus: IoBus, port = 0x80): void {
    bus.register(port, { out8: (_p, v) => this.write(v) }, this.sectionName);
  }

  write(v: number): void {
    this.last = v & 0xff;
    this.writes++;
  }

  saveState(): StateRecord {
    return { last: this.last, writes: this.writes };
  }

  checkState(record: StateRecord): void {
    checkSchema(this.sectionName, this.schema, record);
  }

  loadState(record: StateRecord): void {
    this.checkState(record);
    this.last = num(record, 'last');
    this.writes = num(record, 'writes');
  }
}
