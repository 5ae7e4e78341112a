/**
 * Splits input text around special tokens before tokenization (llama.cpp's
 * `tokenizer_st_partition`). Tokens are tried longest text first; each occurrence in a raw
 * fragment becomes a token fragment. User-defined tokens are always split out; control and
 * unknown-type tokens only when `parseSpecial` is on. LSTRIP / RSTRIP tokens swallow the
 * ASCII whitespace before / after them.
 *
 * @module
 */
import { TokenAttr, type Vocab } from "./vocab.ts";

/** Raw text to tokenize, or the id of a special token found in the text. */
export type Fragment = string | number;

function isAsciiSpace(c: number): boolean {
  return c === 0x20 || (c >= 9 && c <= 13);
}

/** Splits `text` into raw-text and special-token fragments. */
export function partition(vocab: Vocab, text: string, parseSpecial: boolean): Fragment[] {
  let frags: Fragment[] = text === "" ? [] : [text];
  const skip = TokenAttr.CONTROL | TokenAttr.UNKNOWN;
  for (const id of vocab.specialCache) {
    const attr = vocab.attrs[id];
    if (!parseSpecial && (attr & skip)) continue;
    const needle = vocab.texts[id];
    if (!frags.some((f) => typeof f === "string" && f.includes(needle))) continue;
    const next: Fragment[] = [];
    for (const f of frags) {
      if (typeof f !== "string") {
        next.push(f);
        continue;
      }
      let from = 0;
      for (let at = f.indexOf(needle); at >= 0; at = f.indexOf(needle, from)) {
        let leftEnd = at;
        if (attr & TokenAttr.LSTRIP) {
          while (leftEnd > from && isAsciiSpace(f.charCodeAt(leftEnd - 1))) leftEnd--;
        }
        if (leftEnd > from) next.push(f.slice(from, leftEnd));
        next.push(id);
        from = at + needle.length;
        if (attr & TokenAttr.RSTRIP) {
          while (from < f.length && isAsciiSpace(f.charCodeAt(from))) from++;
        }
      }
      if (from < f.length) next.push(f.slice(from));
    }
    frags = next;
  }
  return frags;
}
