// llama.cpp's batched decoding (through node-llama-cpp, CPU build: one context of S
// sequences whose evaluations share batches, as llama-server's slots do) timed the way
// scripts/bench_server.ts times ROCmForge, driven line by line so the two engines' runs
// interleave:
//   start:  node _llamacpp_batch_bench.mjs MODEL THREADS   -> prints "ready"
//   stdin:  "gen S N" -> S sequences of a fresh context generate N tokens each at once
//                        (greedy, prompt "Story i: once" for sequence i); prints the seconds
//                        and the tokens generated
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

const [modelPath, tStr] = process.argv.slice(2);
const threads = Number(tStr);
const llama = await getLlama({ gpu: false, logLevel: "error", maxThreads: threads });
const model = await llama.loadModel({ modelPath, gpuLayers: 0 });

async function gen(s, n) {
  const ctx = await model.createContext({
    sequences: s,
    contextSize: s * (n + 64),
    batchSize: 256,
    threads: { ideal: threads, min: threads },
  });
  try {
    const bos = model.tokens.bos;
    const prompts = Array.from({ length: s }, (_, i) => {
      const t = Array.from(model.tokenize(`Story ${i}: once`));
      return bos == null ? t : [bos, ...t];
    });
    const seqs = prompts.map(() => ctx.getSequence());
    const t0 = performance.now();
    const counts = await Promise.all(seqs.map(async (seq, i) => {
      const it = seq.evaluate(prompts[i], { temperature: 0 });
      let k = 0;
      while (k < n) {
        const r = await it.next();
        if (r.done) break;
        k++;
      }
      await it.return();
      return k;
    }));
    return [(performance.now() - t0) / 1000, counts.reduce((a, b) => a + b, 0)];
  } finally {
    await ctx.dispose();
  }
}

console.log("ready");
for await (const line of createInterface({ input: process.stdin })) {
  const [cmd, s, n] = line.trim().split(/\s+/);
  if (cmd === "gen") console.log((await gen(Number(s), Number(n))).join(" "));
  else if (cmd) console.log("error unknown command " + cmd);
}
await model.dispose();
await llama.dispose();
