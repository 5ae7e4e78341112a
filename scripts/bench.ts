/**
 * Prefill and decode speed, like llama-bench: ppP = one evaluation of P prompt tokens,
 * tgN = N tokens evaluated one at a time (each a full forward pass with logits), each test
 * run `reps` times after a warm-up; tokens/s is the mean over the reps. With --vs-llamacpp
 * the same model, tokens and thread count run through llama.cpp (node-llama-cpp in a Node
 * subprocess) in the same command, its reps interleaved with ours so both see the same
 * machine load, and the ratio is printed. Decode rows also give the
 * fraction of the memory-bandwidth limit: bytes of weights read per token (every matrix
 * but the embedding table) against --bandwidth (default 19.8 GB/s, this machine's).
 *
 * usage: deno task bench -m MODEL [--backend cpu] [-p 64] [-n 32] [-t THREADS] [-r REPS]
 *          [--vs-llamacpp] [--json] [--bandwidth GBPS]
 *
 * @module
 */
import { createSession, loadModel, registry } from "../src/api.ts";
import { createCpuBackend } from "../src/backends/cpu/backend.ts";
import { args, cpuCount, exit, now, writeStderr, writeStdout } from "../src/runtime/host.ts";
import { startLineProcess } from "../src/runtime/line_process.ts";

/** One result row. */
export interface BenchRow {
  test: string;
  tokens_per_s: number;
  /** Standard deviation over the reps (tokens/s). */
  stddev: number;
  llamacpp_tokens_per_s: number | null;
  ratio_vs_llamacpp: number | null;
  /** Decode only: tokens/s allowed by memory bandwidth, and our fraction of it. */
  bandwidth_limit_tokens_per_s: number | null;
  bandwidth_fraction: number | null;
}

/** Options of bench (the parsed command line). */
export interface BenchOptions {
  model: string;
  backend: string;
  p: number;
  n: number;
  threads: number;
  reps: number;
  vsLlamacpp: boolean;
  json: boolean;
  bandwidth: number;
}

