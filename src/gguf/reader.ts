/**
 * GGUF v2/v3 reader. Every count, length and offset is checked against the bytes that
 * remain before anything is allocated or read; malformed input yields a GGUFError with the
 * offset and the expected/actual facts.
 *
 * @module
 */
import { GGUFError } from "../core/errors.ts";
import { type ByteSource, fileSource, memorySource } from "../runtime/byte_source.ts";
import { isKnownType, typeTraits } from "./ggml_types.ts";
import {
  type GGUFFile,
  type GGUFMetaEntry,
  type GGUFTensorInfo,
  GGUFValueType,
  type MetaValue,
} from "./gguf_file.ts";

const MAGIC = 0x46554747; // "GGUF" little-endian
const MAX_DIMS = 8;
const MAX_NESTING = 8;
const utf8 = new TextDecoder("utf-8", { fatal: false });

/** Bounds-checked little-endian cursor over a ByteSource, reading it in chunks. */
class Cursor {
  pos = 0;
  private buf = new Uint8Array(0);
  private bufStart = 0;
  private view = new DataView(this.buf.buffer);
  constructor(readonly src: ByteSource) {}

  get remaining(): number {
    return this.src.size - this.pos;
  }

  private need(n: number, what: string): void {
    if (n > this.remaining) {
      throw new GGUFError(
        "GGUF_TRUNCATED",
        `truncated GGUF: ${what} needs ${n} bytes at offset ${this.pos}, ${this.remaining} remain`,
        {
          offset: this.pos,
          expected: n,
          actual: this.remaining,
          bytes: n,
        },
      );
    }
    const end = this.pos + n;
    if (this.pos < this.bufStart || end > this.bufStart + this.buf.byteLength) {
      const len = Math.min(Math.max(n, 1 << 20), this.src.size - this.pos);
      this.buf = this.src.read(this.pos, len);
      this.bufStart = this.pos;
      this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    }
  }

  u8(what: string): number {
    this.need(1, what);
    return this.view.getUint8(this.pos++ - this.bufStart);
  }
  i8(what: string): number {
    this.need(1, what);
    return this.view.getInt8(this.pos++ - this.bufStart);
  }
  u16(what: string): number {
    this.need(2, what);
    const v = this.view.getUint16(this.pos - this.bufStart, true);
    this.pos += 2;
    return v;
  }
  i16(what: string): number {
    this.need(2, what);
    const v = this.view.getInt16(this.pos - this.bufStart, true);
    this.pos += 2;
    return v;
  }
  u32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos - this.bufStart, true);
    this.pos += 4;
    return v;
  }
  i32(what: string): number {
    this.need(4, what);
    const v = this.view.getInt32(this.pos - this.bufStart, true);
    this.pos += 4;
    return v;
  }
  f32(what: string): number {
    this.need(4, what);
    const v = this.view.getFloat32(this.pos - this.bufStart, true);
    this.pos += 4;
    return v;
  }
  f64(what: string): number {
    this.need(8, what);
    const v = this.view.getFloat64(this.pos - this.bufStart, true);
    this.pos += 8;
    return v;
  }
  u64(what: string): bigint {
    this.need(8, what);
    const v = this.view.getBigUint64(this.pos - this.bufStart, true);
    this.pos += 8;
    return v;
  }
  i64(what: string): bigint {
    this.need(8, what);
    const v = this.view.getBigInt64(this.pos - this.bufStart, true);
    this.pos += 8;
    return v;
  }
  /** A u64 that must fit in a safe integer and be at most `max`. */
  count(what: string, max: number): number {
    const at = this.pos;
    const v = this.u64(what);
    if (v > BigInt(max)) {
      throw new GGUFError("GGUF_LIMIT", `${what} ${v} at offset ${at} exceeds the limit ${max}`, {
        offset: at,
        expected: `<= ${max}`,
        actual: v.toString(),
      });
    }
    return Number(v);
  }
  bytes(n: number, what: string): Uint8Array {
    this.need(n, what);
    const out = this.buf.subarray(this.pos - this.bufStart, this.pos - this.bufStart + n);
    this.pos += n;
    return out;
  }
  string(what: string): string {
    const n = this.count(`${what} length`, this.remaining);
    return utf8.decode(this.bytes(n, what));
  }
}

