/**
 * Embeddings from a model: each text tokenized (with the model's special tokens, e.g. BERT's
 * [CLS] ... [SEP]), evaluated for its hidden states, pooled (the file's pooling for encoders,
 * else mean) and L2-normalized.
 *
 * @module
 */
import { AbortError, InvalidArgumentError } from "./errors.ts";
import type { Model } from "./model.ts";
import { embedTokens } from "./embed_batch.ts";

/** How token vectors become one vector. */
export type Pooling = "mean" | "cls" | "last";

/** Options of embed(). */
export interface EmbedOptions {
  /** Default: the model's own (BERT's pooling_type), else "mean". */
  readonly pooling?: Pooling;
  /** L2-normalize each vector (default true). */
  readonly normalize?: boolean;
  readonly signal?: AbortSignal;
  /** Most tokens one forward pass evaluates over the inputs it packs (default 512). */
  readonly batchSize?: number;
  /** Most inputs one forward pass packs (default 64). */
  readonly sequences?: number;
}

/** Pools `rows` rows of width `dim` (then L2-normalizes unless `normalize` is false). */
export function poolHidden(
  hidden: Float32Array,
  rows: number,
  dim: number,
  pooling: Pooling = "mean",
  normalize = true,
): Float32Array {
  const out = new Float64Array(dim);
  const [first, last] = pooling === "cls"
    ? [0, 1]
    : pooling === "last"
    ? [rows - 1, rows]
    : [0, rows];
  for (let r = first; r < last; r++) {
    for (let i = 0; i < dim; i++) out[i] += hidden[r * dim + i];
  }
  let n2 = 0;
  for (let i = 0; i < dim; i++) {
    out[i] /= last - first;
    n2 += out[i] * out[i];
  }
  const n = normalize ? Math.sqrt(n2) : 1;
  const v = new Float32Array(dim);
  for (let i = 0; i < dim; i++) v[i] = n > 0 ? out[i] / n : 0;
  return v;
}

/**
 * The pooling a model's embeddings use when the caller names none: the file's (an encoder's
 * `pooling_type`), else the mean. A file that asks for none (per-token embeddings) has no
 * single vector: that is an InvalidArgumentError asking for an explicit pooling.
 */
export function modelPooling(model: Pick<Model, "pooling" | "architecture">): Pooling {
  const own = model.pooling;
  if (own === "none") {
    throw new InvalidArgumentError(
      `${model.architecture.name} model has pooling_type none (per-token embeddings); name a pooling (mean, cls, last)`,
      { field: "pooling", expected: "mean, cls or last", actual: "none" },
    );
  }
  return own ?? "mean";
}

/**
 * One embedding per text, several texts per forward pass (embed_batch.ts): consecutive texts
 * share a pass up to `batchSize` tokens and `sequences` texts; `signal` cancels between passes.
 */
export function embed(
  model: Model,
  texts: readonly string[],
  opts: EmbedOptions = {},
): Promise<Float32Array[]> {
  if (!Array.isArray(texts) || texts.some((t) => typeof t !== "string")) {
    return Promise.reject(
      new InvalidArgumentError("embed takes an array of strings", { field: "texts" }),
    );
  }
  try {
    const pooling = opts.pooling ?? modelPooling(model);
    const dim = model.config.embeddingLength;
    if (opts.signal?.aborted) throw new AbortError("embedding aborted");
    const inputs = texts.map((t) => model.tokenizer.encode(t, { addSpecial: true }));
    const normalize = opts.normalize ?? true;
    return embedTokens(
      model,
      inputs,
      (hidden, rows) => poolHidden(hidden, rows, dim, pooling, normalize),
      {
        ...(opts.batchSize !== undefined ? { batchSize: opts.batchSize } : {}),
        ...(opts.sequences !== undefined ? { sequences: opts.sequences } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      },
    );
  } catch (e) {
    return Promise.reject(e);
  }
}
