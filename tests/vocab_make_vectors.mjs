#!/usr/bin/env node
// Writes tests/vocab_vectors/<vocab>.json: llama.cpp's own token ids (node-llama-cpp's CPU
// build, common_tokenize with add_special=false, parse_special=false, as
// tests/test-tokenizer-0.cpp) for every models/ggml-vocab-*.gguf of llama.cpp's tree, over
// the vocab's .inp strings (llama-spm's where the vocab has none) and tests/vocab_vectors/extra.inp.
// tests/vocab_llamacpp_test.ts checks ROCmForge against these files.
// usage: node tests/vocab_make_vectors.mjs [LLAMACPP_TREE] && deno fmt tests/vocab_vectors
// (run ../shared/ref/setup.sh first)
import { createRequire } from "node:module";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const cache = process.env.RF_REF_DIR ?? join(homedir(), ".cache", "rocmforge-ref");
const tree = process.argv[2] ?? process.env.ROCMFORGE_LLAMACPP ?? join(cache, "llama.cpp");
const require = createRequire(join(cache, "package.json"));
const { getLlama } = await import(require.resolve("node-llama-cpp"));
const here = dirname(fileURLToPath(import.meta.url));
const SEP = "\n__ggml_vocab_test__\n";

/** The strings of an .inp file (a trailing separator ends the last one). */
function inputs(file) {
  const text = readFileSync(file, "utf8");
  const parts = text.split(SEP);
  if (parts[parts.length - 1] === "") parts.pop();
  return parts;
}

const models = join(tree, "models");
const extra = inputs(join(here, "vocab_vectors", "extra.inp"));
const llama = await getLlama({ gpu: false, logLevel: "error" });
const pkg = JSON.parse(
  readFileSync(join(require.resolve("node-llama-cpp"), "../../package.json"), "utf8"),
);
for (const file of readdirSync(models).filter((f) => /^ggml-vocab-.*\.gguf$/.test(f)).sort()) {
  const name = file.slice("ggml-vocab-".length, -".gguf".length);
  const own = join(models, `${file}.inp`);
  const inp = existsSync(own) ? own : join(models, "ggml-vocab-llama-spm.gguf.inp");
  const model = await llama.loadModel({ modelPath: join(models, file), vocabOnly: true });
  const tok = (s) => s === "" ? [] : Array.from(model._model.tokenize(s, false));
  const out = {
    vocab: file,
    made_by: `node tests/vocab_make_vectors.mjs (llama.cpp in node-llama-cpp ${pkg.version})`,
    inp: inp.slice(models.length + 1),
    inp_ids: inputs(inp).map(tok),
    extra_ids: extra.map(tok),
  };
  await model.dispose();
  writeFileSync(join(here, "vocab_vectors", `${name}.json`), JSON.stringify(out) + "\n");
  console.log(name, out.inp_ids.length, out.extra_ids.length);
}
await llama.dispose();
