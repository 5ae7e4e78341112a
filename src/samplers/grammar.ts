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
 * llama.cpp's std::regex sees them); `^...$` must match the whole output so far. While
 * waiting, a candidate token that would fire a trigger is removed when the grammar rejects the
 * text it would be fed (e.g. Llama 3's `{"name"` trigger and a token `"s` that continues it):
 * llama.cpp fails the request there; here sampling picks another token.
 *
 * @module
 */
import { GrammarError } from "../grammar/errors.ts";
import type { Grammar } from "../grammar/grammar.ts";
import type { GrammarMatcher } from "../grammar/matcher.ts";
import { TokenFilter } from "../grammar/token_filter.ts";
import { type GrammarVocab, tokenTrie } from "../grammar/token_trie.ts";
import { GrammarTriggers, latin1, latin1Bytes } from "./grammar_triggers.ts";
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
  readonly #triggers: GrammarTriggers;
  /** The grammar's start, for checking what a trigger would feed it. */
  readonly #start: GrammarMatcher;
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
    this.#triggers = new GrammarTriggers(options, this.#filter.trie);
    this.#start = grammar.matcher();
    this.#active = !this.#triggers.lazy;
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
    if (!this.#active) return this.#applyWaiting(c);
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
      if (this.#triggers.tokens.has(token)) {
        this.#activate(bytes ?? new Uint8Array(0), token);
        return;
      }
      if (bytes) this.#pending += latin1(bytes);
      const at = this.#triggers.start(this.#pending);
      if (at >= 0) this.#activate(latin1Bytes(this.#pending.slice(at)));
      else this.#pending = this.#triggers.keep(this.#pending);
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

  /**
   * While waiting for a trigger: removes the candidates that would fire one with text the
   * grammar rejects (llama.cpp fails the request there), so that sampling picks another.
   * Every candidate is checked against the trigger words and tokens (through the few tokens
   * that can fire them next); trigger patterns are checked on the best `topCandidates` (all
   * candidates with `exact`), as the active path checks those first.
   */
  #applyWaiting(c: Candidates): void {
    const top = this.#top;
    const n = this.#triggers.patterns.length === 0 ? 0 : top > 0 && c.size > top ? top : c.size;
    if (n > 0 && n < c.size) sortByLogit(c, top);
    const ids = c.ids, L = c.logits, P = c.probs;
    const rejected = new Set<number>();
    for (const id of this.#triggers.mayFire(this.#pending)) {
      if (this.#firesRejected(id)) rejected.add(id);
    }
    for (let i = 0; i < n; i++) {
      if (!rejected.has(ids[i]) && this.#firesRejected(ids[i])) rejected.add(ids[i]);
    }
    if (rejected.size === 0) return;
    let kept = 0;
    for (let i = 0; i < c.size; i++) {
      const id = ids[i];
      if (rejected.has(id)) continue;
      ids[kept] = id;
      L[kept] = L[i];
      P[kept] = P[i];
      kept++;
    }
    if (kept === c.size) return;
    if (kept === 0) {
      throw new GrammarError(
        "GRAMMAR_NO_VALID_TOKEN",
        "every candidate token fires the grammar's trigger with text the grammar rejects",
        { actual: c.size },
      );
    }
    c.size = kept;
    softmax(c);
  }

  /** Whether token `id` would fire a trigger with text the grammar rejects from its start. */
  #firesRejected(id: number): boolean {
    if (this.vocab.isEog(id)) return false;
    const start = this.#start;
    if (this.#triggers.tokens.has(id)) return !this.#filter.allows(start.point, id);
    const text = this.#pending + latin1(this.vocab.tokenBytes(id));
    const at = this.#triggers.start(text);
    return at >= 0 && !start.canAccept(latin1Bytes(text.slice(at)));
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
    this.#active = !this.#triggers.lazy;
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
