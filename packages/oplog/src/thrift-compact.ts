/**
 * Just enough of Thrift's compact protocol to write a Parquet footer and page headers
 * (what `series-parquet.ts` needs): structs of i32/i64/binary/bool fields, lists of
 * i32, binary and structs. Values are written as they are given; the caller knows the
 * Parquet schema (parquet.thrift) and passes field ids in increasing order, as the
 * protocol's delta field headers require.
 */

/** The compact protocol's type ids used here. */
const T = { TRUE: 1, FALSE: 2, I32: 5, I64: 6, BINARY: 8, LIST: 9, STRUCT: 12 } as const;
type T = (typeof T)[keyof typeof T];

const utf8 = new TextEncoder();

/** A growable byte buffer with Thrift compact writers. */
export class CompactWriter {
  private buf = new Uint8Array(1024);
  length = 0;
  /** Last field id of each open struct (the protocol writes ids as deltas). */
  private readonly lastIds: number[] = [0];

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const b = new Uint8Array(size);
    b.set(this.buf.subarray(0, this.length));
    this.buf = b;
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  private byte(b: number): void {
    this.ensure(1);
    this.buf[this.length++] = b;
  }

  /** An unsigned varint of a non-negative safe integer. */
  private varint(n: number): void {
    this.ensure(10);
    while (n >= 0x80) {
      this.buf[this.length++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.length++] = n;
  }

  /** Zigzag varint of a safe integer (i16, i32 or i64 alike). */
  private zigzag(n: number): void {
    this.varint(n >= 0 ? n * 2 : -n * 2 - 1);
  }

  private field(id: number, type: T): void {
    const last = this.lastIds[this.lastIds.length - 1]!;
    const delta = id - last;
    if (delta > 0 && delta <= 15) this.byte((delta << 4) | type);
    else {
      this.byte(type);
      this.zigzag(id);
    }
    this.lastIds[this.lastIds.length - 1] = id;
  }

  i32(id: number, v: number): this {
    this.field(id, T.I32);
    this.zigzag(v);
    return this;
  }

  /** An i64 field from a safe integer (file offsets and sizes: well below 2^53). */
  i64(id: number, v: number): this {
    this.field(id, T.I64);
    this.zigzag(v);
    return this;
  }

  bool(id: number, v: boolean): this {
    this.field(id, v ? T.TRUE : T.FALSE);
    return this;
  }

  binary(id: number, v: Uint8Array | string): this {
    this.field(id, T.BINARY);
    this.rawBinary(v);
    return this;
  }

  private rawBinary(v: Uint8Array | string): void {
    const b = typeof v === "string" ? utf8.encode(v) : v;
    this.varint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  private listHeader(id: number, size: number, type: T): void {
    this.field(id, T.LIST);
    if (size < 15) this.byte((size << 4) | type);
    else {
      this.byte(0xf0 | type);
      this.varint(size);
    }
  }

  i32List(id: number, vs: readonly number[]): this {
    this.listHeader(id, vs.length, T.I32);
    for (const v of vs) this.zigzag(v);
    return this;
  }

  binaryList(id: number, vs: readonly string[]): this {
    this.listHeader(id, vs.length, T.BINARY);
    for (const v of vs) this.rawBinary(v);
    return this;
  }

  /** A struct field whose fields `body` writes. */
  struct(id: number, body: (w: this) => void): this {
    this.field(id, T.STRUCT);
    this.structBody(body);
    return this;
  }

  structList<E>(id: number, items: readonly E[], body: (w: this, item: E) => void): this {
    this.listHeader(id, items.length, T.STRUCT);
    for (const item of items) this.structBody((w) => body(w, item));
    return this;
  }

  /** A struct's fields and its stop byte, e.g. a whole top-level struct (FileMetaData, PageHeader). */
  structBody(body: (w: this) => void): this {
    this.lastIds.push(0);
    body(this);
    this.lastIds.pop();
    this.byte(0);
    return this;
  }
}
