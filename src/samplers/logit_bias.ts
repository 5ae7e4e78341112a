/**
 * Logit bias: adds a fixed bias to the logits of chosen tokens. A bias of -Infinity bans a
 * token; +Infinity forces it (softmax then gives all +Infinity tokens equal probability).
 * Tokens that are not among the candidates are ignored. Candidates laid out as `ids[i] = i`
 * are biased in O(#biases); otherwise one pass over the candidates looks tokens up.
 *
 * @module
 */
import { fieldError, requireNumber } from "./_validate.ts";
import { type Candidates, type Sampler, SAMPLER_API_VERSION } from "./types.ts";

/** Largest token id accepted (ids are stored as int32). */
export const MAX_TOKEN = 0x7fffffff;

/** Token id -> bias, as an object (keys are decimal token ids) or a Map. */
export type LogitBias = Record<number, number> | Map<number, number>;

/**
 * Validates a bias table and returns it as a Map (InvalidArgumentError names the entry, e.g.
 * `logitBias["x"]`). Token ids must be integers in [0, 2^31 - 1]; biases any number but NaN.
 */
export function parseLogitBias(bias: unknown, field = "logitBias"): Map<number, number> {
  const out = new Map<number, number>();
  if (bias instanceof Map) {
    for (const [k, v] of bias) {
      if (typeof k !== "number" || !Number.isInteger(k) || k < 0 || k > MAX_TOKEN) {
        fieldError(`${field} key`, `an integer token id in [0, ${MAX_TOKEN}]`, k);
      }
      out.set(k, requireNumber(`${field}[${k}]`, v));
    }
    return out;
  }
  if (typeof bias !== "object" || bias === null || Array.isArray(bias)) {
    fieldError(field, "an object or Map of token id -> bias", bias);
  }
  for (const [k, v] of Object.entries(bias)) {
    if (!/^(0|[1-9][0-9]{0,9})$/.test(k) || Number(k) > MAX_TOKEN) {
      fieldError(`${field}[${JSON.stringify(k)}]`, `keyed by a token id in [0, ${MAX_TOKEN}]`, k);
    }
    out.set(Number(k), requireNumber(`${field}[${k}]`, v));
  }
  return out;
}

/** logit + bias, where -Infinity + Infinity (a banned token forced) stays banned. */
function add(logit: number, bias: number): number {
  const v = logit + bias;
  return v === v ? v : -Infinity;
}

/** Adds per-token biases to the logits. */
export class LogitBiasSampler implements Sampler {
  /** Interface version. */
  readonly apiVersion = SAMPLER_API_VERSION;
  /** llama.cpp's name for this sampler. */
  readonly name = "logit-bias";
  readonly #bias: Map<number, number>;
  readonly #tokens: Int32Array;
  readonly #values: Float64Array;

  /** @param bias token id -> bias; validated (InvalidArgumentError naming the entry). */
  constructor(bias: LogitBias) {
    this.#bias = parseLogitBias(bias);
    this.#tokens = Int32Array.from(this.#bias.keys());
    this.#values = Float64Array.from(this.#bias.values());
  }

  /** Number of biased tokens. */
  get size(): number {
    return this.#bias.size;
  }

  /** A copy of the bias table. */
  get entries(): Map<number, number> {
    return new Map(this.#bias);
  }

  /** Adds each bias to its token's logit. */
  apply(c: Candidates): void {
    const n = c.size, ids = c.ids, L = c.logits, tokens = this.#tokens;
    if (tokens.length === 0 || n === 0) return;
    let direct = true;
    for (let j = 0; j < tokens.length; j++) {
      const t = tokens[j];
      if (t >= n || ids[t] !== t) {
        direct = false;
        break;
      }
    }
    if (direct) {
      for (let j = 0; j < tokens.length; j++) L[tokens[j]] = add(L[tokens[j]], this.#values[j]);
    } else {
      const bias = this.#bias;
      for (let i = 0; i < n; i++) {
        const b = bias.get(ids[i]);
        if (b !== undefined) L[i] = add(L[i], b);
      }
    }
    c.sorted = false;
  }

  /** A sampler with the same biases. */
  clone(): LogitBiasSampler {
    return new LogitBiasSampler(this.#bias);
  }
}