/** Minimum encoded size of one value of a type (bounds array counts before allocating). */
function minSize(t: number): number {
  switch (t) {
    case GGUFValueType.UINT8:
    case GGUFValueType.INT8:
    case GGUFValueType.BOOL:
      return 1;
    case GGUFValueType.UINT16:
    case GGUFValueType.INT16:
      return 2;
    case GGUFValueType.UINT32:
    case GGUFValueType.INT32:
    case GGUFValueType.FLOAT32:
      return 4;
    default:
      return 8; // 64-bit scalars, string length, array header (type + count) >= 12
  }
}

function readValue(c: Cursor, type: number, key: string, depth: number): GGUFMetaEntry {
  const at = c.pos;
  switch (type) {
    case GGUFValueType.UINT8:
      return { type, value: c.u8(key) };
    case GGUFValueType.INT8:
      return { type, value: c.i8(key) };
    case GGUFValueType.UINT16:
      return { type, value: c.u16(key) };
    case GGUFValueType.INT16:
      return { type, value: c.i16(key) };
    case GGUFValueType.UINT32:
      return { type, value: c.u32(key) };
    case GGUFValueType.INT32:
      return { type, value: c.i32(key) };
    case GGUFValueType.FLOAT32:
      return { type, value: c.f32(key) };
    case GGUFValueType.FLOAT64:
      return { type, value: c.f64(key) };
    case GGUFValueType.UINT64:
      return { type, value: c.u64(key) };
    case GGUFValueType.INT64:
      return { type, value: c.i64(key) };
    case GGUFValueType.BOOL: {
      const b = c.u8(key);
      if (b > 1) {
        throw new GGUFError("GGUF_BAD_VALUE", `bool ${key} at offset ${at} is ${b}, not 0 or 1`, {
          offset: at,
          expected: "0 or 1",
          actual: b,
        });
      }
      return { type, value: b === 1 };
    }
    case GGUFValueType.STRING:
      return { type, value: c.string(key) };
    case GGUFValueType.ARRAY: {
      if (depth >= MAX_NESTING) {
        throw new GGUFError(
          "GGUF_LIMIT",
          `array ${key} nested deeper than ${MAX_NESTING} at offset ${at}`,
          {
            offset: at,
            expected: `<= ${MAX_NESTING}`,
            actual: depth + 1,
          },
        );
      }
      const itemType = c.u32(`${key} array type`);
      if (itemType > GGUFValueType.FLOAT64) {
        throw new GGUFError(
          "GGUF_BAD_VALUE",
          `array ${key} has unknown element type ${itemType} at offset ${at}`,
          {
            offset: at,
            expected: "0..12",
            actual: itemType,
          },
        );
      }
      const n = c.count(`${key} array count`, Math.floor(c.remaining / minSize(itemType)));
      const values: MetaValue[] = new Array(n);
      let items: GGUFMetaEntry[] | undefined;
      if (itemType === GGUFValueType.ARRAY) items = new Array(n);
      for (let i = 0; i < n; i++) {
        const e = readValue(c, itemType, key, depth + 1);
        values[i] = e.value;
        if (items) items[i] = e;
      }
      const entry: GGUFMetaEntry = { type, itemType: itemType as GGUFValueType, value: values };
      if (items) entry.items = items;
      return entry;
    }
    default:
      throw new GGUFError(
        "GGUF_BAD_VALUE",
        `metadata ${key} has unknown value type ${type} at offset ${at}`,
        {
          offset: at,
          expected: "0..12",
          actual: type,
        },
      );
  }
}

