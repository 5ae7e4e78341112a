/**
 * Human- and JSON-friendly descriptions of GGUF contents: metadata type names, value
 * summaries (long arrays shortened), and tensor statistics (parameter count, bits per
 * weight). Used by `inspect` and anything else that prints a model.
 *
 * @module
 */
import { valueTypeName } from "./_meta_writer.ts";
import { typeTraits } from "./ggml_types.ts";
import { type GGUFFile, type GGUFMetaEntry, GGUFValueType, type MetaValue } from "./gguf_file.ts";

export { valueTypeName };

/** Type of an entry as text: "u32", "string", "array<string>", "array<array<u32>>". */
export function metaTypeName(entry: GGUFMetaEntry): string {
  if (entry.type !== GGUFValueType.ARRAY) return valueTypeName(entry.type);
  if (entry.itemType === GGUFValueType.ARRAY) {
    const inner = entry.items?.[0];
    return `array<${inner ? metaTypeName(inner) : "array"}>`;
  }
  return `array<${valueTypeName(entry.itemType ?? -1)}>`;
}

/** Shortest decimal text that reads back as the same float32 (1e-5, not 0.0000099999997...). */
export function formatF32(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  for (let p = 1; p < 9; p++) {
    const s = v.toPrecision(p);
    if (Math.fround(Number(s)) === v) return String(Number(s));
  }
  return String(v);
}

function scalarText(v: MetaValue, type: number | undefined, maxString: number): string {
  if (type === GGUFValueType.FLOAT32 && typeof v === "number") return formatF32(v);
  if (typeof v === "string") {
    const s = v.length > maxString ? `${v.slice(0, maxString)}…` : v;
    return JSON.stringify(s) + (v.length > maxString ? ` (${v.length} chars)` : "");
  }
  if (Array.isArray(v)) return `[array of ${v.length}]`;
  return String(v);
}

const PLURAL: Record<number, string> = {
  [GGUFValueType.STRING]: "strings",
  [GGUFValueType.ARRAY]: "arrays",
  [GGUFValueType.BOOL]: "bools",
};

/**
 * One-line text of an entry. Arrays longer than `maxItems` are summarized as
 * `[512 strings: "<unk>", "<s>", ...]`; strings are cut at `maxString` characters.
 */
export function formatMetaValue(entry: GGUFMetaEntry, maxItems = 8, maxString = 80): string {
  if (entry.type !== GGUFValueType.ARRAY) {
    return scalarText(entry.value, entry.type, maxString);
  }
  const values = entry.value as MetaValue[];
  const shown = values.slice(0, maxItems).map((v, i) =>
    entry.items?.[i] ? formatMetaValue(entry.items[i], 4, 24) : scalarText(v, entry.itemType, 24)
  );
  if (values.length <= maxItems) return `[${shown.join(", ")}]`;
  const kind = PLURAL[entry.itemType ?? -1] ?? valueTypeName(entry.itemType ?? -1);
  return `[${values.length} ${kind}: ${shown.join(", ")}, ...]`;
}

/** A metadata value as JSON data: bigints become numbers when safe, else decimal strings. */
export function metaValueToJSON(v: MetaValue, maxItems = Infinity): unknown {
  if (typeof v === "bigint") {
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(v)
      : v.toString();
  }
  if (typeof v === "number" && !Number.isFinite(v)) return String(v);
  if (Array.isArray(v)) return v.slice(0, maxItems).map((x) => metaValueToJSON(x, maxItems));
  return v;
}

/** Per-type tensor totals. */
export interface TypeStats {
  count: number;
  elements: number;
  bytes: number;
}

/** Totals over a file's tensors. */
export interface TensorStats {
  tensorCount: number;
  /** Sum of element counts. */
  parameterCount: number;
  /** Sum of tensor data bytes (block sizes from the ggml type table). */
  tensorBytes: number;
  /** tensorBytes * 8 / parameterCount (0 without tensors). */
  bitsPerWeight: number;
  /** Totals by ggml type name, e.g. { F32: {...}, Q4_K: {...} }. */
  byType: Record<string, TypeStats>;
}

/** Parameter count, bytes and bits per weight of a file's tensors. */
export function tensorStats(file: Pick<GGUFFile, "tensors">): TensorStats {
  const byType: Record<string, TypeStats> = {};
  let parameterCount = 0;
  let tensorBytes = 0;
  for (const t of file.tensors) {
    const name = typeTraits(t.type).name;
    const s = byType[name] ??= { count: 0, elements: 0, bytes: 0 };
    s.count++;
    s.elements += t.nElements;
    s.bytes += t.nBytes;
    parameterCount += t.nElements;
    tensorBytes += t.nBytes;
  }
  const bitsPerWeight = parameterCount > 0 ? (tensorBytes * 8) / parameterCount : 0;
  return { tensorCount: file.tensors.length, parameterCount, tensorBytes, bitsPerWeight, byType };
}

/** Bytes as text with a binary unit: "1.50 MiB". */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(2)} ${units[u]}`;
}
