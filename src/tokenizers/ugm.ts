/**
 * Unigram (`tokenizer.ggml.model = "t5"`), following llama.cpp's `llm_tokenizer_ugm_session`:
 * normalize the UTF-8 input (user-defined tokens kept, the precompiled charsmap's longest
 * prefix replacements, spaces escaped as "▁", a space prefix and merged runs of spaces as
 * the metadata says), then Viterbi over code-point positions: the best sum of token scores
 * (float64 of the float32 scores; user-defined tokens score 0) wins, the first one found
 * on ties; a code point no token covers becomes the unknown token with score
 * `min_score - 10`, and consecutive unknown tokens merge into one.
 *
 * Byte strings are handled as "binary" strings (one char per byte) so token lookups need no
 * decoding.
 *
 * @module
 */
import { Charsmap } from "./ugm_charsmap.ts";
import { utf8Encode, utf8SeqLen } from "./unicode.ts";
import { TokenAttr, type Vocab } from "./vocab.ts";

const SPACE = 0x20;
const ESCAPED_SPACE = [0xe2, 0x96, 0x81];

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
  /** UTF-8 (binary string) of normal, user-defined and unused tokens → id (last wins). */
  private readonly matcher = new Map<string, number>();
  /** Every prefix of a user-defined token's bytes (llama.cpp's trie walk). */
  private readonly userPrefixes = new Set<string>();
  private readonly lengths: number[];
  private readonly unknownScore: number;
  private readonly charsmap: Charsmap | undefined;

  constructor(private readonly vocab: Vocab, private readonly opts: UgmOptions) {
    this.charsmap = opts.charsmap ? new Charsmap(opts.charsmap) : undefined;
    let min = Infinity;
    const lengthSet = new Set<number>();
    const keep = TokenAttr.NORMAL | TokenAttr.USER_DEFINED | TokenAttr.UNUSED;
    for (let id = 0; id < vocab.texts.length; id++) {
      const attr = vocab.attrs[id];
      if ((attr & TokenAttr.NORMAL) && vocab.scores[id] < min) min = vocab.scores[id];
      if (!(attr & keep)) continue;
      const key = binary(utf8Encode(vocab.texts[id]));
      this.matcher.set(key, id);
      lengthSet.add(key.length);
      if (attr & TokenAttr.USER_DEFINED) {
        for (let n = 1; n <= key.length; n++) this.userPrefixes.add(key.slice(0, n));
      }
    }
    this.lengths = [...lengthSet].sort((a, b) => a - b);
    // llama.cpp: min_score starts at FLT_MAX; float32 arithmetic for the penalty.
    this.unknownScore = Math.fround((min === Infinity ? 3.4028234663852886e38 : min) - 10);
  }

  /** Appends the ids of `text` (a fragment without special tokens) to `out`. */
  encode(text: string, out: number[]): void {
    const s = this.normalize(utf8Encode(text));
    const n = s.length;
    if (n === 0) return;
    const unk = this.vocab.unk ?? -1;
    const bestId = new Int32Array(n + 1).fill(unk);
    const bestFrom = new Int32Array(n + 1);
    const bestScore = new Float64Array(n + 1).fill(-Number.MAX_VALUE);
    bestScore[0] = 0;
    const { scores, attrs } = this.vocab;
    for (let at = 0; at < n;) {
      const cpLen = Math.min(utf8SeqLen(s.charCodeAt(at)), n - at);
      const base = bestScore[at];
      let singleFound = false;
      for (const len of this.lengths) {
        if (at + len > n) break;
        const id = this.matcher.get(s.slice(at, at + len));
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

  /** llama.cpp's `normalize`: the normalized input as a binary string. */
  private normalize(input: Uint8Array): string {
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
    return binary(Uint8Array.from(out));
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
