/**
 * Repetition, frequency and presence penalties over the last N tokens of the history, with
 * llama.cpp semantics. For each candidate whose token occurs `count > 0` times in the window:
 *
 * - repetition: a logit <= 0 is multiplied by `repeat`, a positive one divided by it;
 * - then `logit -= count * frequency + presence`.
 *
 * `lastN = 0` (or repeat 1, frequency 0 and presence 0) disables it; `lastN = -1` uses the
 * whole history. Candidates still laid out as `ids[i] = i` (as candidatesFromLogits makes
 * them) are penalized in O(window); otherwise one pass over the candidates looks tokens up.
 *
 * @module
 */
import { requireFinite, requireInteger, requirePositive } from "./_validate.ts";
import {
  type Candidates,
  type Sampler,
  SAMPLER_API_VERSION,
  type SamplerContext,
} from "./types.ts";

/** Settings of {@link PenaltiesSampler}. */
export interface PenaltiesOptions {
  /** Window size over the history; -1 = whole history, 0 = disabled. Default 64. */
  lastN?: number;
  /** Repetition penalty (> 0); 1 = none. Default 1. */
  repeat?: number;
  /** Subtracted once per occurrence. Default 0. */
  frequency?: number;
  /** Subtracted once if the token occurs at all. Default 0. */
  presence?: number;
}

/** Penalizes tokens that occurred recently. */
export class PenaltiesSampler implements Sampler {
  /** Interface version. */
  readonly apiVersion = SAMPLER_API_VERSION;
  /** llama.cpp's name for this sampler. */
  readonly name = "penalties";
  /** Window size (-1 = whole history). */
  readonly lastN: number;
  /** Repetition penalty. */
  readonly repeat: number;
  /** Frequency penalty. */
  readonly frequency: number;
  /** Presence penalty. */
  readonly presence: number;
  readonly #counts = new Map<number, number>();

  /** Validates the settings (InvalidArgumentError naming the field). */
  constructor(options: PenaltiesOptions = {}) {
    this.lastN = requireInteger("penaltyLastN", options.lastN ?? 64, -1);
    this.repeat = requirePositive("repeatPenalty", options.repeat ?? 1);
    this.frequency = requireFinite("frequencyPenalty", options.frequency ?? 0);
    this.presence = requireFinite("presencePenalty", options.presence ?? 0);
  }

  /** Whether apply can change anything. */
  get active(): boolean {
    return this.lastN !== 0 && (this.repeat !== 1 || this.frequency !== 0 || this.presence !== 0);
  }

  /** Penalizes candidates that occur in the last `lastN` tokens of `ctx.history`. */
  apply(c: Candidates, ctx: SamplerContext): void {
    if (!this.active || c.size === 0) return;
    const history = ctx.history;
    const start = this.lastN < 0 ? 0 : Math.max(0, history.length - this.lastN);
    if (start >= history.length) return;
    const counts = this.#counts;
    counts.clear();
    for (let i = start; i < history.length; i++) {
      const t = history[i];
      counts.set(t, (counts.get(t) ?? 0) + 1);
    }
    const ids = c.ids, n = c.size;
    let direct = true;
    for (const t of counts.keys()) {
      if (!(Number.isInteger(t) && t >= 0 && t < n && ids[t] === t)) {
        direct = false;
        break;
      }
    }
    if (direct) {
      for (const [t, count] of counts) this.#penalize(c, t, count);
    } else {
      for (let i = 0; i < n; i++) {
        const count = counts.get(ids[i]);
        if (count !== undefined) this.#penalize(c, i, count);
      }
    }
    c.sorted = false;
  }

  #penalize(c: Candidates, i: number, count: number): void {
    let l = c.logits[i];
    if (l <= 0) l *= this.repeat;
    else l /= this.repeat;
    c.logits[i] = l - (count * this.frequency + this.presence);
  }

  /** A sampler with the same settings. */
  clone(): PenaltiesSampler {
    return new PenaltiesSampler({
      lastN: this.lastN,
      repeat: this.repeat,
      frequency: this.frequency,
      presence: this.presence,
    });
  }
}
