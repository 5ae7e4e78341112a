/**
 * Prefill and decode speed, like llama-bench: ppP = one evaluation of P prompt tokens,
 * tgN = N tokens evaluated one at a time (each a full forward pass with logits), each after
 * `-d D` tokens already in the KV cache (untimed, llama-bench's depth; "pp512 @ d4096"), each
 * test run `reps` times after a warm-up; tokens/s is the mean over the reps. -p/-n/-d take
 * comma lists. With --vs-llamacpp llama.cpp runs the same model and tokens in the same
 * command and the ratio is printed: on the CPU through node-llama-cpp in a Node subprocess,
 * its reps interleaved with ours so both see the same machine load; on the GPU (--backend hip)
 * as llama-bench (-fa 1 -ngl 99) built with CUDA or HIP by scripts/llamacpp_gpu.sh. Decode rows
 * also give the bytes per second they read (every matrix but the embedding table, plus the
 * K/V rows of the depth in the cache types' llama.cpp sizes, per token) and the fraction of the memory-bandwidth limit that
 * is: --bandwidth (GB/s), by default on the CPU a streaming read of this machine measured in
 * the same command with the same threads (scripts/_stream_bench.ts), and 4800 on the GPU, the
 * H200's datasheet.
 *
 * usage: deno task bench -m MODEL [--backend cpu|hip] [-p 64] [-n 32] [-d 0] [-t THREADS]
 *          [--kv-type T] [-ctk T] [-ctv T] [-r REPS] [--vs-llamacpp] [--json]
 *          [--bandwidth GBPS] [--profile]
 *
 * --kv-type T (f32 | f16 | q8_0 | q4_0; -ctk/-ctv for K or V alone): the KV cache types of
 * both engines (node-llama-cpp's experimentalKvCacheKeyType/ValueType); every row carries them.
 *
 * --profile (GPU): the native library times every op of each decode step with events and
 * prints the per-op GPU time (ms per step, µs per op, ops per step) to stderr every 128 steps.
 *
 * @module
 */
import { createSession, loadModel, registry } from "../src/api.ts";
import { createCpuBackend } from "../src/backends/cpu/backend.ts";
import { isDefaultKV, kvBytesPerElement, kvTypesLabel } from "../src/gguf/kv_type.ts";
import process from "node:process";
import { args, cpuCount, exit, now, writeStderr, writeStdout } from "../src/runtime/host.ts";
import { BENCH_USAGE, type BenchOptions, parseBenchArgs } from "./_bench_options.ts";
import { llamaBenchGpu, type LlamaBenchResult } from "./_llamacpp_gpu_bench.ts";
import { startLlamacppNode } from "./_llamacpp_node.ts";
import { streamBandwidth } from "./_stream_bench.ts";

export type { BenchOptions } from "./_bench_options.ts";

/** One result row. */
export interface BenchRow {
  test: string;
  /** Tokens in the KV cache before the timed run. */
  depth: number;
  /** KV cache types of K and V (both engines). */
  kv_type_k: string;
  kv_type_v: string;
  tokens_per_s: number;
  /** Standard deviation over the reps (tokens/s). */
  stddev: number;
  llamacpp_tokens_per_s: number | null;
  ratio_vs_llamacpp: number | null;
  /** Decode only: tokens/s allowed by memory bandwidth, and our fraction of it. */
  bandwidth_limit_tokens_per_s: number | null;
  bandwidth_fraction: number | null;
  /** Decode only: bytes read per second (GB/s), and the bandwidth it is rated against. */
  achieved_gb_per_s: number | null;
  bandwidth_gb_per_s: number | null;
  /** Milliseconds loadModel took for this run's one load (file to weights on the device). */
  load_ms: number;
}

function stats(tokens: number, secs: number[]): { mean: number; sd: number } {
  const rates = secs.map((s) => tokens / s);
  const mean = rates.reduce((a, b) => a + b, 0) / rates.length;
  const sd = Math.sqrt(rates.reduce((a, r) => a + (r - mean) ** 2, 0) / rates.length);
  return { mean, sd };
}

/** Prompt token ids used by both engines: plain ids past the specials, below `vocab`. */
export function benchTokens(p: number, vocab: number): number[] {
  const lo = Math.min(100, Math.floor(vocab / 4));
  return Array.from({ length: p }, (_, i) => lo + ((i * 37) % Math.max(1, vocab - 2 * lo)));
}

/** One engine that times a prefill or a generation after `depth` cached tokens. */
interface Engine {
  prefill(depth: number, p: number): Promise<number>;
  generate(depth: number, n: number): Promise<number>;
  close(): Promise<void>;
}