/** Parses a GGUF from a ByteSource. Tensor data is not read. */
export function readGGUF(src: ByteSource): GGUFFile {
  const c = new Cursor(src);
  const magic = c.u32("magic");
  if (magic !== MAGIC) {
    throw new GGUFError(
      "GGUF_BAD_MAGIC",
      `not a GGUF file: magic 0x${magic.toString(16)} at offset 0`,
      {
        offset: 0,
        expected: "0x46554747 (GGUF)",
        actual: `0x${magic.toString(16)}`,
      },
    );
  }
  const version = c.u32("version");
  if (version !== 2 && version !== 3) {
    throw new GGUFError("GGUF_BAD_VERSION", `unsupported GGUF version ${version}`, {
      offset: 4,
      expected: "2 or 3",
      actual: version,
    });
  }
  // Each tensor info takes at least 8+4+8+4+8 bytes; each KV at least 8+4+1.
  const nTensors = c.count("tensor count", Math.floor(c.remaining / 32));
  const nKV = c.count("metadata count", Math.floor(c.remaining / 13));
  const metadata = new Map<string, GGUFMetaEntry>();
  for (let i = 0; i < nKV; i++) {
    const keyAt = c.pos;
    const key = c.string("metadata key");
    if (metadata.has(key)) {
      throw new GGUFError("GGUF_BAD_VALUE", `duplicate metadata key ${key} at offset ${keyAt}`, {
        offset: keyAt,
        actual: key,
      });
    }
    const type = c.u32(`${key} type`);
    metadata.set(key, readValue(c, type, key, 0));
  }
  let alignment = 32;
  const al = metadata.get("general.alignment");
  if (al) {
    const v = typeof al.value === "bigint" ? Number(al.value) : al.value;
    if (
      typeof v !== "number" || !Number.isInteger(v) || v <= 0 || (v & (v - 1)) !== 0 || v > 1 << 20
    ) {
      throw new GGUFError(
        "GGUF_BAD_VALUE",
        `general.alignment ${String(al.value)} is not a power of two`,
        {
          expected: "power of two <= 1 MiB",
          actual: String(al.value),
        },
      );
    }
    alignment = v;
  }
  const tensors: GGUFTensorInfo[] = [];
  const names = new Set<string>();
  for (let i = 0; i < nTensors; i++) {
    const at = c.pos;
    const name = c.string("tensor name");
    if (names.has(name)) {
      throw new GGUFError("GGUF_BAD_TENSOR", `duplicate tensor ${name} at offset ${at}`, {
        offset: at,
        actual: name,
      });
    }
    names.add(name);
    const nDims = c.u32(`${name} dimension count`);
    if (nDims < 1 || nDims > MAX_DIMS) {
      throw new GGUFError("GGUF_BAD_TENSOR", `tensor ${name} has ${nDims} dimensions`, {
        offset: at,
        expected: `1..${MAX_DIMS}`,
        actual: nDims,
      });
    }
    const dims: number[] = [];
    let nElements = 1;
    for (let d = 0; d < nDims; d++) {
      const dim = c.count(`${name} dimension ${d}`, Number.MAX_SAFE_INTEGER);
      dims.push(dim);
      nElements *= dim;
      if (!Number.isSafeInteger(nElements)) {
        throw new GGUFError("GGUF_LIMIT", `tensor ${name} element count overflows`, {
          offset: at,
          actual: dims.join("x"),
        });
      }
    }
    const typeAt = c.pos;
    const type = c.u32(`${name} type`);
    if (!isKnownType(type)) {
      throw new GGUFError("GGUF_BAD_TENSOR", `tensor ${name} has unknown type ${type}`, {
        offset: typeAt,
        expected: "a ggml type id",
        actual: type,
      });
    }
    const traits = typeTraits(type);
    if (dims[0] % traits.blockSize !== 0) {
      throw new GGUFError(
        "GGUF_BAD_TENSOR",
        `tensor ${name}: row of ${
          dims[0]
        } is not a multiple of ${traits.name} block ${traits.blockSize}`,
        {
          offset: at,
          expected: traits.blockSize,
          actual: dims[0],
        },
      );
    }
    const offset = c.count(`${name} offset`, Number.MAX_SAFE_INTEGER);
    if (offset % alignment !== 0) {
      throw new GGUFError(
        "GGUF_BAD_TENSOR",
        `tensor ${name} offset ${offset} is not aligned to ${alignment}`,
        {
          offset: at,
          expected: alignment,
          actual: offset,
        },
      );
    }
    const nBytes = (nElements / traits.blockSize) * traits.typeSize;
    tensors.push({ name, dims, type, offset, nElements, nBytes });
  }
  const dataOffset = Math.ceil(c.pos / alignment) * alignment;
  for (const t of tensors) {
    const end = dataOffset + t.offset + t.nBytes;
    if (end > src.size) {
      throw new GGUFError(
        "GGUF_TRUNCATED",
        `tensor ${t.name} data [${
          dataOffset + t.offset
        }, ${end}) lies past the end of the file (${src.size} bytes)`,
        {
          offset: dataOffset + t.offset,
          expected: end,
          actual: src.size,
          bytes: t.nBytes,
        },
      );
    }
  }
  return { version, metadata, tensors, alignment, dataOffset, source: src };
}

/** Parses a GGUF held in memory. */
export function parseGGUF(bytes: Uint8Array): GGUFFile {
  return readGGUF(memorySource(bytes));
}

/** Opens and parses a GGUF file; tensor data is read lazily. Close with `file.source.close()`. */
export function openGGUF(path: string): GGUFFile {
  const src = fileSource(path);
  try {
    return readGGUF(src);
  } catch (e) {
    src.close();
    throw e;
  }
}
