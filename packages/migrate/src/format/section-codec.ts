import { validateRecord, type FieldType, type FieldValue, type SectionSchema, type StateRecord } from '@ferry86/mmu';
import { ByteReader } from './ByteReader.ts';
import { ByteWriter } from './ByteWriter.ts';
import { SnapshotSaveError } from './errors.ts';
import type { StreamLimits } from './constants.ts';

/**
 * Section frame payload (DESIGN §2.4): self-describing, so a reader never depends on field order
 * or on knowing the writer's schema to parse it.
 *
 *   name (u8 len, UTF-8) | schema type (u8 len, UTF-8) | version u32 | flags u8 | fieldCount u32 |
 *   fieldCount × ( field name (u8 len, UTF-8) | type tag u8 | value )
 *
 * Values: u8/u16/u32/i32/f64/bool(0|1)/u64 fixed width; string and bytes: u32 length + data;
 * typed arrays: u32 element count + elements. Writers emit fields sorted by name, which makes the
 * payload canonical: the state digest hashes it as is.
 */

export const SECTION_FLAG_OPTIONAL = 0x01;

const TAGS: Readonly<Record<FieldType, number>> = {
  u8: 1, u16: 2, u32: 3, i32: 4, f64: 5, bool: 6, u64: 7,
  string: 8, bytes: 9, 'u16[]': 10, 'u32[]': 11, 'i32[]': 12, 'f64[]': 13,
};
const TYPE_OF_TAG: readonly (FieldType | undefined)[] = (() => {
  const t: (FieldType | undefined)[] = [];
  for (const [type, tag] of Object.entries(TAGS)) t[tag] = type as FieldType;
  return t;
})();

const MAX_NAME_BYTES = 128;

export interface DecodedSection {
  readonly name: string;
  readonly type: string;
  readonly version: number;
  readonly optional: boolean;
  /** Fields with the types the writer declared (tag), before any upgrade. */
  readonly record: StateRecord;
  readonly fieldTypes: Readonly<Record<string, FieldType>>;
  /** The payload as received; the digest hashes these bytes. */
  readonly payload: Uint8Array;
}

/** A schema may declare itself optional (skippable by readers that do not know it). */
function schemaOptional(schema: SectionSchema): boolean {
  return schema.optional === true;
}

/** Encodes one part's saved record canonically. Throws SnapshotSaveError if it breaks its schema. */
export function encodeSection(name: string, schema: SectionSchema, record: StateRecord): Uint8Array {
  try {
    validateRecord(name, schema, record);
  } catch (e) {
    throw new SnapshotSaveError(`cannot save: ${(e as Error).message}`);
  }
  const w = new ByteWriter(1024);
  w.string(name, 1);
  w.string(schema.type, 1);
  w.u32(schema.version);
  w.u8(schemaOptional(schema) ? SECTION_FLAG_OPTIONAL : 0);
  const names = Object.keys(schema.fields).sort();
  w.u32(names.length);
  for (const f of names) {
    const type = schema.fields[f]!;
    w.string(f, 1);
    w.u8(TAGS[type]);
    writeValue(w, type, record[f]!);
  }
  return w.result().slice();
}

function writeValue(w: ByteWriter, type: FieldType, v: FieldValue): void {
  switch (type) {
    case 'u8': return w.u8(v as number);
    case 'u16': return w.u16(v as number);
    case 'u32': return w.u32(v as number);
    case 'i32': return w.i32(v as number);
    case 'f64': return w.f64(v as number);
    case 'bool': return w.u8(v ? 1 : 0);
    case 'u64': return w.u64(v as bigint);
    case 'string': return w.string(v as string, 4);
    case 'bytes': {
      const b = v as Uint8Array;
      w.u32(b.length);
      return w.bytes(b);
    }
    case 'u16[]':
    case 'u32[]':
    case 'i32[]':
    case 'f64[]': {
      const a = v as Uint16Array | Uint32Array | Int32Array | Float64Array;
      w.u32(a.length);
      // Host order is little-endian (checked by hash128.ts), so the raw bytes are the encoding.
      return w.bytes(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    }
  }
}

/** Parses a Section payload. Throws SnapshotFormatError for anything malformed or over a limit. */
export function decodeSection(payload: Uint8Array, frame: number, limits: StreamLimits): DecodedSection {
  const r = new ByteReader(payload, `frame ${frame} (section)`, frame);
  const name = r.string(1, MAX_NAME_BYTES, 'section name');
  if (name.length === 0) r.fail('section name is empty');
  const type = r.string(1, MAX_NAME_BYTES, `section "${name}" schema type`);
  const version = r.u32('version');
  const flags = r.u8('flags');
  if ((flags & ~SECTION_FLAG_OPTIONAL) !== 0) r.fail(`section "${name}" has unknown flags 0x${flags.toString(16)}`);
  const count = r.u32('field count');
  if (count > limits.maxFieldsPerSection) {
    r.fail(`section "${name}" has ${count} fields, more than the ${limits.maxFieldsPerSection} allowed`, 'limit-exceeded');
  }
  const record: StateRecord = Object.create(null) as StateRecord;
  const fieldTypes: Record<string, FieldType> = Object.create(null) as Record<string, FieldType>;
  for (let i = 0; i < count; i++) {
    const f = r.string(1, 255, `section "${name}" field name`);
    if (f in record) r.fail(`section "${name}" has field "${f}" twice`);
    const tag = r.u8('type tag');
    const ft = TYPE_OF_TAG[tag];
    if (ft === undefined) return r.fail(`section "${name}" field "${f}" has unknown type tag ${tag}`);
    record[f] = readValue(r, ft, `section "${name}" field "${f}"`);
    fieldTypes[f] = ft;
  }
  r.end();
  return { name, type, version, optional: (flags & SECTION_FLAG_OPTIONAL) !== 0, record, fieldTypes, payload };
}

function readValue(r: ByteReader, type: FieldType, what: string): FieldValue {
  switch (type) {
    case 'u8': return r.u8(what);
    case 'u16': return r.u16(what);
    case 'u32': return r.u32(what);
    case 'i32': return r.i32(what);
    case 'f64': return r.f64(what);
    case 'bool': {
      const b = r.u8(what);
      if (b > 1) r.fail(`${what} is a bool with value ${b}`);
      return b === 1;
    }
    case 'u64': return r.u64(what);
    case 'string': return r.string(4, r.remaining, what);
    case 'bytes': {
      const n = r.u32(what);
      return r.view8(n, what).slice();
    }
    case 'u16[]': return new Uint16Array(arrayBytes(r, 2, what));
    case 'u32[]': return new Uint32Array(arrayBytes(r, 4, what));
    case 'i32[]': return new Int32Array(arrayBytes(r, 4, what));
    case 'f64[]': return new Float64Array(arrayBytes(r, 8, what));
  }
}

/** Copies `count × size` bytes into a fresh (aligned) buffer, after checking they are there. */
function arrayBytes(r: ByteReader, size: number, what: string): ArrayBuffer {
  const n = r.u32(what);
  if (n > r.remaining / size) r.fail(`${what} claims ${n} elements but only ${r.remaining} bytes remain`);
  const src = r.view8(n * size, what);
  const out = new Uint8Array(n * size);
  out.set(src);
  return out.buffer;
}
