/**
 * Validates and encodes GGUF metadata entries. Each value must match its declared type
 * (integers in range, 64-bit integers as bigint or safe integers, arrays with a valid element
 * type); anything else is an InvalidArgumentError naming the key.
 *
 * @module
 */
import { InvalidArgumentError } from "../core/errors.ts";
import type { ByteWriter } from "./_byte_writer.ts";
import { MAX_NESTING } from "./_meta_reader.ts";
import { type GGUFMetaEntry, GGUFValueType, type MetaValue } from "./gguf_file.ts";

/** Integer ranges of the fixed-size integer types. */
const INT_RANGE: Record<number, [number, number]> = {
  [GGUFValueType.UINT8]: [0, 0xff],
  [GGUFValueType.INT8]: [-0x80, 0x7f],
  [GGUFValueType.UINT16]: [0, 0xffff],
  [GGUFValueType.INT16]: [-0x8000, 0x7fff],
  [GGUFValueType.UINT32]: [0, 0xffffffff],
  [GGUFValueType.INT32]: [-0x80000000, 0x7fffffff],
};
const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

/** Lower-case name of a value type, for messages and display ("u32", "string", ...). */
export function valueTypeName(t: number): string {
  return [
    "u8",
    "i8",
    "u16",
    "i16",
    "u32",
    "i32",
    "f32",
    "bool",
    "string",
    "array",
    "u64",
    "i64",
    "f64",
  ][
    t
  ] ?? `type${t}`;
}

function bad(key: string, message: string, actual: unknown): never {
  throw new InvalidArgumentError(`metadata ${key}: ${message}`, {
    actual: typeof actual === "bigint" ? actual.toString() : actual,
    key,
  });
}

function checkType(key: string, t: unknown, what: string): asserts t is GGUFValueType {
  if (typeof t !== "number" || !Number.isInteger(t) || t < 0 || t > GGUFValueType.FLOAT64) {
    bad(key, `${what} ${String(t)} is not a GGUF value type (0..12)`, t);
  }
}

function big(key: string, v: MetaValue, lo: bigint, hi: bigint, type: number): bigint {
  let b: bigint;
  if (typeof v === "bigint") b = v;
  else if (typeof v === "number" && Number.isSafeInteger(v)) b = BigInt(v);
  else return bad(key, `${valueTypeName(type)} value must be a bigint or safe integer`, v);
  if (b < lo || b > hi) bad(key, `${b} is out of ${valueTypeName(type)} range`, b);
  return b;
}

/** Checks one scalar and, when `w` is given, writes it. */
function scalar(w: ByteWriter | null, key: string, type: number, v: MetaValue): void {
  switch (type) {
    case GGUFValueType.FLOAT32:
    case GGUFValueType.FLOAT64:
      if (typeof v !== "number") bad(key, `${valueTypeName(type)} value must be a number`, v);
      if (type === GGUFValueType.FLOAT32) w?.f32(v);
      else w?.f64(v);
      return;
    case GGUFValueType.BOOL:
      if (typeof v !== "boolean") bad(key, "bool value must be a boolean", v);
      w?.u8(v ? 1 : 0);
      return;
    case GGUFValueType.STRING:
      if (typeof v !== "string") bad(key, "string value must be a string", v);
      w?.string(v);
      return;
    case GGUFValueType.UINT64:
      {
        const b = big(key, v, 0n, U64_MAX, type);
        w?.u64(b);
      }
      return;
    case GGUFValueType.INT64:
      {
        const b = big(key, v, I64_MIN, I64_MAX, type);
        w?.i64(b);
      }
      return;
  }
  const [lo, hi] = INT_RANGE[type];
  if (typeof v !== "number" || !Number.isInteger(v) || v < lo || v > hi) {
    bad(key, `${valueTypeName(type)} value must be an integer in [${lo}, ${hi}]`, v);
  }
  if (!w) return;
  if (type === GGUFValueType.UINT8) w.u8(v);
  else if (type === GGUFValueType.INT8) w.i8(v);
  else if (type === GGUFValueType.UINT16) w.u16(v);
  else if (type === GGUFValueType.INT16) w.i16(v);
  else if (type === GGUFValueType.UINT32) w.u32(v);
  else w.i32(v);
}

/**
 * Checks a metadata entry and, when `w` is given, writes its value (not its type id).
 * Arrays of arrays take their element types from `entry.items`.
 */
export function writeMetaValue(
  w: ByteWriter | null,
  key: string,
  entry: GGUFMetaEntry,
  depth = 0,
): void {
  checkType(key, entry.type, "type");
  if (entry.type !== GGUFValueType.ARRAY) return scalar(w, key, entry.type, entry.value);
  if (depth >= MAX_NESTING) bad(key, `arrays nested deeper than ${MAX_NESTING}`, depth + 1);
  const values = entry.value;
  if (!Array.isArray(values)) bad(key, "array value must be an array", values);
  checkType(key, entry.itemType, "array element type");
  w?.u32(entry.itemType);
  w?.u64(values.length);
  if (entry.itemType !== GGUFValueType.ARRAY) {
    for (const v of values) scalar(w, key, entry.itemType, v);
    return;
  }
  const items = entry.items;
  if (!items || items.length !== values.length) {
    bad(key, "an array of arrays needs `items` (one entry per inner array)", items?.length);
  }
  for (const item of items) {
    if (item.type !== GGUFValueType.ARRAY) bad(key, "inner entries must be arrays", item.type);
    writeMetaValue(w, key, item, depth + 1);
  }
}
