/**
 * The embedding contract of the context store. Anything that turns texts into fixed-size
 * float32 vectors with a tokenizer for chunking is an Embedder: today a decoder model
 * mean-pooled over its final hidden states (model_embedder.ts); a BERT-family encoder plugs
 * in behind the same interface.
 *
 * @module
 */
import { ContextError } from "./errors.ts";

/** Texts to vectors. */
export interface Embedder {
  /** The model's name as collections record it (a mismatch is a typed error). */
  readonly model: string;
  /** Length of every vector. */
  readonly dimension: number;
  /** Most tokens one input may have (chunks are cut to fit). */
  readonly maxTokens: number;
  /** Token ids of `text`, no special tokens: chunking counts these. */
  tokenize(text: string): number[];
  /** Text of token ids (the text a chunk stores). */
  detokenize(tokens: readonly number[]): string;
  /** One vector per text, in order. */
  embed(texts: readonly string[], opts?: { signal?: AbortSignal }): Promise<Float32Array[]>;
}

/** What a collection records about its embedder. */
export interface EmbedderIdentity {
  readonly name: string;
  readonly embedModel: string;
  readonly dimension: number;
}

/** Throws when `e` is not the embedder the collection was created with. */
export function checkEmbedder(c: EmbedderIdentity, e: Embedder): void {
  if (e.model !== c.embedModel) {
    throw new ContextError(
      "CONTEXT_MODEL_MISMATCH",
      `collection ${c.name} was embedded with ${c.embedModel}, not ${e.model}`,
      { expected: c.embedModel, actual: e.model, collection: c.name },
    );
  }
  if (e.dimension !== c.dimension) {
    throw new ContextError(
      "CONTEXT_DIMENSION_MISMATCH",
      `collection ${c.name} holds ${c.dimension}-dimensional vectors; the embedder gives ${e.dimension}`,
      { expected: c.dimension, actual: e.dimension, collection: c.name },
    );
  }
}

/** Throws unless `v` has `dimension` finite entries. */
export function checkVector(v: Float32Array, dimension: number, what: string): void {
  if (v.length !== dimension) {
    throw new ContextError(
      "CONTEXT_DIMENSION_MISMATCH",
      `${what} has ${v.length} dimensions; the collection holds ${dimension}`,
      { expected: dimension, actual: v.length },
    );
  }
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i])) {
      throw new ContextError("CONTEXT_BAD_QUERY", `${what}[${i}] is not a finite number`, {
        offset: i,
        actual: v[i],
      });
    }
  }
}