const positive = (xs: number[]) => xs.filter((x) => x > 0);

async function ours(
  o: BenchOptions,
): Promise<
  Engine & { bytesPerToken: (depth: number) => number; tokens: number[]; loadMs: number }
> {
  // Read by the native library when it first runs a program (after this point).
  if (o.profile) process.env.ROCMFORGE_PROFILE = "1";
  if (o.backend === "cpu") {
    registry.registerBackend(createCpuBackend({ threads: o.threads }), { replace: true });
  }
  const maxDepth = Math.max(0, ...o.depth);
  const maxRun = Math.max(1, ...o.p, ...o.n);
  const t0 = now();
  const model = await loadModel(o.model, {
    backend: o.backend,
    contextLength: Math.max(256, maxDepth + maxRun + 8),
    kvType: o.kvType,
    log: () => {},
  });
  const loadMs = now() - t0;
  const c = model.config;
  const tokens = benchTokens(maxDepth + maxRun, c.vocabSize);
  const session = createSession(model, { batchSize: Math.max(256, ...o.p) });
  let bytes = 0;
  for (const t of model.file.tensors) if (t.name !== "token_embd.weight") bytes += t.nBytes;
  // KV bytes read per cached token, in llama.cpp's sizes of the cache types (f16: 2).
  const kvBytes = c.blockCount * c.headCountKV *
    (c.keyLength * kvBytesPerElement(o.kvType.k) + c.valueLength * kvBytesPerElement(o.kvType.v));
  // Decoders give the last row's logits; an encoder (BERT) its hidden rows, one pass per input.
  const mode = model.outputs.includes("last") ? "last" : model.outputs[0];
  // The cache always holds a prefix of `tokens`: reaching depth d truncates or extends it.
  const toDepth = async (d: number) => {
    if (session.nPast >= d) session.truncate(d);
    else await session.eval(tokens.slice(session.nPast, d), mode);
  };
  return {
    bytesPerToken: (d) => bytes + d * kvBytes,
    tokens,
    loadMs,
    async prefill(d, p) {
      await toDepth(d);
      const t0 = now();
      await session.eval(tokens.slice(d, d + p), mode);
      return (now() - t0) / 1000;
    },
    async generate(d, n) {
      await toDepth(d);
      const t0 = now();
      for (let i = 0; i < n; i++) await session.eval([tokens[d + i]], mode);
      return (now() - t0) / 1000;
    },
    close() {
      model.dispose();
      return Promise.resolve();
    },
  };
}

async function llamacppCpu(o: BenchOptions, tokens: number[]): Promise<Engine> {
  const p = await startLlamacppNode("./_llamacpp_bench.mjs", [
    o.model,
    String(o.threads),
    JSON.stringify(tokens),
    o.kvType.k.toUpperCase(),
    o.kvType.v.toUpperCase(),
  ]);
  const ask = async (cmd: string) => {
    p.send(cmd);
    const line = await p.readLine();
    const secs = Number(line);
    if (!Number.isFinite(secs)) throw new Error(`llama.cpp answered ${line}`);
    return secs;
  };
  return {
    prefill: (d, n) => ask(`pp ${d} ${n}`),
    generate: (d, n) => ask(`tg ${d} ${n}`),
    close: async () => {
      await p.close();
    },
  };
}

