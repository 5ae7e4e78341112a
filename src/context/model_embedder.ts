/**
 * A loaded model as an Embedder (an encoder such as BERT, or a decoder): each text is
 * evaluated from position 0 and its final hidden states are pooled (the model's own pooling,
 * else mean) and L2-normalized, the way `/v1/embeddings` does, several texts per forward pass (core/embed_batch.ts). Inputs
 * longer than the session's context are cut to fit.
 *
 * @module
 */
import { modelPooling } from "../core/embed.ts";
import { embedTokens } from "../core/embed_batch.ts";
import type { Model } from "../core/model.ts";
import { Session } from "../core/session.ts";
import type { Embedder } from "./embedder.ts";
import { type Pooling, poolNormalize } from "./pooling.ts";

/** Options of {@linkcode modelEmbedder}. */
export interface ModelEmbedderOptions {
  /** Name recorded in collections (default: the model's file path). */
  readonly name?: string;
  readonly pooling?: Pooling;
  /** Most tokens per input (default and cap: the model's context length). */
  readonly maxTokens?: number;
  /** Most tokens one forward pass packs over several texts (default 512). */
  readonly batchSize?: number;
}

/** An Embedder over `model`; dispose() frees its session (not the model). */
export function modelEmbedder(
  model: Model,
  opts: ModelEmbedderOptions = {},
): Embedder & { dispose(): void } {
  const maxTokens = Math.min(opts.maxTokens ?? model.contextLength, model.contextLength);
  const session = new Session(model, { contextLength: maxTokens });
  const tok = model.tokenizer;
  const dim = model.config.embeddingLength;
  const pooling: Pooling = opts.pooling ?? modelPooling(model);
  return {
    model: opts.name ?? model.path,
    dimension: dim,
    maxTokens,
    tokenize: (text) => tok.encode(text, { addSpecial: false, parseSpecial: false }),
    detokenize: (ids) => tok.decode(ids),
    embed(texts, o = {}) {
      const inputs = texts.map((text) => {
        const ids = tok.encode(text, { addSpecial: true, parseSpecial: false });
        return ids.length ? ids.slice(0, maxTokens) : [tok.bos ?? 0];
      });
      // Several texts per forward pass; texts that run alone use the session.
      return embedTokens(model, inputs, (h, rows) => poolNormalize(h, rows, dim, pooling), {
        session,
        ...(opts.batchSize !== undefined ? { batchSize: opts.batchSize } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
      });
    },
    dispose: () => session.dispose(),
  };
}
