/**
 * Byte-level BPE (`tokenizer.ggml.model = "gpt2"`), following llama.cpp's
 * `llm_tokenizer_bpe_session`: pre-tokenize, map each word's UTF-8 bytes to GPT-2
 * characters, then repeatedly merge the adjacent pair with the lowest merge rank (ties:
 * leftmost first). Results are cached per word.
 *
 * @module
 */
import { Heap } from "./heap.ts";
import { type BpePreset, preTokenize } from "./pretokenize.ts";
import { byteEncode } from "./unicode.ts";
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

/** Encodes raw text fragments with a byte-level BPE vocabulary. */
export class BpeEncoder {
  private readonly cache = new Map<string, number[]>();

  constructor(private readonly vocab: Vocab, private readonly preset: BpePreset) {}

  /** Appends the ids of `text` (a fragment without special tokens) to `out`. */
  encode(text: string, out: number[]): void {
    for (const word of preTokenize(text, this.preset.regexes)) {
      let ids = this.cache.get(word);
      if (ids === undefined) {
        ids = this.encodeWord(byteEncode(word));
        if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
        this.cache.set(word, ids);
      }
      for (const id of ids) out.push(id);
    }
  }

  /** BPE-merges one byte-encoded word. */
  private encodeWord(word: string): number[] {
    const { textToId } = this.vocab;
    if (this.preset.ignoreMerges) {
      const whole = textToId.get(word);
      if (whole !== undefined) return [whole];
    }
    // Byte-encoded text is all BMP characters: one UTF-16 unit per symbol.
    const n = word.length;
    if (n === 0) return [];
    const sym: string[] = new Array(n);
    const prev = new Int32Array(n);
    const next = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      sym[i] = word[i];
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
      if (id !== undefined) {
        ids.push(id);
        continue;
      }
      // No token for the merged symbol: fall back to one token per character, skipping
      // characters the vocabulary lacks (as llama.cpp does).
      for (const ch of sym[i]) {
        const single = textToId.get(ch);
        if (single !== undefined) ids.push(single);
      }
    }
    return ids;
  }
}
