#!/usr/bin/env node
// llama.cpp's embeddings (node-llama-cpp 3.21.1, CPU) for a GGUF and texts: one JSON line per
// text with its tokens, the BOS/EOS ids node-llama-cpp puts around them (for BERT: [CLS] and
// [SEP]) and the pooled embedding getEmbeddingFor returns.
// usage: node scripts/llamacpp_embed_ref.mjs MODEL.gguf TEXT... (after sh ../shared/ref/setup.sh)
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { basename, join } from "node:path";

const cache = process.env.RF_REF_DIR ?? join(homedir(), ".cache", "rocmforge-ref");
const require = createRequire(join(cache, "package.json"));
const { getLlama } = await import(require.resolve("node-llama-cpp"));
const [modelPath, ...texts] = process.argv.slice(2);
if (!modelPath || texts.length === 0) {
  console.error("usage: llamacpp_embed_ref.mjs MODEL TEXT...");
  process.exit(2);
}
const llama = await getLlama({ gpu: false, logLevel: "error" });
const model = await llama.loadModel({ modelPath });
const ctx = await model.createEmbeddingContext({ contextSize: 512, threads: 2 });
for (const text of texts) {
  const tokens = Array.from(model.tokenize(text, true));
  const e = await ctx.getEmbeddingFor(tokens);
  const bos = model.tokens.bos;
  const eos = model.tokens.sep ?? model.tokens.eos; // BERT ends with [SEP]
  console.log(
    JSON.stringify({
      model: basename(modelPath),
      text,
      tokens,
      bos,
      eos,
      embedding: Array.from(e.vector),
    }),
  );
}
await ctx.dispose();
await model.dispose();
