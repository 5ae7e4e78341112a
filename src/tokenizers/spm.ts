/**
 * SentencePiece-style BPE (`tokenizer.ggml.model = "llama"`), following llama.cpp's
 * `llm_tokenizer_spm_session`: split the (space-escaped) text into characters, then
 * repeatedly merge the adjacent pair whose concatenation is the vocabulary token with the
 * highest score (ties: leftmost first). Symbols that are not tokens fall back to `<0xXX>`
 * byte tokens, then to the unknown token.
 *
 * @module
 */
import { Heap } from "./heap.ts";
import { utf8Encode } from "./unicode.ts";
import type { Vocab } from "./vocab.ts";

interface Bigram {
  left: number;
  right: number;
  score: number;
  size: number;
}

const bigramBefore = (a: Bigram, b: Bigram) =>
  a.score > b.score || (a.score === b.score && a.left < b.left);

const HEX = "0123456789ABCDEF";

/** The token for one byte: `<0xXX>`, else the one-character token, else unk. */
export function spmByteToken(vocab: Vocab, byte: number): number | undefined {
  const hex = `<0x${HEX[byte >> 4]}${HEX[byte & 15]}>`;
  return vocab.textToId.get(hex) ??
    (byte < 0x80 ? vocab.textToId.get(String.fromCharCode(byte)) : undefined) ?? vocab.unk;
}

/** Appends the SPM ids of `text` (already space-escaped) to `out`. */
export function spmEncode(vocab: Vocab, text: string, out: number[]): void {
  // Symbols are code points, addressed by UTF-16 offset and length into `text`.
  const start: number[] = [];
  const len: number[] = [];
  for (let i = 0; i < text.length;) {
    const w = (text.codePointAt(i) ?? 0) > 0xffff ? 2 : 1;
    start.push(i);
    len.push(w);
    i += w;
  }
  const n = start.length;
  if (n === 0) return;
  const prev = new Int32Array(n);
  const next = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
  }
  const { textToId, scores } = vocab;
  const queue = new Heap<Bigram>(bigramBefore);
  const revMerge = new Map<string, [number, number]>();
  const tryBigram = (left: number, right: number) => {
    if (left < 0 || right < 0) return;
    const size = len[left] + len[right];
    const piece = text.slice(start[left], start[left] + size);
    const id = textToId.get(piece);
    if (id === undefined) return;
    queue.push({ left, right, score: scores[id], size });
    revMerge.set(piece, [left, right]);
  };
  for (let i = 1; i < n; i++) tryBigram(i - 1, i);
  for (let b = queue.pop(); b !== undefined; b = queue.pop()) {
    if (len[b.left] === 0 || len[b.right] === 0 || len[b.left] + len[b.right] !== b.size) {
      continue;
    }
    len[b.left] += len[b.right];
    len[b.right] = 0;
    next[b.left] = next[b.right];
    if (next[b.right] >= 0) prev[next[b.right]] = b.left;
    tryBigram(prev[b.left], b.left);
    tryBigram(b.left, next[b.left]);
  }
  const resegment = (i: number, depth: number): void => {
    const piece = text.slice(start[i], start[i] + len[i]);
    const id = textToId.get(piece);
    if (id !== undefined) {
      out.push(id);
      return;
    }
    const pair = depth < 64 ? revMerge.get(piece) : undefined;
    if (pair === undefined) {
      for (const byte of utf8Encode(piece)) {
        const t = spmByteToken(vocab, byte);
        if (t !== undefined) out.push(t);
      }
      return;
    }
    resegment(pair[0], depth + 1);
    resegment(pair[1], depth + 1);
  };
  for (let i = 0; i >= 0; i = next[i]) resegment(i, 0);
}
