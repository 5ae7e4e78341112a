/**
 * A bounds-checked little-endian cursor over a ByteSource, used by the GGUF reader. It reads
 * the source in chunks of at least 1 MiB and checks every read against the bytes that remain,
 * so a length or count claimed by the file can never make it read (or allocate) past the end.
 * Error messages are built only when a check fails, keeping the per-value cost low.
 *
 * @module
 */
import { GGUFError } from "../core/errors.ts";
import type { ByteSource } from "../runtime/byte_source.ts";

/** Chunk size for reads from the source. */
const CHUNK = 1 << 20;
/** Longest string the reader accepts (JavaScript strings top out near 2^29 UTF-16 units). */
export const MAX_STRING_BYTES = 1 << 28;
const TWO_32 = 4294967296;
const utf8 = new TextDecoder("utf-8", { fatal: false });

/** Forward-only reader; `pos` is the absolute offset of the next byte. */
export class Cursor {
  pos = 0;
  private buf: Uint8Array = new Uint8Array(0);
  private bufStart = 0;
  private view = new DataView(this.buf.buffer);
  /** Total bytes of the source. */
  readonly size: number;

  constructor(readonly src: ByteSource) {
    this.size = src.size;
  }

  /** Bytes left after `pos`. */
  get remaining(): number {
    return this.size - this.pos;
  }

  /** Ensures `n` bytes at `pos` are buffered; returns the buffer index of `pos`. */
  need(n: number, what: string): number {
    if (n > this.size - this.pos) this.truncated(n, what);
    const i = this.pos - this.bufStart;
    if (i + n <= this.buf.byteLength) return i;
    const len = Math.min(Math.max(n, CHUNK), this.size - this.pos);
    this.buf = this.src.read(this.pos, len);
    this.bufStart = this.pos;
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    return 0;
  }

  private truncated(n: number, what: string): never {
    throw new GGUFError(
      "GGUF_TRUNCATED",
      `truncated GGUF: ${what} needs ${n} bytes at offset ${this.pos}, ${this.remaining} remain`,
      { offset: this.pos, expected: n, actual: this.remaining, bytes: n },
    );
  }

  u8(what: string): number {
    const i = this.need(1, what);
    this.pos += 1;
    return this.buf[i];
  }
  i8(what: string): number {
    const i = this.need(1, what);
    this.pos += 1;
    return this.view.getInt8(i);
  }
  u16(what: string): number {
    const i = this.need(2, what);
    this.pos += 2;
    return this.view.getUint16(i, true);
  }
  i16(what: string): number {
    const i = this.need(2, what);
    this.pos += 2;
    return this.view.getInt16(i, true);
  }
  u32(what: string): number {
    const i = this.need(4, what);
    this.pos += 4;
    return this.view.getUint32(i, true);
  }
  i32(what: string): number {
    const i = this.need(4, what);
    this.pos += 4;
    return this.view.getInt32(i, true);
  }
  f32(what: string): number {
    const i = this.need(4, what);
    this.pos += 4;
    return this.view.getFloat32(i, true);
  }
  f64(what: string): number {
    const i = this.need(8, what);
    this.pos += 8;
    return this.view.getFloat64(i, true);
  }
  u64(what: string): bigint {
    const i = this.need(8, what);
    this.pos += 8;
    return this.view.getBigUint64(i, true);
  }
  i64(what: string): bigint {
    const i = this.need(8, what);
    this.pos += 8;
    return this.view.getBigInt64(i, true);
  }

  /**
   * A u64 count, length or offset that must be at most `max` (itself at most
   * Number.MAX_SAFE_INTEGER); returned as a number. Throws GGUF_LIMIT otherwise.
   */
  count(what: string, max: number): number {
    const i = this.need(8, what);
    const lo = this.view.getUint32(i, true);
    const hi = this.view.getUint32(i + 4, true);
    // hi < 2^21 keeps the value below 2^53, so the float arithmetic is exact.
    if (hi < 0x200000) {
      const v = hi * TWO_32 + lo;
      if (v <= max) {
        this.pos += 8;
        return v;
      }
    }
    const v = this.view.getBigUint64(i, true);
    throw new GGUFError(
      "GGUF_LIMIT",
      `${what} ${v} at offset ${this.pos} exceeds the limit ${max}`,
      { offset: this.pos, expected: `<= ${max}`, actual: v.toString() },
    );
  }

  /** A GGUF string: u64 byte length, then UTF-8 bytes (invalid sequences become U+FFFD). */
  string(what: string): string {
    const n = this.count(what, Math.min(this.size - this.pos - 8, MAX_STRING_BYTES));
    if (n === 0) return "";
    const i = this.need(n, what);
    this.pos += n;
    if (n <= SHORT_STRING) return decodeShort(this.buf, i, i + n);
    return utf8.decode(this.buf.subarray(i, i + n));
  }
}

/** Strings up to this many bytes are decoded by `decodeShort`. */
const SHORT_STRING = 64;
const units: number[] = [];

/**
 * Decodes well-formed UTF-8 in b[start, end) (token strings: short, many); anything
 * ill-formed goes to TextDecoder, which replaces bad sequences with U+FFFD.
 */
export function decodeShort(b: Uint8Array, start: number, end: number): string {
  units.length = end - start;
  let u = 0;
  let k = start;
  while (k < end) {
    const c = b[k];
    if (c < 0x80) {
      units[u++] = c;
      k += 1;
      continue;
    }
    let cp = 0;
    let len = 0;
    let min = 0;
    if (c >= 0xc2 && c <= 0xdf) {
      cp = c & 0x1f;
      len = 2;
      min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
      cp = c & 0x0f;
      len = 3;
      min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
      cp = c & 0x07;
      len = 4;
      min = 0x10000;
    } else {
      return utf8.decode(b.subarray(start, end));
    }
    if (k + len > end) return utf8.decode(b.subarray(start, end));
    for (let j = 1; j < len; j++) {
      const cc = b[k + j];
      if ((cc & 0xc0) !== 0x80) return utf8.decode(b.subarray(start, end));
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return utf8.decode(b.subarray(start, end));
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      units[u++] = 0xd800 | (cp >> 10);
      units[u++] = 0xdc00 | (cp & 0x3ff);
    } else {
      units[u++] = cp;
    }
    k += len;
  }
  units.length = u;
  return String.fromCharCode.apply(null, units);
}
