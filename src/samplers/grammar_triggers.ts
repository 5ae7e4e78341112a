/**
 * The triggers of a lazy grammar (llama.cpp's grammar_lazy): words, tokens and regular
 * expressions over the output, and which candidate tokens could fire one next.
 *
 * Words and patterns are matched over the output bytes as latin1 text (as llama.cpp's
 * std::regex sees them). The constrained text starts at the earliest match: a word's start, a
 * pattern's first non-empty capture group, else the pattern's match.
 *
 * @module
 */
import { GrammarError } from "../grammar/errors.ts";
import type { TokenTrie } from "../grammar/token_trie.ts";

const enc = new TextEncoder();

/** A byte string as latin1 text (one char per byte). */
export function latin1(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

/** The bytes of a latin1 text. */
export function latin1Bytes(s: string): Uint8Array {
  return Uint8Array.from(s, (ch) => ch.charCodeAt(0));
}

/** Where a pattern's match starts the constrained text (-1: no match). */
function patternStart(re: RegExp, s: string): number {
  const m = re.exec(s);
  if (!m) return -1;
  for (let g = 1; g < m.length; g++) if (m[g]) return m.indices![g]![0];
  return m.index;
}

/**
 * For one trigger word over one vocabulary: the tokens containing it whole, and for each
 * k in 1..len-1 the tokens starting with word[k..] (they fire when the output ends with
 * word[..k]).
 */
interface WordTokens {
  whole: number[];
  bySplit: number[][];
}

const wordCache = new WeakMap<TokenTrie, Map<string, WordTokens>>();

function wordTokens(trie: TokenTrie, w: string): WordTokens {
  let m = wordCache.get(trie);
  if (!m) wordCache.set(trie, m = new Map());
  let wt = m.get(w);
  if (wt) return wt;
  wt = { whole: [], bySplit: Array.from({ length: w.length }, () => []) };
  const first = w.charCodeAt(0);
  for (let id = 0; id < trie.bytes.length; id++) {
    const b = trie.bytes[id];
    if (b.length === 0 || trie.eog[id]) continue;
    let has = false;
    for (let i = 0; i < b.length && !has; i++) if (b[i] === first) has = true;
    if (has && latin1(b).includes(w)) wt.whole.push(id);
    for (let k = 1; k < w.length; k++) {
      let ok = true;
      for (let i = 0; i < b.length && k + i < w.length && ok; i++) {
        if (b[i] !== w.charCodeAt(k + i)) ok = false;
      }
      if (ok && b.length >= w.length - k) wt.bySplit[k].push(id);
    }
  }
  m.set(w, wt);
  return wt;
}

/** Options naming the triggers (see GrammarSamplerOptions). */
export interface TriggerOptions {
  triggerWords?: readonly string[];
  triggerTokens?: readonly number[];
  triggerPatterns?: readonly string[];
}

/** The triggers of a lazy grammar. */
export class GrammarTriggers {
  readonly words: readonly string[];
  readonly tokens: ReadonlySet<number>;
  readonly patterns: readonly RegExp[];
  readonly #trie: TokenTrie;

  constructor(options: TriggerOptions, trie: TokenTrie) {
    this.#trie = trie;
    this.words = (options.triggerWords ?? []).map((w) => latin1(enc.encode(w)));
    if (this.words.some((w) => w.length === 0)) {
      throw new GrammarError("GRAMMAR_UNSUPPORTED", "trigger words must not be empty", {
        actual: options.triggerWords,
      });
    }
    this.tokens = new Set(options.triggerTokens ?? []);
    this.patterns = (options.triggerPatterns ?? []).map((p) => {
      try {
        return new RegExp(p, "d");
      } catch (e) {
        throw new GrammarError("GRAMMAR_UNSUPPORTED", `trigger pattern ${p}: ${e}`, { actual: p });
      }
    });
  }

  /** Whether there is any trigger (the grammar is lazy). */
  get lazy(): boolean {
    return this.words.length > 0 || this.tokens.size > 0 || this.patterns.length > 0;
  }

  /** Where the constrained text starts in `text` (the output while waiting), or -1. */
  start(text: string): number {
    let at = -1;
    for (const w of this.words) {
      const k = text.indexOf(w);
      if (k >= 0 && (at < 0 || k < at)) at = k;
    }
    for (const re of this.patterns) {
      const k = patternStart(re, text);
      if (k >= 0 && (at < 0 || k < at)) at = k;
    }
    return at;
  }

  /** How much of the output a word may still complete (all of it when there are patterns). */
  keep(text: string): string {
    if (this.patterns.length > 0) return text;
    const keep = Math.max(0, ...this.words.map((w) => w.length - 1));
    return text.slice(text.length - keep);
  }

  /**
   * The tokens that could fire a trigger word or token after `pending` (the kept output):
   * every trigger token, every token containing a word, and those that complete a word that
   * `pending` has begun. Patterns are not covered (any token may complete a regex).
   */
  mayFire(pending: string): Set<number> {
    const out = new Set(this.tokens);
    for (const w of this.words) {
      const wt = wordTokens(this.#trie, w);
      for (const id of wt.whole) out.add(id);
      for (let k = 1; k < w.length; k++) {
        if (pending.endsWith(w.slice(0, k))) { for (const id of wt.bySplit[k]) out.add(id); }
      }
    }
    return out;
  }
}
