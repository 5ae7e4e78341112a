/**
 * BPE (`tokenizer.ggml.model = "gpt2"` or `"gemma4"`), following llama.cpp's
 * `llm_tokenizer_bpe_session`: pre-tokenize, map each word's UTF-8 bytes to GPT-2
 * characters (byte-level presets) or keep its code points with spaces escaped as "▁"
 * (gemma4), then repeatedly merge the adjacent pair with the lowest merge rank (ties:
 * leftmost first). Results are cached per word.
 *
 * @module
 */
import { Heap } from "./heap.ts";
import { type BpePreset, preTokenize } from "./pretokenize.ts";
import { byteEncode, utf8Encode } from "./unicode.ts";
import type { Vocab } from "./vocab.ts";

interface Bigram {
  left: number;
  right: number;
  rank: number;
  text: string;
}

const bigramBefore = (a: Bigram, b: Bigram) =>
  a.rank < b.rank || (a.rank === b.rank && a.left < b.left);

const CACHE_LIMIT = 65536;

const HEX = "0123456789ABCDEF";

/** Encodes raw text fragments with a BPE vocabulary. */
export class BpeEncoder {
  private readonly cache = new Map<string, number[]>();

  constructor(private readonly vocab: Vocab, private readonly preset: BpePreset) {}

  /** Appends the ids of `text` (a fragment without special tokens) to `out`. */
  encode(text: string, out: number[]): void {
    const byteLevel = this.preset.byteLevel;
    const escaped = byteLevel ? text : text.replaceAll(" ", "\u2581");
    for (const word of preTokenize(escaped, this.preset.regexes)) {
      let ids = this.cache.get(word);
      if (ids === undefined) {
        ids = byteLevel ? this.encodeWord(byteEncode(word), false) : this.encodeWord(word, true);
        if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
        this.cache.set(word, ids);
      }
      for (const id of ids) out.push(id);
    }
  }

  /**
   * BPE-merges one word. Symbols start as single characters: GPT-2 byte characters (one
   * UTF-16 unit each), or code points of raw text when `raw`.
   */
  private encodeWord(word: string, raw: boolean): number[] {
    const { textToId } = this.vocab;
    if (word === "") return [];
    if (this.preset.ignoreMerges || (this.preset.type === "gemma4" && /^\n+$/.test(word))) {
      // llama3/tekken: a word that is a token is kept; gemma4: so is a run of newlines.
      const whole = textToId.get(word);
      if (whole !== undefined) return [whole];
    }
    const sym: string[] = raw ? Array.from(word) : word.split("");
    const n = sym.length;
    const prev = new Int32Array(n);
    const next = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      prev[i] = i - 1;
      next[i] = i + 1 < n ? i + 1 : -1;
    }
    const queue = new Heap<Bigram>(bigramBefore);
    const ranks = this.vocab.mergeRanks!;
    const addBigram = (left: number, right: number) => {
      if (left < 0 || right < 0) return;
      const rank = ranks.get(sym[left] + " " + sym[right]);
      if (rank !== undefined) queue.push({ left, right, rank, text: sym[left] + sym[right] });
    };
    for (let i = 1; i < n; i++) addBigram(i - 1, i);
    for (let b = queue.pop(); b !== undefined; b = queue.pop()) {
      const l = sym[b.left];
      const r = sym[b.right];
      if (l === "" || r === "" || l + r !== b.text) continue;
      sym[b.left] = b.text;
      sym[b.right] = "";
      next[b.left] = next[b.right];
      if (next[b.right] >= 0) prev[next[b.right]] = b.left;
      addBigram(prev[b.left], b.left);
      addBigram(b.left, next[b.left]);
    }
    const ids: number[] = [];
    for (let i = 0; i >= 0; i = next[i]) {
      const id = textToId.get(sym[i]);
      if (id !== undefined) ids.push(id);
      else if (raw) this.byteTokens(sym[i], ids);
      else this.asciiTokens(sym[i], ids);
    }
    return ids;
  }

  /**
   * No token for a byte-level symbol: llama.cpp looks up each byte of its UTF-8 form as a
   * one-byte string, so only ASCII characters can match; the others are skipped.
   */
  private asciiTokens(symbol: string, ids: number[]): void {
    for (const ch of symbol) {
      const single = ch.charCodeAt(0) < 0x80 ? this.vocab.textToId.get(ch) : undefined;
      if (single !== undefined) ids.push(single);
    }
  }

  /** No token for a raw-text symbol: its bytes as `<0xXX>` tokens, skipping missing ones. */
  private byteTokens(symbol: string, ids: number[]): void {
    for (const b of utf8Encode(symbol)) {
      const id = this.vocab.textToId.get(`<0x${HEX[b >> 4]}${HEX[b & 15]}>`);
      if (id !== undefined) ids.push(id);
    }
  }
}
