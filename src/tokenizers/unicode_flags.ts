/**
 * llama.cpp's Unicode categories (`unicode_cpt_flags`), from its own table
 * ({@linkcode CATEGORY_RANGES}), so a code point the JavaScript engine's newer Unicode knows
 * but llama.cpp's table does not is still "undefined" here, as there. Regex sources use
 * `\p{L}`, `\p{N}`, `\p{P}`, `\p{S}`, `\p{M}`; {@linkcode withLlamaCategories} rewrites them
 * into explicit code point classes from the table.
 *
 * @module
 */
import { CATEGORY_RANGES } from "./unicode_categories.ts";

/** Category flags, as llama.cpp's `unicode_cpt_flags` (one per code point). */
export const Category = {
  UNDEFINED: 0x01,
  NUMBER: 0x02,
  LETTER: 0x04,
  SEPARATOR: 0x08,
  MARK: 0x10,
  PUNCTUATION: 0x20,
  SYMBOL: 0x40,
  CONTROL: 0x80,
} as const;

function decode(): { starts: Uint32Array; flags: Uint8Array } {
  const starts: number[] = [];
  const flags: number[] = [];
  let cp = 0;
  for (let i = 0; i < CATEGORY_RANGES.length;) {
    const bit = CATEGORY_RANGES.charCodeAt(i) - 65;
    let j = i + 1;
    // Category letters are upper case; base-36 digits are 0-9 and lower case.
    while (j < CATEGORY_RANGES.length && !/[A-Z]/.test(CATEGORY_RANGES[j])) j++;
    cp += parseInt(CATEGORY_RANGES.slice(i + 1, j), 36);
    starts.push(cp);
    flags.push(1 << bit);
    i = j;
  }
  return { starts: Uint32Array.from(starts), flags: Uint8Array.from(flags) };
}

const TABLE = decode();

/** llama.cpp's category flag of a code point. */
export function categoryOf(cp: number): number {
  const { starts, flags } = TABLE;
  if (cp < 0 || cp > 0x10ffff) return Category.UNDEFINED;
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= cp) lo = mid;
    else hi = mid - 1;
  }
  return flags[lo];
}

const CLASS_FLAG: Record<string, number> = {
  L: Category.LETTER,
  N: Category.NUMBER,
  P: Category.PUNCTUATION,
  S: Category.SYMBOL,
  M: Category.MARK,
};
const classes = new Map<string, string>();

const hex = (cp: number) => `\\u{${cp.toString(16)}}`;

/** Regex character-class contents (no brackets) of every code point in category `name`. */
export function categoryClass(name: string): string {
  let cls = classes.get(name);
  if (cls !== undefined) return cls;
  const flag = CLASS_FLAG[name];
  const { starts, flags } = TABLE;
  cls = "";
  for (let i = 0; i < starts.length; i++) {
    if (flags[i] !== flag) continue;
    const last = (i + 1 < starts.length ? starts[i + 1] : 0x110000) - 1;
    cls += starts[i] === last ? hex(last) : `${hex(starts[i])}-${hex(last)}`;
  }
  classes.set(name, cls);
  return cls;
}

/**
 * A `u` regex source with `\p{L|N|P|S|M}` replaced by llama.cpp's code point classes (inside
 * a character class: its contents; elsewhere: a bracketed class).
 */
export function withLlamaCategories(src: string): string {
  let out = "";
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === "\\") {
      const m = /^\\p\{([LNPSM])\}/.exec(src.slice(i, i + 5));
      if (m) {
        out += inClass ? categoryClass(m[1]) : `[${categoryClass(m[1])}]`;
        i += 4;
      } else {
        out += c + (src[i + 1] ?? "");
        i++;
      }
      continue;
    }
    if (c === "[" && !inClass) inClass = true;
    else if (c === "]" && inClass) inClass = false;
    out += c;
  }
  return out;
}
