/**
 * Grammar-constrained sampling (llama.cpp's "grammar" sampler): removes every candidate the
 * grammar does not allow next, and follows the chosen tokens in `accept`. Put it first in a
 * chain, before the truncating samplers.
 *
 * Speed: with more than `topCandidates` candidates, only the best `topCandidates` (by logit)
 * are checked one by one; the full vocabulary mask (a trie walk, cached per grammar position)
 * is computed only when none of them fits. The result is then "top-N, then grammar", which
 * differs from masking everything first only in tokens below the N-th logit; `exact: true`
 * always masks the whole candidate set.
 *
 * Lazy mode: the sampler does nothing until a trigger word appears in the generated text, a
 * trigger pattern matches it or a trigger token is chosen; then the grammar is fed the text
 * from the trigger on (as in llama.cpp, the grammar must therefore start with the trigger; for
 * a pattern, from its first non-empty capture group, else from the match) and constrains from
 * there. Patterns are regular expressions over the output bytes (as latin1 text, as
 * llama.cpp's std::regex sees them); `^...$` must match the whole output so far.
 *
 * @module
 */
import { GrammarError } from "../grammar/errors.ts";
import type { Grammar } from "../grammar/grammar.ts";
import type { GrammarMatcher } from "../grammar/matcher.ts";
import { TokenFilter } from "../grammar/token_filter.ts";
import { type GrammarVocab, tokenTrie } from "../grammar/token_trie.ts";
import {
  type Candidates,
  type Sampler,
  SAMPLER_API_VERSION,
  softmax,
  sortByLogit,
} from "./types.ts";

/** Options of {@link GrammarSampler}. */
export interface GrammarSamplerOptions {
  /** How many top candidates to try before the full mask (default 64; 0 = always mask). */
  topCandidates?: number;
  /** Always mask every candidate (default false). */
  exact?: boolean;
  /** Stay inactive until one of these strings appears in the output (lazy mode). */
  triggerWords?: readonly string[];
  /** Stay inactive until one of these tokens is chosen (lazy mode). */
  triggerTokens?: readonly number[];
  /** Stay inactive until one of these regular expressions matches the output (lazy mode). */
  triggerPatterns?: readonly string[];
}

const enc = new TextEncoder();

/** Where a pattern's match starts the constrained text (-1: no match). */
function patternStart(re: RegExp, s: string): number {
  const m = re.exec(s);
  if (!m) return -1;
  for (let g = 1; g < m.length; g++) if (m[g]) return m.indices![g]![0];
  return m.index;
}

