// llama.cpp (through node-llama-cpp, CPU build) timed the way scripts/bench.ts times
// ROCmForge, driven line by line so the two engines' runs interleave:
//   start:  node _llamacpp_bench.mjs MODEL THREADS TOKENS_JSON [K_TYPE V_TYPE] -> prints "ready"
//           (K_TYPE / V_TYPE: the KV cache types as GGML names, default F16)
//   stdin:  "pp D P" -> prints seconds for one evaluation of TOKENS[D..D+P) after TOKENS[0..D)
//                       (fresh context; the first D tokens are evaluated untimed)
//           "tg D N" -> prints seconds for N tokens generated one at a time after TOKENS[0..D)
//                       (fresh context, starting from TOKENS[D])
// node-llama-cpp is imported from $RF_REF_DIR (default ~/.cache/rocmforge-ref), where
// ../shared/ref/setup.sh installs it.
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { createInterface } from "node:readline";

const cache = process.env.RF_REF_DIR ?? join(homedir(), ".cache", "rocmforge-ref");
const require = createRequire(join(cache, "package.json"));
const { getLlama } = await import(require.resolve("node-llama-cpp"));

const [modelPath, tStr, tokJson, kType = "F16", vType = "F16"] = process.argv.slice(2);
const threads = Number(tStr);
const tokens = JSON.parse(tokJson);

const llama = await getLlama({ gpu: false, logLevel: "error", maxThreads: threads });
const model = await llama.loadModel({ modelPath, gpuLayers: 0 });
const ctx = await model.createContext({
  contextSize: Math.max(256, tokens.length * 2 + 64),
  batchSize: Math.max(tokens.length, 8),
  threads: { ideal: threads, min: threads },
  experimentalKvCacheKeyType: kType,
  experimentalKvCacheValueType: vType,
});
const seq = ctx.getSequence();

async function toDepth(d) {
  await seq.clearHistory();
  if (d > 0) await seq.evaluateWithoutGeneratingNewTokens(tokens.slice(0, d));
}

async function prefill(d, p) {
  await toDepth(d);
  const t0 = performance.now();
  await seq.evaluateWithoutGeneratingNewTokens(tokens.slice(d, d + p));
  return (performance.now() - t0) / 1000;
}

async function generate(d, n) {
  await toDepth(d);
  const t0 = performance.now();
  const gen = seq.evaluate([tokens[d]], { temperature: 0 });
  for (let i = 0; i < n; i++) {
    const r = await gen.next();
    if (r.done) break;
  }
  await gen.return();
  return (performance.now() - t0) / 1000;
}

console.log("ready");
for await (const line of createInterface({ input: process.stdin })) {
  const [cmd, d, count] = line.trim().split(/\s+/);
  if (cmd === "pp") console.log(String(await prefill(Number(d), Number(count))));
  else if (cmd === "tg") console.log(String(await generate(Number(d), Number(count))));
  else if (cmd) console.log("error unknown command " + cmd);
}
await ctx.dispose();
await model.dispose();
await llama.dispose();
