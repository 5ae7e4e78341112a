/**
 * A growable little-endian byte buffer for encoding GGUF headers.
 *
 * @module
 */

const utf8 = new TextEncoder();

/** Appends little-endian scalars and GGUF strings to a buffer that grows as needed. */
export class ByteWriter {
  private buf = new Uint8Array(4096);
  private view = new DataView(this.buf.buffer);
  /** Bytes written so far. */
  length = 0;

  /** Grows the buffer for `n` more bytes; returns where they go. Read `view` after calling. */
  private reserve(n: number): number {
    const at = this.length;
    if (at + n > this.buf.byteLength) {
      let cap = this.buf.byteLength * 2;
      while (cap < at + n) cap *= 2;
      const next = new Uint8Array(cap);
      next.set(this.buf.subarray(0, at));
      this.buf = next;
      this.view = new DataView(next.buffer);
    }
    this.length = at + n;
    return at;
  }

  u8(v: number): void {
    const at = this.reserve(1);
    this.view.setUint8(at, v);
  }
  i8(v: number): void {
    const at = this.reserve(1);
    this.view.setInt8(at, v);
  }
  u16(v: number): void {
    const at = this.reserve(2);
    this.view.setUint16(at, v, true);
  }
  i16(v: number): void {
    const at = this.reserve(2);
    this.view.setInt16(at, v, true);
  }
  u32(v: number): void {
    const at = this.reserve(4);
    this.view.setUint32(at, v, true);
  }
  i32(v: number): void {
    const at = this.reserve(4);
    this.view.setInt32(at, v, true);
  }
  f32(v: number): void {
    const at = this.reserve(4);
    this.view.setFloat32(at, v, true);
  }
  f64(v: number): void {
    const at = this.reserve(8);
    this.view.setFloat64(at, v, true);
  }
  u64(v: bigint | number): void {
    const at = this.reserve(8);
    this.view.setBigUint64(at, BigInt(v), true);
  }
  i64(v: bigint | number): void {
    const at = this.reserve(8);
    this.view.setBigInt64(at, BigInt(v), true);
  }
  /** Raw bytes. */
  bytes(b: Uint8Array): void {
    const at = this.reserve(b.byteLength);
    this.buf.set(b, at);
  }
  /** A GGUF string: u64 byte length, then UTF-8 bytes. */
  string(s: string): void {
    const b = utf8.encode(s);
    this.u64(b.byteLength);
    this.bytes(b);
  }
  /** Zero bytes up to the next multiple of `alignment`. */
  pad(alignment: number): void {
    const n = (alignment - (this.length % alignment)) % alignment;
    this.reserve(n); // fresh capacity is zero-filled and never reused
  }
  /** The bytes written (a view; copy before writing more if it must stay unchanged). */
  result(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}
