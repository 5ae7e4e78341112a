/**
 * Unicode helpers shared by the tokenizers: llama.cpp's whitespace set, UTF-8 conversion,
 * and GPT-2's byte ↔ printable-character mapping used by byte-level BPE vocabularies.
 *
 * @module
 */

/**
 * Contents of a regex character class for llama.cpp's whitespace set (`\s` there): the
 * ASCII controls 9-13, space, U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029,
 * U+202F, U+205F and U+3000. Unlike JavaScript's `\s` it has U+0085 and lacks U+FEFF.
 */
export const WS_CLASS =
  "\\t-\\r \\x85\\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000";

const WS_RE = new RegExp(`^[${WS_CLASS}]$`, "u");

/** True when the code point is whitespace in llama.cpp's sense. */
export function isWhitespace(cp: number): boolean {
  if (cp < 0x80) return cp === 0x20 || (cp >= 9 && cp <= 13);
  return WS_RE.test(String.fromCodePoint(cp));
}

const encoder = new TextEncoder();

/** UTF-8 bytes of a string (lone surrogates become U+FFFD). */
export function utf8Encode(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Decodes UTF-8, replacing malformed sequences with U+FFFD. */
export function utf8Decode(bytes: Uint8Array): string {
  return new TextDecoder("utf-8").decode(bytes);
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Replaces lone UTF-16 surrogates with U+FFFD so the text has a UTF-8 form. */
export function wellFormed(s: string): string {
  return s.replace(LONE_SURROGATE, "\uFFFD");
}

/** Number of bytes of the UTF-8 sequence that starts with `b` (1 for stray bytes). */
export function utf8SeqLen(b: number): number {
  if (b < 0x80) return 1;
  if ((b & 0xe0) === 0xc0) return 2;
  if ((b & 0xf0) === 0xe0) return 3;
  if ((b & 0xf8) === 0xf0) return 4;
  return 1;
}

function buildByteTable(): string[] {
  const table: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || b >= 0xae;
    table[b] = String.fromCharCode(printable ? b : 256 + extra++);
  }
  return table;
}

/** GPT-2 byte-level mapping: byte → the printable character that stands for it. */
export const BYTE_TO_CHAR: readonly string[] = buildByteTable();

/** Inverse of {@linkcode BYTE_TO_CHAR}: UTF-16 code unit → byte. */
export const CHAR_TO_BYTE: ReadonlyMap<number, number> = new Map(
  BYTE_TO_CHAR.map((c, b) => [c.charCodeAt(0), b]),
);

/** Maps text to its byte-level form: each UTF-8 byte becomes its GPT-2 character. */
export function byteEncode(text: string): string {
  const bytes = utf8Encode(text);
  let out = "";
  for (const b of bytes) out += BYTE_TO_CHAR[b];
  return out;
}

/**
 * Inverse of {@linkcode byteEncode} for one vocabulary string. Characters outside the
 * byte alphabet (which well-formed byte-level vocabularies do not contain) keep their UTF-8
 * bytes.
 */
export function byteDecode(text: string): Uint8Array {
  const out: number[] = [];
  for (const ch of text) {
    const b = ch.length === 1 ? CHAR_TO_BYTE.get(ch.charCodeAt(0)) : undefined;
    if (b !== undefined) out.push(b);
    else for (const x of utf8Encode(ch)) out.push(x);
  }
  return Uint8Array.from(out);
}
