/**
 * Embeddings from a model: each text tokenized (with the model's special tokens, e.g. BERT's
 * [CLS] ... [SEP]), evaluated for its hidden states, pooled (the file's pooling for encoders,
 * else mean) and L2-normalized.
 *
 * @module
 */
import { AbortError, InvalidArgumentError } from "./errors.ts";
import type { Model } from "./model.ts";
import { Session } from "./session.ts";

/** How token vectors become one vector. */
export type Pooling = "mean" | "cls" | "last";

/** Options of embed(). */
export interface EmbedOptions {
  /** Default: the model's own (BERT's pooling_type), else "mean". */
  readonly pooling?: Pooling;
  /** L2-normalize each vector (default true). */
  readonly normalize?: boolean;
  readonly signal?: AbortSignal;
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

/** One embedding per text. */
export async function embed(
  model: Model,
  texts: readonly string[],
  opts: EmbedOptions = {},
): Promise<Float32Array[]> {
  if (!Array.isArray(texts) || texts.some((t) => typeof t !== "string")) {
    throw new InvalidArgumentError("embed takes an array of strings", { field: "texts" });
  }
  const pooling = opts.pooling ?? modelPooling(model);
  const dim = model.config.embeddingLength;
  const session = new Session(model);
  try {
    const out: Float32Array[] = [];
    for (const text of texts) {
      if (opts.signal?.aborted) throw new AbortError("embedding aborted");
      const tokens = model.tokenizer.encode(text, { addSpecial: true });
      if (tokens.length === 0) {
        throw new InvalidArgumentError("cannot embed an empty input", { field: "texts" });
      }
      session.reset();
      const hidden = await session.eval(tokens, "hidden", { signal: opts.signal });
      out.push(poolHidden(hidden, tokens.length, dim, pooling, opts.normalize ?? true));
    }
    return out;
  } finally {
    session.dispose();
  }
}
