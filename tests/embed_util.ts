/**
 * Helpers of the embedding suites: cosine similarity and llama.cpp's embedding goldens
 * (tests/golden/bert-tiny-embed.jsonl); embed_models.ts makes the models they came from (it
 * imports scripts/, so the suites that use it run under Deno only).
 *
 * @module
 */
import { join } from "node:path";
import { readTextFile } from "../src/runtime/host.ts";
import { REPO_ROOT } from "./shared_data.ts";

/** One golden: llama.cpp's embedding of `text` by the model file `model`. */
export interface EmbedRow {
  model: string;
  text: string;
  tokens: number[];
  /** What node-llama-cpp puts around the tokens ([CLS] and [SEP] for BERT). */
  bos: number;
  eos: number;
  embedding: number[];
}

/** Cosine similarity of two vectors of one length. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}

/** The embedding goldens, one row per (model, text). */
export function embedGoldens(): EmbedRow[] {
  return readTextFile(join(REPO_ROOT, "tests", "golden", "bert-tiny-embed.jsonl"))
    .trim().split("\n").map((l) => JSON.parse(l));
}
