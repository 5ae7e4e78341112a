/**
 * WordPiece (`tokenizer.ggml.model = "bert"`), following llama.cpp's
 * `llm_tokenizer_wpm_session`: map every code point to the first code point of its NFD form
 * and drop accent marks (`strip_accents`; a Hangul syllable becomes its leading jamo, as in
 * llama.cpp), drop control characters, lowercase with the simple one-code-point mapping
 * (`lowercase`), split on whitespace, punctuation, ASCII symbols and CJK ideographs, then
 * match each word greedily (longest token first) with a "▁" phantom-space prefix. GGUF BERT
 * vocabularies store word-initial pieces with "▁" and continuation pieces bare (no "##").
 * A word that cannot be covered becomes the unknown token.
 *
 * @module
 */
import { isWhitespace } from "./unicode.ts";
import { Category, categoryOf } from "./unicode_flags.ts";
import type { Vocab, WpmNormalizer } from "./vocab.ts";

function isChinese(cp: number): boolean {
  return (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) || (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) || (cp >= 0x2b920 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0x2f800 && cp <= 0x2fa1f);
}

/** The first code point of a character's lower-case form (llama.cpp's `unicode_tolower`). */
function lower(ch: string): string {
  const l = ch.toLowerCase();
  const first = l.codePointAt(0)!;
  return first > 0xffff ? l.slice(0, 2) : l[0];
}

/** The first code point of a character's NFD form (llama.cpp's `unicode_cpts_normalize_nfd`). */
function nfdFirst(ch: string): string {
  if (ch.charCodeAt(0) < 0xc0) return ch;
  const d = ch.normalize("NFD");
  return (d.codePointAt(0) ?? 0) > 0xffff ? d.slice(0, 2) : d[0];
}

const DEFAULT_NORMALIZER: WpmNormalizer = { lowercase: true, stripAccents: true };

/** Splits text into normalized words (llama.cpp's `preprocess`). */
export function wpmWords(text: string, norm: WpmNormalizer = DEFAULT_NORMALIZER): string[] {
  const words: string[] = [];
  let cur = "";
  const finish = () => {
    if (cur !== "") words.push(cur);
    cur = "";
  };
  for (const raw of text) {
    const ch = norm.stripAccents ? nfdFirst(raw) : raw;
    const cp = ch.codePointAt(0)!;
    if (isWhitespace(cp)) {
      finish();
      continue;
    }
    const cat = categoryOf(cp);
    if (cp === 0 || cp === 0xfffd || cat === Category.CONTROL) continue;
    if (norm.stripAccents && cat === Category.MARK) continue;
    const s = norm.lowercase ? lower(ch) : ch;
    if (cat === Category.PUNCTUATION || (cp < 0x7f && cat === Category.SYMBOL) || isChinese(cp)) {
      finish();
      words.push(s);
    } else {
      cur += s;
    }
  }
  finish();
  return words;
}

/** Appends the WordPiece ids of `text` to `out`. */
export function wpmEncode(vocab: Vocab, text: string, out: number[]): void {
  const { textToId, maxTokenChars } = vocab;
  for (const word of wpmWords(text, vocab.normalizer)) {
    const chars = Array.from("\u2581" + word);
    const n = chars.length;
    const mark = out.length;
    for (let i = 0; i < n;) {
      let matched = -1;
      for (let j = Math.min(n, i + maxTokenChars); j > i; j--) {
        const id = textToId.get(chars.slice(i, j).join(""));
        if (id !== undefined) {
          out.push(id);
          matched = j;
          break;
        }
      }
      if (matched < 0) {
        out.length = mark;
        break;
      }
      i = matched;
    }
    if (out.length === mark && vocab.unk !== undefined) out.push(vocab.unk);
  }
}
