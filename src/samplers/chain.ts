/**
 * A sampler chain: runs samplers in order over one candidate set. The chain is itself a
 * {@link Sampler}, so chains nest. `apply` stops as soon as a sampler has set `selected`;
 * if none did, the configured fallback (dist with a seeded RNG, greedy, or none) picks.
 * accept/reset/clone reach every member (a member without clone() is treated as stateless
 * and shared by the copy). `sample(logits, history)` reuses one candidate buffer, so
 * steady-state sampling allocates no typed arrays.
 *
 * @module
 */
import { PluginError } from "../core/errors.ts";
import { DistSampler } from "./dist.ts";
import { GreedySampler } from "./greedy.ts";
import {
  type Candidates,
  candidatesFromLogits,
  createCandidates,
  type Sampler,
  SAMPLER_API_VERSION,
  type SamplerContext,
} from "./types.ts";

/** Settings of {@link SamplerChain}. */
export interface SamplerChainOptions {
  /**
   * Who picks when no member selected a token. Default "dist". "none" makes a filter-only
   * chain (useful nested inside another chain); its sample() then fails if nothing selected.
   */
  fallback?: "dist" | "greedy" | "none";
  /** Seed of the fallback dist sampler (omitted or -1: random). */
  seed?: number;
}

/** Checks that `s` looks like a sampler of this API version (PluginError otherwise). */
export function assertSampler(s: unknown, where = "sampler"): asserts s is Sampler {
  if (typeof s !== "object" || s === null) {
    throw new PluginError("PLUGIN_INVALID", `${where} is not an object`, { actual: s });
  }
  const o = s as Record<string, unknown>;
  if (o.apiVersion !== SAMPLER_API_VERSION) {
    throw new PluginError(
      "PLUGIN_API_VERSION",
      `${where} has apiVersion ${String(o.apiVersion)}, expected ${SAMPLER_API_VERSION}`,
      { expected: SAMPLER_API_VERSION, actual: o.apiVersion },
    );
  }
  if (typeof o.name !== "string" || typeof o.apply !== "function") {
    throw new PluginError("PLUGIN_INVALID", `${where} needs a string name and an apply()`, {
      actual: { name: o.name, apply: typeof o.apply },
    });
  }
  for (const m of ["accept", "reset", "clone"]) {
    if (o[m] !== undefined && typeof o[m] !== "function") {
      throw new PluginError("PLUGIN_INVALID", `${where}.${m} must be a function`, {
        actual: typeof o[m],
      });
    }
  }
}

/** An ordered list of samplers that acts as one sampler. */
export class SamplerChain implements Sampler {
  /** Interface version. */
  readonly apiVersion = SAMPLER_API_VERSION;
  /** llama.cpp's name for this sampler. */
  readonly name = "chain";
  readonly #samplers: Sampler[];
  readonly #fallbackKind: "dist" | "greedy" | "none";
  #fallback: Sampler | undefined;
  #candidates: Candidates = createCandidates(0);

  /** @param samplers run in this order; each is validated (PluginError if not a sampler). */
  constructor(samplers: readonly Sampler[], options: SamplerChainOptions = {}) {
    samplers.forEach((s, i) => assertSampler(s, `sampler ${i}`));
    this.#samplers = [...samplers];
    this.#fallbackKind = options.fallback ?? "dist";
    const kind = this.#fallbackKind;
    if (kind !== "dist" && kind !== "greedy" && kind !== "none") {
      throw new PluginError(
        "PLUGIN_INVALID",
        `unknown chain fallback ${String(options.fallback)}`,
        {
          expected: ["dist", "greedy", "none"],
          actual: options.fallback,
        },
      );
    }
    this.#fallback = kind === "dist"
      ? new DistSampler(options.seed)
      : kind === "greedy"
      ? new GreedySampler()
      : undefined;
  }

  /** The member samplers, in order. */
  get samplers(): readonly Sampler[] {
    return this.#samplers;
  }

  /** The sampler that picks when no member did (undefined for fallback "none"). */
  get fallback(): Sampler | undefined {
    return this.#fallback;
  }

  /** Seed of the first dist sampler in the chain (nested chains included), else the fallback's. */
  get seed(): number | undefined {
    return this.#firstDistSeed() ??
      (this.#fallback instanceof DistSampler ? this.#fallback.seed : undefined);
  }

  #firstDistSeed(): number | undefined {
    for (const s of this.#samplers) {
      if (s instanceof DistSampler) return s.seed;
      if (s instanceof SamplerChain) {
        const nested = s.#firstDistSeed();
        if (nested !== undefined) return nested;
      }
    }
    return undefined;
  }

  /** The candidates left by the last {@link sample} call (survivors, with `selected`). */
  get lastCandidates(): Candidates {
    return this.#candidates;
  }

  /** Runs each member until one selects; otherwise the fallback selects. */
  apply(c: Candidates, ctx: SamplerContext): void {
    for (const s of this.#samplers) {
      if (c.selected >= 0) return;
      s.apply(c, ctx);
    }
    if (c.selected < 0) this.#fallback?.apply(c, ctx);
  }

  /** Tells every member (and the fallback) which token was chosen. */
  accept(token: number): void {
    for (const s of this.#samplers) s.accept?.(token);
    this.#fallback?.accept?.(token);
  }

  /** Resets every member and the fallback. */
  reset(): void {
    for (const s of this.#samplers) s.reset?.();
    this.#fallback?.reset?.();
  }

  /** A copy whose members are clones (shared when they have no clone()). */
  clone(): SamplerChain {
    const copy = new SamplerChain(
      this.#samplers.map((s) => (s.clone ? s.clone() : s)),
      { fallback: this.#fallbackKind, seed: 0 },
    );
    const fb = this.#fallback;
    copy.#fallback = fb?.clone ? fb.clone() : fb;
    return copy;
  }

  /**
   * Samples one token from a row of logits: builds candidates (reusing the chain's buffer),
   * applies the chain with `history` (tokens so far, prompt included), accepts the chosen
   * token and returns it. Throws PluginError if the selected index is out of range (or, with
   * fallback "none", if nothing selected).
   */
  sample(logits: Float32Array, history: readonly number[] = []): number {
    const c = candidatesFromLogits(logits, this.#candidates);
    this.#candidates = c;
    this.apply(c, { history });
    if (!(Number.isInteger(c.selected) && c.selected >= 0 && c.selected < c.size)) {
      throw new PluginError("PLUGIN_INVALID", `a sampler selected index ${c.selected}`, {
        expected: `an index in [0, ${c.size})`,
        actual: c.selected,
      });
    }
    const token = c.ids[c.selected];
    this.accept(token);
    return token;
  }
}
