import { SnapshotFormatError, type SnapshotErrorCode } from './errors.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A bounds-checked little-endian reader over one payload. Every read checks the remaining length
 * first and throws SnapshotFormatError naming `where` (e.g. 'frame 7 (section)'), so a hostile
 * length field can never read outside the payload or allocate more than the payload holds.
 */
export class ByteReader {
  private readonly view: DataView;
  pos = 0;

  constructor(
    readonly bytes: Uint8Array,
    readonly where: string,
    readonly frame?: number,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  fail(message: string, code: SnapshotErrorCode = 'bad-frame'): never {
    throw new SnapshotFormatError(code, `${this.where}: ${message}`, this.frame);
  }

  private need(n: number, what: string): void {
    if (n > this.bytes.length - this.pos) {
      this.fail(`${what} needs ${n} bytes but only ${this.bytes.length - this.pos} remain`);
    }
  }

  u8(what = 'u8'): number {
    this.need(1, what);
    return this.bytes[this.pos++]!;
  }

  u16(what = 'u16'): number {
    this.need(2, what);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }

  u32(what = 'u32'): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  i32(what = 'i32'): number {
    this.need(4, what);
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }

  f64(what = 'f64'): number {
    this.need(8, what);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  u64(what = 'u64'): bigint {
    this.need(8, what);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** A view of the next n bytes (not a copy). */
  view8(n: number, what = 'bytes'): Uint8Array {
    this.need(n, what);
    const v = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** UTF-8 text with a length prefix; `max` caps the length before anything is decoded. */
  string(prefixBytes: 1 | 2 | 4, max: number, what = 'string'): string {
    const len = prefixBytes === 1 ? this.u8(what) : prefixBytes === 2 ? this.u16(what) : this.u32(what);
    if (len > max) this.fail(`${what} is ${len} bytes, more than the ${max} allowed`, 'limit-exceeded');
    const b = this.view8(len, what);
    try {
      return utf8.decode(b);
    } catch {
      return this.fail(`${what} is not valid UTF-8`);
    }
  }

  /** Fails unless the payload has been consumed exactly. */
  end(): void {
    if (this.pos !== this.bytes.length) this.fail(`${this.bytes.length - this.pos} unexpected bytes after the record`);
  }
}
