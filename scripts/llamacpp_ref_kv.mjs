#!/usr/bin/env node
// Reference outputs from llama.cpp (through node-llama-cpp, CPU build) for one GGUF and prompt,
// with chosen KV cache types (a copy of ../shared/ref/llamacpp_ref.mjs plus --ctk/--ctv: llama.cpp's
// -ctk/-ctv through node-llama-cpp's experimentalKvCacheKeyType/ValueType; flash attention "auto",
// which is on for the CPU, as llama.cpp requires for a quantized V cache).
// Prints one JSON object: prompt tokens, greedy continuation, and the top-K log-probabilities
// of the distribution before each chosen token (temperature 1, no other sampling).
// usage: node llamacpp_ref_kv.mjs MODEL.gguf "PROMPT" [N_TOKENS=16] [TOP_K=10] [--no-bos] [--threads N]
//   [--ctk TYPE] [--ctv TYPE]   (KV cache types, GGML names: F32, F16, Q8_0, Q4_0; default F16)
// Run setup.sh once first: it installs node-llama-cpp into a cache dir ($RF_REF_DIR, default
// ~/.cache/rocmforge-ref) from which this script imports it.
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { join } from "node:path";

const cache = process.env.RF_REF_DIR ?? join(homedir(), ".cache", "rocmforge-ref");
const require = createRequire(join(cache, "package.json"));
const { getLlama } = await import(require.resolve("node-llama-cpp"));

const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const threads = Number(flag("--threads") ?? 2);
const ctk = flag("--ctk") ?? "F16";
const ctv = flag("--ctv") ?? "F16";
const noBos = args.includes("--no-bos");
if (noBos) args.splice(args.indexOf("--no-bos"), 1);
const [modelPath, prompt, nStr = "16", kStr = "10"] = args;
if (!modelPath || prompt === undefined) {
  console.error("usage: llamacpp_ref.mjs MODEL PROMPT [N] [TOP_K] [--no-bos] [--threads N]");
  process.exit(2);
}

const llama = await getLlama({ gpu: false, logLevel: "error" });
const model = await llama.loadModel({ modelPath });
const ctx = await model.createContext({
  contextSize: 512,
  threads,
  batchSize: 512,
  experimentalKvCacheKeyType: ctk,
  experimentalKvCacheValueType: ctv,
});
console.error(`kv cache types: K ${ctx.kvCacheKeyType} V ${ctx.kvCacheValueType}`);
const seq = ctx.getSequence();
const promptTokens = Array.from(model.tokenize(prompt));
const tokens = noBos
  ? promptTokens
  : (model.tokens.bos != null ? [model.tokens.bos, ...promptTokens] : promptTokens);
const steps = [];
const t0 = performance.now();
// Sample at temperature 1 to get the full distribution, then feed back the most likely
// token ourselves, so the continuation is greedy and the log-probabilities are real.
const gen = seq.evaluateWithMetadata(tokens, { probabilities: true }, {
  temperature: 1,
  topK: 0,
  topP: 1,
  minP: 0,
  seed: 1,
});
let r = await gen.next();
while (!r.done) {
  const top = [];
  for (const [tok, p] of r.value.probabilities) {
    top.push([tok, Math.log(p)]);
    if (top.length >= Number(kStr)) break;
  }
  steps.push({ token: top[0][0], top });
  if (steps.length >= Number(nStr)) break;
  r = await gen.next(top[0][0]);
}
await gen.return?.();
const ms = performance.now() - t0;
console.log(JSON.stringify({
  model: modelPath.split("/").pop(),
  kv_type_k: ctk,
  kv_type_v: ctv,
  prompt,
  prompt_tokens: tokens,
  tokens: steps.map((s) => s.token),
  text: model.detokenize(steps.map((s) => s.token)),
  top_logprobs: steps.map((s) => s.top),
  ms: Math.round(ms),
}));
await ctx.dispose();
await model.dispose();
await llama.dispose();
