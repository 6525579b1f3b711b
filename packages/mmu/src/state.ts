/**
 * State description shared by every stateful part of the machine (DESIGN §2.4).
 *
 * A part declares a named, versioned schema of named, typed fields and converts itself to and
 * from a plain record of those fields. Snapshot and migration code walk schemas; nothing
 * depends on field order. Loading is two-phase: `checkState` validates a record completely
 * (throwing StateError) before `loadState` changes anything.
 *
 * This lives in the mmu package because it is the leftmost package: every other package may
 * import it (imports point mmu <- cpu <- devices <- migrate).
 */

/** Field value types a schema can declare. Arrays are typed arrays, copied on save. */
export type FieldType =
  | 'u8' | 'u16' | 'u32' | 'i32' | 'f64' | 'bool' | 'u64' | 'string'
  | 'bytes' | 'u16[]' | 'u32[]' | 'i32[]' | 'f64[]';

export type FieldValue =
  | number | boolean | bigint | string
  | Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array;

export type StateRecord = Record<string, FieldValue>;

export interface SectionSchema {
  /** Type name of the part, e.g. "uart16550". */
  readonly type: string;
  /** Current version written by this build. */
  readonly version: number;
  /** Oldest version this build can load (through `upgrade`). Defaults to `version`. */
  readonly minVersion?: number;
  readonly fields: Readonly<Record<string, FieldType>>;
  /**
   * An optional section may be skipped by a reader that does not know it (DESIGN §2.4: unknown
   * mandatory sections fail loudly, unknown optional ones are skipped).
   */
  readonly optional?: boolean;
  /** Turns a record of version `from` into one of version `from + 1`. */
  readonly upgrade?: (from: number, record: StateRecord) => StateRecord;
}

/** A part of the machine whose state travels in snapshots and migrations. */
export interface Stateful {
  /** Unique instance name within a machine, e.g. "com1", "pic-master", "cpu0". */
  readonly sectionName: string;
  readonly schema: SectionSchema;
  saveState(): StateRecord;
  /** Throws StateError if the record is not loadable; must not change any state. */
  checkState?(record: StateRecord): void;
  /** Called only after checkState and validateRecord succeeded. */
  loadState(record: StateRecord): void;
}

/** A state record that does not fit its schema or violates an invariant of the part. */
export class StateError extends Error {
  override readonly name = 'StateError';
  constructor(readonly section: string, message: string) {
    super(`section "${section}": ${message}`);
  }
}

function fieldMatches(type: FieldType, v: FieldValue): boolean {
  switch (type) {
    case 'u8': return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xff;
    case 'u16': return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffff;
    case 'u32': return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
    case 'i32': return typeof v === 'number' && Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff;
    case 'f64': return typeof v === 'number';
    case 'bool': return typeof v === 'boolean';
    case 'u64': return typeof v === 'bigint' && v >= 0n && v < 1n << 64n;
    case 'string': return typeof v === 'string';
    case 'bytes': return v instanceof Uint8Array;
    case 'u16[]': return v instanceof Uint16Array;
    case 'u32[]': return v instanceof Uint32Array;
    case 'i32[]': return v instanceof Int32Array;
    case 'f64[]': return v instanceof Float64Array;
  }
}

/** Checks that `record` has exactly the schema's fields with the declared types. */
export function validateRecord(section: string, schema: SectionSchema, record: StateRecord): void {
  for (const [name, type] of Object.entries(schema.fields)) {
    if (!(name in record)) throw new StateError(section, `field "${name}" is missing`);
    if (!fieldMatches(type, record[name]!)) {
      throw new StateError(section, `field "${name}" is not a valid ${type}`);
    }
  }
  for (const name of Object.keys(record)) {
    if (!(name in schema.fields)) throw new StateError(section, `unknown field "${name}"`);
  }
}

/** Brings a record of an older version up to `schema.version`, or throws StateError. */
export function upgradeRecord(section: string, schema: SectionSchema, from: number, record: StateRecord): StateRecord {
  const min = schema.minVersion ?? schema.version;
  if (from > schema.version) {
    throw new StateError(section, `version ${from} is newer than this build accepts (${min}..${schema.version})`);
  }
  if (from < min) {
    throw new StateError(section, `version ${from} is older than this build accepts (${min}..${schema.version})`);
  }
  let r = record;
  for (let v = from; v < schema.version; v++) {
    if (!schema.upgrade) throw new StateError(section, `no upgrade from version ${v}`);
    r = schema.upgrade(v, r);
  }
  return r;
}

/** Validates then loads: the part is untouched if anything is wrong. */
export function loadStateful(part: Stateful, record: StateRecord): void {
  validateRecord(part.sectionName, part.schema, record);
  part.checkState?.(record);
  part.loadState(record);
}
