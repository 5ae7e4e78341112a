/**
 * Temperature: divides every logit by `temperature`. As in llama.cpp, a temperature <= 0
 * keeps only the highest logit (first on ties) and sets every other logit to -Infinity, so a
 * following dist sampler behaves greedily.
 *
 * @module
 */
import { requireFinite } from "./_validate.ts";
import { argmax } from "./greedy.ts";
import { type Candidates, type Sampler, SAMPLER_API_VERSION } from "./types.ts";

/** Scales logits by 1 / temperature. */
export class TemperatureSampler implements Sampler {
  /** Interface version. */
  readonly apiVersion = SAMPLER_API_VERSION;
  /** llama.cpp's name for this sampler. */
  readonly name = "temp";
  /** The temperature (finite; <= 0 means argmax only). */
  readonly temperature: number;

  /** @param temperature a finite number; <= 0 keeps only the argmax. */
  constructor(temperature: number) {
    this.temperature = requireFinite("temperature", temperature);
  }

  /** Divides the logits, or masks all but the argmax when temperature <= 0. */
  apply(c: Candidates): void {
    const L = c.logits, n = c.size, t = this.temperature;
    if (t <= 0) {
      const keep = argmax(c);
      for (let i = 0; i < n; i++) if (i !== keep) L[i] = -Infinity;
      return;
    }
    if (t === 1) return;
    for (let i = 0; i < n; i++) L[i] = L[i] / t;
  }

  /** A sampler with the same temperature. */
  clone(): TemperatureSampler {
    return new TemperatureSampler(this.temperature);
  }
}
