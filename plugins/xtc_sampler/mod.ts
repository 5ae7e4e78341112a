/**
 * XTC ("exclude top choices"): an example sampler plugin. With probability `probability`
 * per token, when two or more candidates each have a probability of at least `threshold`,
 * all of them except the least probable one are removed. This steers generation away from
 * the most predictable continuations while keeping every token that is still a plausible
 * choice. It only filters: put a selecting sampler (dist, greedy) after it in a chain.
 *
 * ```ts
 * import { DistSampler, PluginRegistry, SamplerChain } from "../../mod.ts";
 * import { xtcPlugin } from "./mod.ts";
 *
 * const registry = new PluginRegistry();
 * registry.registerSampler(xtcPlugin);
 * const xtc = registry.createSampler("xtc", { threshold: 0.1, probability: 0.5, seed: 7 });
 * const sampler = new SamplerChain([xtc, new DistSampler(42)]);
 * ```
 *
 * This file imports only from the public API (mod.ts), as a third-party plugin would.
 *
 * @module
 */
import {
  type Candidates,
  InvalidArgumentError,
  Mt19937,
  randomSeed,
  type Sampler,
  type SamplerPlugin,
  softmax,
} from "../../mod.ts";

/** Settings of the XTC sampler; every field is optional. */
export interface XtcOptions {
  /** Probability a candidate needs to count as a "top choice", in [0, 1]. Default 0.1. */
  readonly threshold?: number;
  /** Chance, per token, that XTC acts at all, in [0, 1]. Default 0.5. */
  readonly probability?: number;
  /** RNG seed, an integer in [0, 2^32); omitted or -1 picks a random seed. */
  readonly seed?: number;
  /** XTC does nothing if fewer than this many candidates would remain. Default 1. */
  readonly minKeep?: number;
}

/** Default settings (llama.cpp's XTC defaults enable it with threshold 0.1). */
export const XTC_DEFAULTS: Readonly<Required<Omit<XtcOptions, "seed">>> = Object.freeze({
  threshold: 0.1,
  probability: 0.5,
  minKeep: 1,
});

const KNOWN = new Set(["threshold", "probability", "seed", "minKeep"]);

function bad(field: string, expected: string, actual: unknown): never {
  throw new InvalidArgumentError(`xtc: ${field} must be ${expected}, got ${String(actual)}`, {
    field,
    expected,
    actual,
  });
}

function unit(field: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== "number" || !(v >= 0 && v <= 1)) bad(field, "a number in [0, 1]", v);
  return v;
}

/**
 * Checks untrusted options (e.g. from JSON) and fills defaults. Unknown keys and values of
 * the wrong type or range throw an InvalidArgumentError whose `facts.field` names the key.
 */
export function parseXtcOptions(options: unknown = {}): Required<Omit<XtcOptions, "seed">> & {
  seed: number | undefined;
} {
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    bad("options", "an object", options);
  }
  const o = options as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!KNOWN.has(k)) bad(k, "a known option", "unknown key");
  const seed = o.seed;
  if (
    seed !== undefined &&
    !(Number.isInteger(seed) && (seed as number) >= -1 && (seed as number) <= 0xffffffff)
  ) {
    bad("seed", "an integer in [-1, 2^32)", seed);
  }
  const minKeep = o.minKeep ?? XTC_DEFAULTS.minKeep;
  if (!Number.isInteger(minKeep) || (minKeep as number) < 1) {
    bad("minKeep", "an integer >= 1", minKeep);
  }
  return {
    threshold: unit("threshold", o.threshold, XTC_DEFAULTS.threshold),
    probability: unit("probability", o.probability, XTC_DEFAULTS.probability),
    minKeep: minKeep as number,
    seed: seed === undefined || seed === -1 ? undefined : seed as number,
  };
}

/** The XTC sampler. Holds its own RNG, so a seed reproduces its decisions. */
export class XtcSampler implements Sampler {
  /** Sampler interface version. */
  readonly apiVersion = 1 as const;
  /** llama.cpp's name for this sampler. */
  readonly name = "xtc";
  /** Settings in use. */
  readonly threshold: number;
  readonly probability: number;
  readonly minKeep: number;
  #fixedSeed: boolean;
  #rng: Mt19937;

  /** @param options see {@link XtcOptions}; invalid ones throw InvalidArgumentError. */
  constructor(options: XtcOptions = {}) {
    const p = parseXtcOptions(options);
    this.threshold = p.threshold;
    this.probability = p.probability;
    this.minKeep = p.minKeep;
    this.#fixedSeed = p.seed !== undefined;
    this.#rng = new Mt19937(p.seed ?? randomSeed());
  }

  /** The seed of the RNG (the random one when none was given). */
  get seed(): number {
    return this.#rng.initialSeed;
  }

  /**
   * Removes the top choices in place. The relative order of the survivors is kept (so a
   * sorted set stays sorted) and their probabilities are renormalized. The RNG is drawn
   * only when XTC could act (probability > 0, threshold <= 0.5, two or more candidates).
   */
  apply(c: Candidates): void {
    if (this.probability <= 0 || this.threshold > 0.5 || c.size < 2) return;
    if (this.#rng.nextDouble() >= this.probability) return;
    softmax(c);
    const n = c.size, P = c.probs, ids = c.ids;
    // Among candidates at or above the threshold, keep the least probable (on a tie, the
    // one that sorts last: the higher id); count how many there are.
    let above = 0, keep = -1;
    for (let i = 0; i < n; i++) {
      if (!(P[i] >= this.threshold)) continue;
      above++;
      if (keep < 0 || P[i] < P[keep] || (P[i] === P[keep] && ids[i] > ids[keep])) keep = i;
    }
    if (above < 2 || n - (above - 1) < this.minKeep) return;
    let w = 0;
    for (let i = 0; i < n; i++) {
      if (P[i] >= this.threshold && i !== keep) continue;
      ids[w] = ids[i];
      c.logits[w] = c.logits[i];
      P[w] = P[i];
      w++;
    }
    c.size = w;
    c.selected = -1;
    softmax(c);
  }

  /** XTC keeps no per-token state. */
  accept(_token: number): void {}

  /** Reseeds: back to the seed if one was given, else a new random seed. */
  reset(): void {
    this.#rng.seed(this.#fixedSeed ? this.#rng.initialSeed : randomSeed());
  }

  /** A copy with the same settings and RNG state: it makes the same decisions from now on. */
  clone(): XtcSampler {
    const copy = new XtcSampler({
      threshold: this.threshold,
      probability: this.probability,
      minKeep: this.minKeep,
      seed: 0,
    });
    copy.#rng = this.#rng.clone();
    copy.#fixedSeed = this.#fixedSeed;
    return copy;
  }
}

/** The plugin manifest: register it with `registry.registerSampler(xtcPlugin)`. */
export const xtcPlugin: SamplerPlugin = {
  apiVersion: 1,
  name: "xtc",
  description: "exclude top choices: drops all but the least likely of the tokens above a " +
    "probability threshold, with a given chance per token",
  create(options?: Record<string, unknown>): Sampler {
    return new XtcSampler(parseXtcOptions(options ?? {}));
  },
};
