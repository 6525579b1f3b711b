/** A growable little-endian byte writer for small payloads (sections, header bodies). */

const utf8 = new TextEncoder();

export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  length = 0;

  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
    this.view = new DataView(this.buf.buffer);
  }

  private ensure(extra: number): void {
    const need = this.length + extra;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buf.subarray(0, this.length));
    this.buf = grown;
    this.view = new DataView(grown.buffer);
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.length++] = v;
  }

  u16(v: number): void {
    this.ensure(2);
    this.view.setUint16(this.length, v, true);
    this.length += 2;
  }

  u32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.length, v, true);
    this.length += 4;
  }

  i32(v: number): void {
    this.ensure(4);
    this.view.setInt32(this.length, v, true);
    this.length += 4;
  }

  f64(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.length, v, true);
    this.length += 8;
  }

  u64(v: bigint): void {
    this.ensure(8);
    this.view.setBigUint64(this.length, v, true);
    this.length += 8;
  }

  bytes(data: Uint8Array): void {
    this.ensure(data.length);
    this.buf.set(data, this.length);
    this.length += data.length;
  }

  /** UTF-8 string with a length prefix of `prefixBytes` (1, 2 or 4). */
  string(s: string, prefixBytes: 1 | 2 | 4): void {
    const b = utf8.encode(s);
    const max = prefixBytes === 1 ? 0xff : prefixBytes === 2 ? 0xffff : 0xffffffff;
    if (b.length > max) throw new RangeError(`string of ${b.length} bytes does not fit a ${prefixBytes}-byte length`);
    if (prefixBytes === 1) this.u8(b.length);
    else if (prefixBytes === 2) this.u16(b.length);
    else this.u32(b.length);
    this.bytes(b);
  }

  /** The written bytes (a view; copy if the writer will be reused). */
  result(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}
