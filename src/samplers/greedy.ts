/**
 * Greedy selection: picks the candidate with the highest logit (the first one on ties, as
 * llama.cpp does).
 *
 * @module
 */
import { nothingToSample } from "./_validate.ts";
import { type Candidates, type Sampler, SAMPLER_API_VERSION } from "./types.ts";

/** Index of the highest logit in `[0, size)`, first on ties; -1 if none is above -Infinity. */
export function argmax(c: Candidates): number {
  const L = c.logits, n = c.size;
  if (c.sorted) return n > 0 && L[0] > -Infinity ? 0 : -1;
  let best = -Infinity, sel = -1;
  for (let i = 0; i < n; i++) {
    if (L[i] > best) {
      best = L[i];
      sel = i;
    }
  }
  return sel;
}

/** Selects the argmax. Throws InvalidArgumentError when every candidate is banned. */
export class GreedySampler implements Sampler {
  /** Interface version. */
  readonly apiVersion = SAMPLER_API_VERSION;
  /** llama.cpp's name for this sampler. */
  readonly name = "greedy";

  /** Sets `selected` to the argmax. */
  apply(c: Candidates): void {
    const sel = argmax(c);
    if (sel < 0) nothingToSample(this.name, c.size);
    c.selected = sel;
  }

  /** A new greedy sampler (it has no state). */
  clone(): GreedySampler {
    return new GreedySampler();
  }
}
