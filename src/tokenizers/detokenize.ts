/**
 * Token → text: the bytes of each token (llama.cpp's `token_to_piece`), whole-sequence
 * decoding (`llama_detokenize`: leading-space removal, optional BOS/EOS removal and
 * `clean_spaces`), and a streaming decoder that holds incomplete UTF-8 characters.
 *
 * @module
 */
import type { DecodeOptions, StreamDecoder } from "./types.ts";
import { byteDecode, utf8Encode } from "./unicode.ts";
import { checkId, TokenAttr, type Vocab } from "./vocab.ts";

const EMPTY = new Uint8Array(0);
const HIDDEN = TokenAttr.CONTROL | TokenAttr.UNKNOWN;
const AS_TEXT = HIDDEN | TokenAttr.USER_DEFINED;

/** Per-vocabulary piece cache and decoding. */
export class Detokenizer {
  private readonly pieces: (Uint8Array | undefined)[];

  constructor(private readonly vocab: Vocab) {
    this.pieces = new Array(vocab.texts.length);
  }

  /** Bytes of a token with special tokens rendered as their text (validates the id). */
  piece(id: number): Uint8Array {
    checkId(this.vocab, id);
    let p = this.pieces[id];
    if (p === undefined) {
      p = this.computePiece(id);
      this.pieces[id] = p;
    }
    return p;
  }

  /** Bytes of a token; control and unknown-type tokens are empty unless `special`. */
  pieceFor(id: number, special: boolean): Uint8Array {
    const p = this.piece(id);
    return !special && (this.vocab.attrs[id] & HIDDEN) ? EMPTY : p;
  }

  private computePiece(id: number): Uint8Array {
    const v = this.vocab;
    const attr = v.attrs[id];
    const text = v.texts[id];
    if (attr & AS_TEXT) return utf8Encode(text);
    const byteLevel = v.preset?.byteLevel ?? false;
    if (attr & TokenAttr.NORMAL) {
      return byteLevel ? byteDecode(text) : utf8Encode(text.replaceAll("\u2581", " "));
    }
    if (attr & TokenAttr.BYTE) {
      const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(text);
      return m ? Uint8Array.of(parseInt(m[1], 16)) : utf8Encode(text);
    }
    return EMPTY; // unused / undefined token types produce no text, as in llama.cpp
  }

  /** Decodes a token sequence to bytes (see {@linkcode DecodeOptions}). */
  decodeBytes(tokens: readonly number[], opts: DecodeOptions = {}): Uint8Array {
    const v = this.vocab;
    const removeSpecial = opts.skipSpecial ?? false;
    let removeSpace = v.addSpacePrefix && !(opts.keepLeadingSpace ?? false);
    let first = 0;
    let end = tokens.length;
    if (removeSpecial && v.addBos && end > 0 && tokens[0] === v.bos) {
      removeSpace = false;
      first = 1;
    }
    if (removeSpecial && v.addEos && end > first && tokens[end - 1] === v.eos) end--;
    const parts: Uint8Array[] = [];
    let total = 0;
    for (let i = first; i < end; i++) {
      let p = this.pieceFor(tokens[i], !removeSpecial);
      if (removeSpace && p.length > 0 && p[0] === 0x20) p = p.subarray(1);
      removeSpace = false;
      parts.push(p);
      total += p.length;
    }
    let out: Uint8Array = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    if (opts.cleanSpaces && v.cleanSpaces) out = cleanSpaces(out);
    return out;
  }

  /** A streaming decoder over this vocabulary. */
  stream(skipSpecial: boolean): StreamDecoder {
    const decoder = new TextDecoder("utf-8");
    return {
      push: (token: number) => decoder.decode(this.pieceFor(token, !skipSpecial), { stream: true }),
      flush: () => decoder.decode(),
    };
  }
}

const SP = 0x20;
const Q = 0x27; // '

/** llama.cpp's `clean_spaces` passes: " ?" " !" " ." " ," and " 's" " 'm" " 're" " 've". */
export function cleanSpaces(text: Uint8Array): Uint8Array {
  const a = Array.from(text);
  const pass = (drop: (i: number) => boolean) => {
    const out: number[] = a.length ? [a[0]] : [];
    for (let i = 1; i < a.length; i++) {
      if (drop(i)) out.pop();
      out.push(a[i]);
    }
    a.length = 0;
    a.push(...out);
  };
  const punct = new Set([0x3f, 0x21, 0x2e, 0x2c]);
  pass((i) => a[i - 1] === SP && punct.has(a[i]));
  const ch = (i: number) => (i < a.length ? String.fromCharCode(a[i]) : "");
  pass((i) => {
    if (a[i - 1] !== SP || a[i] !== Q || i + 1 >= a.length) return false;
    const x1 = ch(i + 1);
    if (x1 === "s" || x1 === "m") return true;
    const two = x1 + ch(i + 2);
    return i + 2 < a.length && (two === "re" || two === "ve");
  });
  return Uint8Array.from(a);
}