function parse(a: string[], threads: number): BenchOptions {
  const get = (long: string, short?: string) => {
    const i = a.findIndex((x) => x === long || x === short);
    return i >= 0 ? a[i + 1] : undefined;
  };
  const num = (v: string | undefined, d: number, what: string) => {
    if (v === undefined) return d;
    const x = Number(v);
    if (!Number.isFinite(x) || x < 0) throw new Error(`${what} must be a non-negative number`);
    return x;
  };
  const model = get("--model", "-m");
  if (!model) throw new Error("missing -m MODEL");
  return {
    model,
    backend: get("--backend") ?? "cpu",
    p: num(get("--prompt", "-p"), 64, "-p"),
    n: num(get("--gen", "-n"), 32, "-n"),
    threads: Math.max(1, num(get("--threads", "-t"), threads, "-t")),
    reps: Math.max(1, num(get("--reps", "-r"), 3, "-r")),
    vsLlamacpp: a.includes("--vs-llamacpp"),
    json: a.includes("--json"),
    bandwidth: num(get("--bandwidth"), 19.8, "--bandwidth") * 1e9,
  };
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

/** One engine that can time a prefill and a generation. */
interface Engine {
  prefill(): Promise<number>;
  generate(n: number): Promise<number>;
  close(): Promise<void>;
}

async function ours(
  o: BenchOptions,
): Promise<Engine & { bytesPerToken: number; tokens: number[] }> {
  if (o.backend === "cpu") {
    registry.registerBackend(createCpuBackend({ threads: o.threads }), { replace: true });
  }
  const model = await loadModel(o.model, {
    backend: o.backend,
    contextLength: Math.max(256, o.p + o.n + 8),
    log: () => {},
  });
  const tokens = benchTokens(Math.max(o.p, 1), model.config.vocabSize);
  const session = createSession(model, { batchSize: Math.max(o.p, 1) });
  let bytes = 0;
  for (const t of model.file.tensors) if (t.name !== "token_embd.weight") bytes += t.nBytes;
  return {
    bytesPerToken: bytes,
    tokens,
    async prefill() {
      session.reset();
      const t0 = now();
      await session.eval(tokens, "last");
      return (now() - t0) / 1000;
    },
    async generate(n) {
      session.reset();
      const t0 = now();
      for (let i = 0; i < n; i++) await session.eval([tokens[i % tokens.length]], "last");
      return (now() - t0) / 1000;
    },
    close() {
      model.dispose();
      return Promise.resolve();
    },
  };
}

async function llamacpp(o: BenchOptions, tokens: number[]): Promise<Engine> {
  const script = new URL("./_llamacpp_bench.mjs", import.meta.url).pathname;
  const p = startLineProcess("node", [script, o.model, String(o.threads), JSON.stringify(tokens)]);
  const ask = async (cmd: string) => {
    p.send(cmd);
    const line = await p.readLine();
    const secs = Number(line);
    if (!Number.isFinite(secs)) throw new Error(`llama.cpp answered ${line}`);
    return secs;
  };
  try {
    const ready = await p.readLine();
    if (ready !== "ready") throw new Error(`llama.cpp said ${ready}`);
  } catch (e) {
    await p.close();
    throw new Error(
      `llama.cpp did not start; run ../shared/ref/setup.sh first? ${(e as Error).message}`,
    );
  }
  return {
    prefill: () => ask("pp"),
    generate: (n) => ask(`tg ${n}`),
    close: async () => {
      await p.close();
    },
  };
}

/** Runs the benchmark and returns its rows. */
export async function bench(o: BenchOptions): Promise<BenchRow[]> {
  const mine = await ours(o);
  const ref = o.vsLlamacpp ? await llamacpp(o, mine.tokens) : undefined;
  const engines = ref ? [mine, ref] : [mine];
  const times = engines.map(() => ({ pp: [] as number[], tg: [] as number[] }));
  try {
    if (o.p > 0) {
      for (const e of engines) await e.prefill();
      for (let r = 0; r < o.reps; r++) {
        for (let e = 0; e < engines.length; e++) times[e].pp.push(await engines[e].prefill());
      }
    }
    if (o.n > 0) {
      for (const e of engines) await e.generate(o.n);
      for (let r = 0; r < o.reps; r++) {
        for (let e = 0; e < engines.length; e++) times[e].tg.push(await engines[e].generate(o.n));
      }
    }
  } finally {
    for (const e of engines) await e.close();
  }
  const rows: BenchRow[] = [];
  const row = (test: string, count: number, m: number[], theirs?: number[], dec = false) => {
    const s = stats(count, m);
    const r = theirs && theirs.length ? stats(count, theirs).mean : null;
    const limit = dec ? o.bandwidth / mine.bytesPerToken : null;
    rows.push({
      test,
      tokens_per_s: s.mean,
      stddev: s.sd,
      llamacpp_tokens_per_s: r,
      ratio_vs_llamacpp: r ? s.mean / r : null,
      bandwidth_limit_tokens_per_s: limit,
      bandwidth_fraction: limit ? s.mean / limit : null,
    });
  };
  if (o.p > 0) row(`pp${o.p}`, o.p, times[0].pp, ref ? times[1].pp : undefined);
  if (o.n > 0) row(`tg${o.n}`, o.n, times[0].tg, ref ? times[1].tg : undefined, true);
  return rows;
}

function table(o: BenchOptions, rows: BenchRow[]): string {
  const name = o.model.split("/").pop();
  const lines = [
    `model: ${name}  backend: ${o.backend}  threads: ${o.threads}  reps: ${o.reps}`,
    "| test  |          t/s | llama.cpp t/s | ratio | bandwidth limit t/s | of limit |",
    "| ----- | ------------ | ------------- | ----- | ------------------- | -------- |",
  ];
  const f = (x: number | null, d = 2) => (x === null ? "-" : x.toFixed(d));
  for (const r of rows) {
    lines.push(
      `| ${r.test.padEnd(5)} | ${(f(r.tokens_per_s) + " ± " + f(r.stddev)).padStart(12)} | ${
        f(r.llamacpp_tokens_per_s).padStart(13)
      } | ${f(r.ratio_vs_llamacpp).padStart(5)} | ${
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
    o = parse(args(), await cpuCount());
  } catch (e) {
    writeStderr(`bench: ${(e as Error).message}\n`);
    writeStderr(
      "usage: deno task bench -m MODEL [--backend cpu] [-p 64] [-n 32] [-t THREADS] [-r REPS] [--vs-llamacpp] [--json]\n",
    );
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
