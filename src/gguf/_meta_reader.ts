/**
 * Reads GGUF metadata values (all 13 value types, arrays nested up to a fixed depth) from a
 * Cursor. Array counts are bounded by the bytes that remain before anything is allocated.
 *
 * @module
 */
import { GGUFError } from "../core/errors.ts";
import { Cursor } from "./_cursor.ts";
import { type GGUFMetaEntry, GGUFValueType, type MetaValue } from "./gguf_file.ts";

/** Deepest array nesting accepted (arrays of arrays of ...). */
export const MAX_NESTING = 8;
/** Most elements in one metadata array. */
export const MAX_ARRAY_LENGTH = 1 << 28;

/** Encoded bytes of one scalar of each type; 0 for STRING/ARRAY (variable). */
const SCALAR_SIZE = [1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8];

/** Smallest encoded size of one value of type `t` (strings 8, arrays 12). */
function minSize(t: number): number {
  return t === GGUFValueType.STRING ? 8 : t === GGUFValueType.ARRAY ? 12 : SCALAR_SIZE[t];
}

function badBool(key: string, at: number, b: number): never {
  throw new GGUFError("GGUF_BAD_VALUE", `bool ${key} at offset ${at} is ${b}, not 0 or 1`, {
    offset: at,
    expected: "0 or 1",
    actual: b,
  });
}

function badType(key: string, at: number, type: number, what: string): never {
  throw new GGUFError(
    "GGUF_BAD_VALUE",
    `metadata ${key} has unknown ${what} ${type} at offset ${at}`,
    { offset: at, expected: "0..12", actual: type },
  );
}

/** Reads one scalar of a fixed-size type. */
function readScalar(c: Cursor, type: number, key: string): MetaValue {
  switch (type) {
    case GGUFValueType.UINT8:
      return c.u8(key);
    case GGUFValueType.INT8:
      return c.i8(key);
    case GGUFValueType.UINT16:
      return c.u16(key);
    case GGUFValueType.INT16:
      return c.i16(key);
    case GGUFValueType.UINT32:
      return c.u32(key);
    case GGUFValueType.INT32:
      return c.i32(key);
    case GGUFValueType.FLOAT32:
      return c.f32(key);
    case GGUFValueType.FLOAT64:
      return c.f64(key);
    case GGUFValueType.UINT64:
      return c.u64(key);
    case GGUFValueType.INT64:
      return c.i64(key);
    default: {
      const at = c.pos;
      const b = c.u8(key);
      if (b > 1) badBool(key, at, b);
      return b === 1;
    }
  }
}

/** Reads `n` fixed-size scalars after checking that all their bytes are present. */
function readScalarArray(c: Cursor, type: number, n: number, key: string): MetaValue[] {
  c.need(n * SCALAR_SIZE[type], `${key} array data`);
  const out: MetaValue[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = readScalar(c, type, key);
  return out;
}

/** Reads one value of `type` for metadata `key`; `depth` counts enclosing arrays. */
export function readValue(c: Cursor, type: number, key: string, depth: number): GGUFMetaEntry {
  if (type === GGUFValueType.STRING) return { type, value: c.string(key) };
  if (type !== GGUFValueType.ARRAY) {
    if (type > GGUFValueType.FLOAT64) badType(key, c.pos - 4, type, "value type");
    return { type: type as GGUFValueType, value: readScalar(c, type, key) };
  }
  const at = c.pos;
  if (depth >= MAX_NESTING) {
    throw new GGUFError("GGUF_LIMIT", `array ${key} nested deeper than ${MAX_NESTING}`, {
      offset: at,
      expected: `<= ${MAX_NESTING}`,
      actual: depth + 1,
    });
  }
  const itemType = c.u32(`${key} array element type`);
  if (itemType > GGUFValueType.FLOAT64) badType(key, at, itemType, "array element type");
  const room = Math.floor((c.remaining - 8) / minSize(itemType));
  const n = c.count(`${key} array count`, Math.max(0, Math.min(room, MAX_ARRAY_LENGTH)));
  const entry: GGUFMetaEntry = { type, itemType: itemType as GGUFValueType, value: [] };
  if (itemType === GGUFValueType.STRING) {
    const values: string[] = [];
    for (let i = 0; i < n; i++) values.push(c.string(key));
    entry.value = values;
  } else if (itemType === GGUFValueType.ARRAY) {
    const values: MetaValue[] = [];
    const items: GGUFMetaEntry[] = [];
    for (let i = 0; i < n; i++) {
      const e = readValue(c, GGUFValueType.ARRAY, key, depth + 1);
      values.push(e.value);
      items.push(e);
    }
    entry.value = values;
    entry.items = items;
  } else {
    entry.value = readScalarArray(c, itemType, n, key);
  }
  return entry;
}