/** Runs the benchmark and returns its rows. */
export async function bench(o: BenchOptions): Promise<BenchRow[]> {
  const measured = o.bandwidth === undefined && o.backend === "cpu";
  const bandwidth = measured
    ? (await streamBandwidth({ threads: o.threads })).bytesPerSec
    : o.bandwidth;
  const mine = await ours(o);
  const gpu = o.backend !== "cpu";
  const ref = o.vsLlamacpp && !gpu ? await llamacppCpu(o, mine.tokens) : undefined;
  const engines = ref ? [mine, ref] : [mine];
  interface Run {
    kind: "pp" | "tg";
    depth: number;
    count: number;
    secs: number[][];
  }
  const runs: Run[] = [];
  for (const depth of o.depth) {
    for (const p of positive(o.p)) runs.push({ kind: "pp", depth, count: p, secs: [[], []] });
    for (const n of positive(o.n)) runs.push({ kind: "tg", depth, count: n, secs: [[], []] });
  }
  try {
    for (const r of runs) {
      const time = (e: Engine) =>
        r.kind === "pp" ? e.prefill(r.depth, r.count) : e.generate(r.depth, r.count);
      for (const e of engines) await time(e);
      for (let rep = 0; rep < o.reps; rep++) {
        for (let e = 0; e < engines.length; e++) r.secs[e].push(await time(engines[e]));
      }
    }
  } finally {
    for (const e of engines) await e.close();
  }
  let theirs: LlamaBenchResult[] = [];
  if (o.vsLlamacpp && gpu && !isDefaultKV(o.kvType)) {
    writeStderr("bench: no llama.cpp comparison: llama-bench runs here with an f16 KV cache\n");
  } else if (o.vsLlamacpp && gpu) {
    try {
      theirs = await llamaBenchGpu(o);
    } catch (e) {
      // Our rows are measured already: print them with empty llama.cpp columns, say why.
      writeStderr(`bench: no llama.cpp comparison: ${(e as Error).message}\n`);
    }
  }
  return runs.map((r) => {
    const s = stats(r.count, r.secs[0]);
    let refRate: number | null = ref ? stats(r.count, r.secs[1]).mean : null;
    if (gpu && o.vsLlamacpp) {
      const hit = theirs.find((t) =>
        t.depth === r.depth && (r.kind === "pp" ? t.p === r.count && t.n === 0 : t.n === r.count)
      );
      refRate = hit ? hit.tokensPerS : null;
    }
    const tg = r.kind === "tg" && bandwidth !== undefined;
    const limit = tg ? bandwidth / mine.bytesPerToken(r.depth) : null;
    return {
      test: `${r.kind}${r.count}${r.depth ? ` @ d${r.depth}` : ""}`,
      depth: r.depth,
      kv_type_k: o.kvType.k,
      kv_type_v: o.kvType.v,
      tokens_per_s: s.mean,
      stddev: s.sd,
      llamacpp_tokens_per_s: refRate,
      ratio_vs_llamacpp: refRate ? s.mean / refRate : null,
      bandwidth_limit_tokens_per_s: limit,
      bandwidth_fraction: limit ? s.mean / limit : null,
      achieved_gb_per_s: r.kind === "tg" ? s.mean * mine.bytesPerToken(r.depth) / 1e9 : null,
      bandwidth_gb_per_s: tg ? bandwidth / 1e9 : null,
      load_ms: mine.loadMs,
    };
  });
}

function table(o: BenchOptions, rows: BenchRow[]): string {
  const name = o.model.split("/").pop();
  const w = Math.max(5, ...rows.map((r) => r.test.length));
  const bw = rows.find((r) => r.bandwidth_gb_per_s !== null)?.bandwidth_gb_per_s ?? null;
  const lines = [
    `model: ${name}  backend: ${o.backend}  threads: ${o.threads}  reps: ${o.reps}  kv: ${
      kvTypesLabel(o.kvType)
    }  load: ${rows.length ? rows[0].load_ms.toFixed(0) : "-"} ms`,
    ...(bw === null ? [] : [
      `bandwidth: ${bw.toFixed(1)} GB/s (${
        o.bandwidth === undefined ? "streaming read measured now" : "--bandwidth"
      })`,
    ]),
    `| ${
      "test".padEnd(w)
    } |          t/s | llama.cpp t/s | ratio |  GB/s | bandwidth limit t/s | of limit |`,
    `| ${
      "-".repeat(w)
    } | ------------ | ------------- | ----- | ----- | ------------------- | -------- |`,
  ];
  const f = (x: number | null, d = 2) => (x === null ? "-" : x.toFixed(d));
  for (const r of rows) {
    lines.push(
      `| ${r.test.padEnd(w)} | ${(f(r.tokens_per_s) + " ± " + f(r.stddev)).padStart(12)} | ${
        f(r.llamacpp_tokens_per_s).padStart(13)
      } | ${f(r.ratio_vs_llamacpp).padStart(5)} | ${f(r.achieved_gb_per_s, 1).padStart(5)} | ${
        f(r.bandwidth_limit_tokens_per_s, 1).padStart(19)
      } | ${
        (r.bandwidth_fraction === null ? "-" : (r.bandwidth_fraction * 100).toFixed(0) + "%")
          .padStart(8)
      } |`,
    );
  }
  return lines.join("\n") + "\n";
}

async function main(): Promise<void> {
  let o: BenchOptions;
  try {
    o = parseBenchArgs(args(), await cpuCount());
  } catch (e) {
    writeStderr(`bench: ${(e as Error).message}\n${BENCH_USAGE}\n`);
    exit(2);
  }
  try {
    const rows = await bench(o);
    writeStdout(o.json ? JSON.stringify(rows, null, 2) + "\n" : table(o, rows));
  } catch (e) {
    writeStderr(`bench: ${(e as Error).message}\n`);
    exit(1);
  }
}

if ((import.meta as { main?: boolean }).main) await main();
