/**
 * Shared helpers for the devices' Stateful implementations.
 *
 * Every part's loadState validates the record completely (schema, then the part's own
 * invariants) before it changes anything, even when the caller skipped loadStateful():
 * a bad record must leave the part untouched (DESIGN §2.4).
 */
import { StateError, validateRecord } from '@ferry86/mmu';
import type { SectionSchema, StateRecord } from '@ferry86/mmu';

export { StateError };

/** Validates `record` against `schema` (field names and types) and throws StateError if it does not fit. */
export function checkSchema(section: string, schema: SectionSchema, record: StateRecord): void {
  validateRecord(section, schema, record);
}

/** Throws StateError(section, message) unless `cond` holds. */
export function require(section: string, cond: boolean, message: string): asserts cond {
  if (!cond) throw new StateError(section, message);
}

/** Reads a numeric field already validated by the schema. */
export function num(record: StateRecord, name: string): number {
  return record[name] as number;
}

export function bool(record: StateRecord, name: string): boolean {
  return record[name] as boolean;
}

export function bytes(record: StateRecord, name: string): Uint8Array {
  return record[name] as Uint8Array;
}

export function str(record: StateRecord, name: string): string {
  return record[name] as string;
}
