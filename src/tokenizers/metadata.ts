/**
 * Typed readers for `tokenizer.ggml.*` metadata values. Every wrong type or shape is a
 * TokenizerError with code TOKENIZER_BAD_METADATA naming the key.
 *
 * @module
 */
import { TokenizerError } from "../core/errors.ts";
import type { MetaValue } from "../gguf/gguf_file.ts";

/** Metadata as plain values (what `plainMetadata` returns). */
export type Metadata = ReadonlyMap<string, MetaValue>;

function bad(key: string, expected: string, actual: unknown, extra: object = {}): TokenizerError {
  const shown = Array.isArray(actual) ? `array[${actual.length}]` : typeof actual;
  return new TokenizerError(
    "TOKENIZER_BAD_METADATA",
    `tokenizer metadata ${key}: expected ${expected}, got ${shown}`,
    { key, expected, actual: shown, ...extra },
  );
}

function kindOf(v: MetaValue): string {
  return Array.isArray(v) ? "array" : typeof v;
}

/** A string value, or undefined when the key is absent. */
export function optString(md: Metadata, key: string): string | undefined {
  const v = md.get(key);
  if (v === undefined) return undefined;
  if (typeof v !== "string") throw bad(key, "string", kindOf(v));
  return v;
}

/** A boolean value, or undefined when absent. */
export function optBool(md: Metadata, key: string): boolean | undefined {
  const v = md.get(key);
  if (v === undefined) return undefined;
  if (typeof v !== "boolean") throw bad(key, "bool", kindOf(v));
  return v;
}

/** A non-negative integer (number or bigint), or undefined when absent. */
export function optUint(md: Metadata, key: string): number | undefined {
  const v = md.get(key);
  if (v === undefined) return undefined;
  if (typeof v === "bigint") {
    if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) throw bad(key, "token id", String(v));
    return Number(v);
  }
  if (typeof v !== "number" || !Number.isInteger(v)) throw bad(key, "integer", kindOf(v));
  if (v < 0) return undefined; // -1 is a common "none" marker
  return v;
}

/** An array of strings; `required` makes absence an error. */
export function stringArray(md: Metadata, key: string, required: true): string[];
export function stringArray(md: Metadata, key: string, required: false): string[] | undefined;
export function stringArray(md: Metadata, key: string, required: boolean): string[] | undefined {
  const v = md.get(key);
  if (v === undefined) {
    if (!required) return undefined;
    throw new TokenizerError("TOKENIZER_BAD_METADATA", `tokenizer metadata ${key} is missing`, {
      key,
      expected: "array of strings",
      actual: "absent",
    });
  }
  if (!Array.isArray(v)) throw bad(key, "array of strings", kindOf(v));
  for (let i = 0; i < v.length; i++) {
    if (typeof v[i] !== "string") throw bad(key, "array of strings", kindOf(v[i]), { offset: i });
  }
  return v as string[];
}

/**
 * An array of numbers with exactly `length` elements, or undefined when absent. `integer`
 * requires integral values (token types).
 */
export function numberArray(
  md: Metadata,
  key: string,
  length: number,
  integer: boolean,
): number[] | undefined {
  const v = md.get(key);
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw bad(key, "array of numbers", kindOf(v));
  if (v.length !== length) {
    throw new TokenizerError(
      "TOKENIZER_BAD_METADATA",
      `tokenizer metadata ${key} has ${v.length} entries, the vocabulary has ${length}`,
      { key, expected: length, actual: v.length },
    );
  }
  const out = new Array<number>(v.length);
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    const n = typeof x === "bigint" ? Number(x) : x;
    if (typeof n !== "number" || Number.isNaN(n) || (integer && !Number.isInteger(n))) {
      throw bad(key, integer ? "array of integers" : "array of numbers", kindOf(x), { offset: i });
    }
    out[i] = n;
  }
  return out;
}

/** An array of bytes (GGUF INT8 or UINT8 elements), or undefined when absent. */
export function byteArray(md: Metadata, key: string): Uint8Array | undefined {
  const v = md.get(key);
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw bad(key, "array of bytes", kindOf(v));
  const out = new Uint8Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (typeof x !== "number" || !Number.isInteger(x) || x < -128 || x > 255) {
      throw bad(key, "array of bytes", kindOf(x), { offset: i });
    }
    out[i] = x & 0xff;
  }
  return out;
}