function latin1(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

/** Constrains sampling to a grammar over a vocabulary. */
export class GrammarSampler implements Sampler {
  /** Interface version. */
  readonly apiVersion = SAMPLER_API_VERSION;
  /** llama.cpp's name for this sampler. */
  readonly name = "grammar";
  readonly grammar: Grammar;
  readonly vocab: GrammarVocab;
  readonly #options: GrammarSamplerOptions;
  readonly #filter: TokenFilter;
  readonly #top: number;
  readonly #triggers: string[];
  readonly #triggerTokens: Set<number>;
  readonly #patterns: RegExp[];
  readonly #lazy: boolean;
  #matcher: GrammarMatcher;
  #active: boolean;
  /** Output bytes (as latin1) while waiting for a trigger. */
  #pending = "";

  constructor(
    grammar: Grammar,
    vocab: GrammarVocab,
    options: GrammarSamplerOptions = {},
    filter?: TokenFilter,
  ) {
    this.grammar = grammar;
    this.vocab = vocab;
    this.#options = options;
    this.#filter = filter ?? new TokenFilter(grammar.engine, tokenTrie(vocab));
    const top = options.topCandidates ?? 64;
    if (!Number.isInteger(top) || top < 0) {
      throw new GrammarError("GRAMMAR_UNSUPPORTED", `topCandidates must be an integer >= 0`, {
        actual: top,
      });
    }
    this.#top = options.exact ? 0 : top;
    this.#triggers = (options.triggerWords ?? []).map((w) => latin1(enc.encode(w)));
    if (this.#triggers.some((w) => w.length === 0)) {
      throw new GrammarError("GRAMMAR_UNSUPPORTED", "trigger words must not be empty", {
        actual: options.triggerWords,
      });
    }
    this.#triggerTokens = new Set(options.triggerTokens ?? []);
    this.#patterns = (options.triggerPatterns ?? []).map((p) => {
      try {
        return new RegExp(p, "d");
      } catch (e) {
        throw new GrammarError("GRAMMAR_UNSUPPORTED", `trigger pattern ${p}: ${e}`, { actual: p });
      }
    });
    this.#lazy = this.#triggers.length > 0 || this.#triggerTokens.size > 0 ||
      this.#patterns.length > 0;
    this.#active = !this.#lazy;
    this.#matcher = grammar.matcher();
  }

  /** False while a lazy grammar waits for its trigger. */
  get active(): boolean {
    return this.#active;
  }

  /** True when the output so far completes the grammar. */
  get accepting(): boolean {
    return this.#active && this.#matcher.accepting;
  }

  /** Keeps only the candidates the grammar allows (GrammarError if none is allowed). */
  apply(c: Candidates): void {
    if (!this.#active) return;
    const at = this.#matcher.point;
    const f = this.#filter, ids = c.ids, L = c.logits, P = c.probs;
    const top = this.#top;
    if (top > 0 && c.size > top) {
      sortByLogit(c, top);
      let kept = 0;
      for (let i = 0; i < top; i++) {
        if (!f.allows(at, ids[i])) continue;
        ids[kept] = ids[i];
        L[kept] = L[i];
        P[kept] = P[i];
        kept++;
      }
      if (kept > 0) {
        c.size = kept;
        c.sorted = true;
        softmax(c);
        return;
      }
    }
    const m = c.size <= 16 ? undefined : f.mask(at);
    let kept = 0;
    for (let i = 0; i < c.size; i++) {
      const id = ids[i];
      const ok = m ? (m[id >>> 5] >>> (id & 31)) & 1 : f.allows(at, id);
      if (!ok) continue;
      ids[kept] = id;
      L[kept] = L[i];
      P[kept] = P[i];
      kept++;
    }
    if (kept === 0) {
      throw new GrammarError("GRAMMAR_NO_VALID_TOKEN", "no candidate token fits the grammar", {
        actual: c.size,
      });
    }
    c.size = kept;
    softmax(c);
  }

  /** Advances the grammar by the chosen token (GrammarError if the grammar rejects it). */
  accept(token: number): void {
    const bytes = this.vocab.isEog(token) ? undefined : this.vocab.tokenBytes(token);
    if (!this.#active) {
      if (this.#triggerTokens.has(token)) {
        this.#activate(bytes ?? new Uint8Array(0), token);
        return;
      }
      if (bytes) this.#pending += latin1(bytes);
      let at = -1;
      for (const w of this.#triggers) {
        const k = this.#pending.indexOf(w);
        if (k >= 0 && (at < 0 || k < at)) at = k;
      }
      for (const re of this.#patterns) {
        const k = patternStart(re, this.#pending);
        if (k >= 0 && (at < 0 || k < at)) at = k;
      }
      if (at >= 0) {
        this.#activate(Uint8Array.from(this.#pending.slice(at), (ch) => ch.charCodeAt(0)));
      } else if (this.#patterns.length === 0) {
        // Words only: keep the tail a word may still complete (patterns see all the output).
        const keep = Math.max(0, ...this.#triggers.map((w) => w.length - 1));
        this.#pending = this.#pending.slice(this.#pending.length - keep);
      }
      return;
    }
    if (bytes === undefined) {
      if (!this.#matcher.accepting) {
        this.#reject(token, "end of generation before the grammar completed");
      }
      return;
    }
    if (!this.#matcher.acceptToken(token, bytes)) {
      this.#reject(token, "token does not fit the grammar");
    }
  }

  #activate(bytes: Uint8Array, token?: number): void {
    this.#active = true;
    this.#pending = "";
    const m = this.#matcher;
    if (!(token === undefined ? m.acceptBytes(bytes) : m.acceptToken(token, bytes))) {
      throw new GrammarError(
        "GRAMMAR_REJECTED",
        "the grammar rejects the text from its trigger on",
        {
          actual: new TextDecoder().decode(bytes),
        },
      );
    }
  }

  #reject(token: number, why: string): never {
    throw new GrammarError("GRAMMAR_REJECTED", `${why} (token ${token})`, { actual: token });
  }

  /** Back to the start (a lazy sampler waits for its trigger again). */
  reset(): void {
    this.#matcher.reset();
    this.#active = !this.#lazy;
    this.#pending = "";
  }

  /** An independent copy at the same position, sharing the vocabulary trie and mask cache. */
  clone(): GrammarSampler {
    const copy = new GrammarSampler(this.grammar, this.vocab, this.#options, this.#filter);
    copy.#matcher = this.#matcher.clone();
    copy.#active = this.#active;
    copy.#pending = this.#pending;
    return copy;
  }
}

/** A grammar sampler (see {@link GrammarSampler}). */
export function createGrammarSampler(
  grammar: Grammar,
  vocab: GrammarVocab,
  options: GrammarSamplerOptions = {},
): GrammarSampler {
  return new GrammarSampler(grammar, vocab, options);
}
