/**
 * The random encoder models of llama.cpp's embedding goldens (tests/golden/bert-tiny-embed.jsonl),
 * made with scripts/ (so the suites that import this run under Deno only).
 *
 * @module
 */
import { join } from "node:path";
import { makeSyntheticModel } from "../scripts/make_synthetic_model.ts";
import { sharedPath } from "./shared_data.ts";

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
