/**
 * Unigram (`tokenizer.ggml.model = "t5"`), following llama.cpp's `llm_tokenizer_ugm_session`:
 * normalize the UTF-8 input (user-defined tokens kept, the precompiled charsmap's longest
 * prefix replacements, spaces escaped as "▁", a space prefix and merged runs of spaces as
 * the metadata says), then Viterbi over code-point positions: the best sum of token scores
 * (float64 of the float32 scores; user-defined tokens score 0) wins, the first one found
 * on ties; a code point no token covers becomes the unknown token with score
 * `min_score - 10`, and consecutive unknown tokens merge into one.
 *
 * Normalization works on UTF-8 bytes as llama.cpp does (user-defined prefixes are matched
 * as "binary" strings, one char per byte); the search runs on the decoded string, which
 * matches llama.cpp's byte-level trie walk because every token is whole code points.
 *
 * @module
 */
import { Charsmap } from "./ugm_charsmap.ts";
import { utf8Decode, utf8Encode, utf8SeqLen } from "./unicode.ts";
import { TokenAttr, type Vocab } from "./vocab.ts";

const SPACE = 0x20;
const ESCAPED_SPACE = [0xe2, 0x96, 0x81];
const MATCHABLE = TokenAttr.NORMAL | TokenAttr.USER_DEFINED | TokenAttr.UNUSED;

function binary(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

/** UGM options read from the metadata. */
export interface UgmOptions {
  charsmap: Uint8Array | undefined;
  removeExtraWhitespaces: boolean;
}

/** Encodes raw text fragments with a unigram vocabulary. */
export class UgmEncoder {
  /**
   * Texts whose matchable id is not `textToId`'s (a duplicate text: llama.cpp's trie keeps
   * the last normal, user-defined or unused id).
   */
  private readonly override = new Map<string, number>();
  /** Every prefix of a user-defined token's bytes (llama.cpp's trie walk), binary strings. */
  private readonly userPrefixes = new Set<string>();
  /** Distinct token lengths in UTF-16 units, ascending. */
  private readonly lengths: number[];
  private readonly unknownScore: number;
  private readonly charsmap: Charsmap | undefined;

  constructor(private readonly vocab: Vocab, private readonly opts: UgmOptions) {
    this.charsmap = opts.charsmap ? new Charsmap(opts.charsmap) : undefined;
    const { texts, attrs, scores, textToId } = vocab;
    let min = Infinity;
    const lengthSet = new Set<number>();
    for (let id = 0; id < texts.length; id++) {
      const attr = attrs[id];
      if ((attr & TokenAttr.NORMAL) && scores[id] < min) min = scores[id];
      if (!(attr & MATCHABLE)) continue;
      const text = texts[id];
      lengthSet.add(text.length);
      if (textToId.get(text) !== id) this.override.set(text, id);
      if (attr & TokenAttr.USER_DEFINED) {
        const key = binary(utf8Encode(text));
        for (let n = 1; n <= key.length; n++) this.userPrefixes.add(key.slice(0, n));
      }
    }
    this.lengths = [...lengthSet].sort((a, b) => a - b);
    // llama.cpp: min_score starts at FLT_MAX; float32 arithmetic for the penalty.
    this.unknownScore = Math.fround((min === Infinity ? 3.4028234663852886e38 : min) - 10);
  }

  /** The id of a token the Viterbi search may use for `text`, or undefined. */
  private lookup(text: string): number | undefined {
    const id = this.override.get(text) ?? this.vocab.textToId.get(text);
    return id !== undefined && (this.vocab.attrs[id] & MATCHABLE) ? id : undefined;
  }

  /** Appends the ids of `text` (a fragment without special tokens) to `out`. */
  encode(text: string, out: number[]): void {
    const s = utf8Decode(this.normalize(utf8Encode(text)));
    const n = s.length;
    if (n === 0) return;
    const unk = this.vocab.unk ?? -1;
    const bestId = new Int32Array(n + 1).fill(unk);
    const bestFrom = new Int32Array(n + 1);
    const bestScore = new Float64Array(n + 1).fill(-Number.MAX_VALUE);
    bestScore[0] = 0;
    const { scores, attrs } = this.vocab;
    for (let at = 0; at < n;) {
      const cpLen = (s.codePointAt(at) ?? 0) > 0xffff ? 2 : 1;
      const base = bestScore[at];
      let singleFound = false;
      for (const len of this.lengths) {
        if (at + len > n) break;
        const id = this.lookup(s.slice(at, at + len));
        if (id === undefined) continue;
        if (len === cpLen) singleFound = true;
        const score = base + ((attrs[id] & TokenAttr.USER_DEFINED) ? 0 : scores[id]);
        if (score > bestScore[at + len]) {
          bestScore[at + len] = score;
          bestId[at + len] = id;
          bestFrom[at + len] = at;
        }
      }
      if (!singleFound) {
        const score = base + this.unknownScore;
        if (score > bestScore[at + cpLen]) {
          bestScore[at + cpLen] = score;
          bestId[at + cpLen] = unk;
          bestFrom[at + cpLen] = at;
        }
      }
      at += cpLen;
    }
    const ids: number[] = [];
    let prevUnknown = false;
    for (let pos = n;;) {
      const id = bestId[pos];
      const isUnknown = id === unk;
      if (!(prevUnknown && isUnknown)) ids.push(id);
      if (bestFrom[pos] === 0) break;
      prevUnknown = isUnknown;
      pos = bestFrom[pos];
    }
    for (let i = ids.length - 1; i >= 0; i--) out.push(ids[i]);
  }

  /** llama.cpp's `normalize`, on UTF-8 bytes. */
  private normalize(input: Uint8Array): Uint8Array {
    const out: number[] = [];
    const prepend = this.vocab.addSpacePrefix;
    const merge = this.opts.removeExtraWhitespaces;
    let prepended = false;
    let inWord = false;
    for (let at = 0; at < input.length;) {
      const [piece, consumed] = this.normalizePrefix(input, at);
      for (const c of piece) {
        if (c !== SPACE) {
          if (!inWord) {
            inWord = true;
            if ((prepend && !prepended) || merge) {
              out.push(...ESCAPED_SPACE);
              prepended = true;
            }
          }
          out.push(c);
        } else {
          inWord = false;
          if (!merge) out.push(...ESCAPED_SPACE);
        }
      }
      at += consumed;
    }
    return Uint8Array.from(out);
  }

  /** The replacement of the input prefix at `at` and the number of bytes it consumes. */
  private normalizePrefix(input: Uint8Array, at: number): [Uint8Array, number] {
    let user = 0;
    if (this.userPrefixes.size > 0) {
      let key = "";
      for (let p = at; p < input.length; p++) {
        key += String.fromCharCode(input[p]);
        if (!this.userPrefixes.has(key)) break;
        user = p - at + 1;
      }
    }
    if (user > 0) return [input.subarray(at, at + user), user];
    const m = this.charsmap?.match(input, at);
    if (m) return [m.replacement, m.consumed];
    // Input comes from a well-formed string: one whole code point.
    const len = Math.min(utf8SeqLen(input[at]), input.length - at);
    return [input.subarray(at, at + len), len];
  }
}
