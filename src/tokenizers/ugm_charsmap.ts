/**
 * SentencePiece's precompiled normalization charsmap (`tokenizer.ggml.precompiled_charsmap`),
 * as llama.cpp's `llm_tokenizer_ugm` reads it: a little-endian u32 blob size, then that many
 * bytes of XOR-compressed compact double array (XCDA) entries, then NUL-terminated
 * replacement strings. {@linkcode Charsmap.match} finds the longest input prefix the XCDA
 * maps and its replacement. Every index read from the blob is bounds-checked.
 *
 * @module
 */
import { TokenizerError } from "../core/errors.ts";

const KEY = "tokenizer.ggml.precompiled_charsmap";

function bad(message: string, facts: Record<string, number>): TokenizerError {
  return new TokenizerError("TOKENIZER_BAD_METADATA", `${KEY}: ${message}`, { key: KEY, ...facts });
}

/** A longest-prefix match: bytes consumed and the replacement bytes. */
export interface CharsmapMatch {
  consumed: number;
  replacement: Uint8Array;
}

/** The parsed charsmap. */
export class Charsmap {
  private readonly xcda: Uint32Array;
  private readonly replacements: Uint8Array;

  constructor(blob: Uint8Array) {
    if (blob.length < 4) throw bad("too small for its size header", { actual: blob.length });
    const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    const size = view.getUint32(0, true);
    if (size + 4 >= blob.length || size % 4 !== 0) {
      throw bad("XCDA size outside the blob", { expected: blob.length - 4, actual: size });
    }
    this.xcda = new Uint32Array(size / 4);
    for (let i = 0; i < this.xcda.length; i++) this.xcda[i] = view.getUint32(4 + 4 * i, true);
    this.replacements = blob.subarray(4 + size);
  }

  private node(i: number): number {
    if (i >= this.xcda.length) {
      throw bad("XCDA index out of bounds", { offset: i, expected: this.xcda.length });
    }
    return this.xcda[i];
  }

  private base(i: number): number {
    const n = this.node(i);
    return ((n >>> 10) << ((n & (1 << 9)) >>> 6)) >>> 0;
  }

  /** Longest prefix of `bytes[at..]` the charsmap replaces, or undefined. */
  match(bytes: Uint8Array, at: number): CharsmapMatch | undefined {
    if (this.xcda.length === 0) return undefined;
    let length = 0;
    let valueAt = 0;
    let index = this.base(0);
    for (let p = at; p < bytes.length; p++) {
      const c = bytes[p];
      if (c === 0) break;
      index = (index ^ c) >>> 0;
      const n = this.node(index);
      if ((n & 0x800000ff) >>> 0 !== c) break; // LCHECK: not a child of the previous node
      const leaf = ((n >>> 8) & 1) === 1;
      index = (index ^ this.base(index)) >>> 0;
      if (leaf) {
        length = p - at + 1;
        valueAt = this.node(index) & 0x7fffffff;
      }
    }
    if (length === 0) return undefined;
    const r = this.replacements;
    if (valueAt >= r.length) {
      throw bad("replacement offset out of bounds", { offset: valueAt, expected: r.length });
    }
    const end = r.indexOf(0, valueAt);
    if (end < 0) throw bad("unterminated replacement string", { offset: valueAt });
    return { consumed: length, replacement: r.subarray(valueAt, end) };
  }
}
