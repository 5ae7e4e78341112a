/**
 * Helpers of the embedding suites: cosine similarity, llama.cpp's embedding goldens
 * (tests/golden/bert-tiny-embed.jsonl) and the random encoder models they were made from.
 *
 * @module
 */
import { join } from "node:path";
import { makeSyntheticModel } from "../scripts/make_synthetic_model.ts";
import { readTextFile } from "../src/runtime/host.ts";
import { REPO_ROOT, sharedPath } from "./shared_data.ts";

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

/**
 * Writes the golden's model `name` (e.g. "nomic-bert-tiny-Q8_0.gguf": architecture and type
 * from the name, tiny shape, seed 7, the bert-bge vocabulary) into `dir`; returns its path.
 */
export async function makeEmbedModel(dir: string, name: string): Promise<string> {
  const type = name.match(/-([A-Z0-9_]+)\.gguf$/)![1];
  const out = join(dir, name);
  await makeSyntheticModel({
    arch: name.startsWith("nomic") ? "nomic-bert" : "bert",
    shape: "tiny",
    type,
    out,
    seed: 7,
    vocab: sharedPath("models", "llama.cpp-vocab", "ggml-vocab-bert-bge.gguf"),
  });
  return out;
}
