/**
 * Aggregate decode speed of the HTTP server: for each stream count (default 1, 4, 8, 32), that
 * many concurrent streaming completions (`max_tokens` N, `ignore_eos`, distinct prompts, greedy,
 * `cache_prompt: false`) against one in-process server with as many slots as the largest
 * count; prints tokens/s summed over the streams, the ratio to one stream, and the sequences
 * per forward pass (the slots are sequences of one context: continuous batching puts every
 * decoding stream's next token into one pass, so the ratio is the batching gain).
 *
 * With --vs-llamacpp (CPU), llama.cpp decodes the same stream counts in the same command,
 * interleaved with ours: through node-llama-cpp (scripts/_llamacpp_batch_bench.mjs), S sequences
 * of one context generating at once, as llama-server's slots do (its library, not its HTTP
 * server, so ours carries the HTTP and SSE cost on top). Both use `-t` threads (default: all).
 *
 * With --llama-server BIN (e.g. the CUDA build of scripts/llamacpp_gpu.sh), llama.cpp's own
 * HTTP server runs beside ours on the same model (`-np` = the largest stream count, `-ngl 99`,
 * flash attention) and gets the same requests after ours at each stream count: HTTP against
 * HTTP, the side-by-side issue 14 asks for on the GPU.
 *
 * On HIP (`--backend hip -m F`) the slots' batches run on the device (rope, attention and the
 * last-row pick over a per-sequence table, native/rf_seqs.cpp). -c sets each slot's cache
 * length (default 1024, at most the model's).
 *
 * usage: deno task bench:server [-m MODEL] [--backend cpu|hip] [--streams 1,4,8,32] [-n 64]
 *          [-c 1024] [-t THREADS] [--vs-llamacpp] [--llama-server BIN] [--json]
 *
 * @module
 */
import { createRegistry, loadModel } from "../src/api.ts";
import { args, cpuCount, exit, now, writeStderr, writeStdout } from "../src/runtime/host.ts";
import type { LineProcess } from "../src/runtime/line_process.ts";
import { serveHttp } from "../src/runtime/http_server.ts";
import { createApp } from "../src/server/app.ts";
import { Engine } from "../src/server/engine.ts";
import { startLlamacppNode } from "./_llamacpp_node.ts";
import { type LlamaServer, startLlamaServer } from "./_llama_server.ts";

interface Options {
  model: string;
  backend: string;
  streams: number[];
  tokens: number;
  threads: number | undefined;
  vsLlamacpp: boolean;
  llamaServer: string | undefined;
  json: boolean;
  /** Positions of each slot's cache (-c). */
  context: number;
}

function parse(argv: readonly string[]): Options {
  const o: Options = {
    model: "../shared/models/stories260K.gguf",
    backend: "cpu",
    streams: [1, 4, 8, 32],
    tokens: 64,
    threads: undefined,
    vsLlamacpp: false,
    llamaServer: undefined,
    json: false,
    context: 1024,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${a} needs a value`);
      return x;
    };
    if (a === "-m") o.model = v();
    else if (a === "--backend") o.backend = v();
    else if (a === "--streams") o.streams = v().split(",").map(Number);
    else if (a === "-n") o.tokens = Number(v());
    else if (a === "-t") o.threads = Number(v());
    else if (a === "--vs-llamacpp") o.vsLlamacpp = true;
    else if (a === "--llama-server") o.llamaServer = v();
    else if (a === "--json") o.json = true;
    else if (a === "-c") o.context = Number(v());
    else throw new Error(`unknown argument ${a}`);
  }
  if (o.streams.some((n) => !Number.isInteger(n) || n < 1) || !(o.tokens >= 1)) {
    throw new Error("--streams takes positive integers and -n a positive count");
  }
  if (!(Number.isInteger(o.context) && o.context >= 16)) {
    throw new Error("-c takes a context length of at least 16 positions");
  }
  if (o.threads !== undefined && !(Number.isInteger(o.threads) && o.threads >= 1)) {
    throw new Error("-t takes a positive thread count");
  }
  if (o.vsLlamacpp && o.backend !== "cpu") {
    throw new Error("--vs-llamacpp compares the CPU backend (node-llama-cpp is a CPU build)");
  }
  return o;
}

async function streamTokens(url: string, prompt: string, tokens: number): Promise<number> {
  const res = await fetch(`${url}/v1/completions`, {
    method: "POST",
    body: JSON.stringify({
      prompt,
      max_tokens: tokens,
      temperature: 0,
      ignore_eos: true,
      cache_prompt: false,
      stream: true,
      stream_options: { include_usage: true },
    }),
  });
  const text = await res.text();
  const m = /"completion_tokens":\s*(\d+)/.exec(text);
  // A server whose stream carries no usage: one token per chunk with text.
  const chunks = text.match(/"text":\s*"(?:[^"\\]|\\.)+"/g)?.length ?? 0;
  if (res.status !== 200 || (!m && chunks === 0)) {
    throw new Error(`stream failed (${res.status}): ${text.slice(0, 200)}`);
  }
  return m ? Number(m[1]) : chunks;
}

/** Tokens generated and seconds taken by `streams` concurrent streams against `url`. */
async function streamsRun(
  url: string,
  streams: number,
  tokens: number,
): Promise<{ tokens: number; seconds: number }> {
  const t0 = now();
  const counts = await Promise.all(
    Array.from({ length: streams }, (_, i) => streamTokens(url, `Story ${i}: once`, tokens)),
  );
  return { tokens: counts.reduce((a, b) => a + b, 0), seconds: (now() - t0) / 1000 };
}

/** llama.cpp's batched decoding in a Node child (see _llamacpp_batch_bench.mjs). */
function llamacpp(model: string, threads: number): Promise<LineProcess> {
  return startLlamacppNode("./_llamacpp_batch_bench.mjs", [model, String(threads)]);
}

/** Tokens/s of llama.cpp generating `tokens` in each of `streams` sequences at once. */
async function llamacppRate(p: LineProcess, streams: number, tokens: number): Promise<number> {
  p.send(`gen ${streams} ${tokens}`);
  const line = await p.readLine();
  const [secs, count] = line.split(" ").map(Number);
  if (!(secs > 0 && count > 0)) throw new Error(`llama.cpp answered ${line}`);
  return count / secs;
}

/** The server's batching counters (rocmforge_batch_*_total in /metrics). */
async function batchCounters(url: string): Promise<{ passes: number; sequences: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const get = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? 0);
  return {
    passes: get("rocmforge_batch_passes_total"),
    sequences: get("rocmforge_batch_sequences_total"),
  };
}

async function main(argv: readonly string[]): Promise<number> {
  let o: Options;
  try {
    o = parse(argv);
  } catch (e) {
    writeStderr(
      `${
        (e as Error).message
      }\nusage: deno task bench:server [-m MODEL] [--backend cpu|hip] [--streams 1,4,8,32] [-n 64] [-c 1024] [-t THREADS] [--vs-llamacpp] [--json]\n`,
    );
    return 2;
  }
  const threads = o.threads ?? await cpuCount();
  const model = await loadModel(o.model, {
    backend: o.backend,
    registry: createRegistry({ cpu: { threads } }),
    log: () => {},
  });
  const ref = o.vsLlamacpp ? await llamacpp(o.model, threads) : undefined;
  const parallel = Math.max(...o.streams);
  const side: LlamaServer | undefined = o.llamaServer
    ? await startLlamaServer({
      bin: o.llamaServer,
      model: o.model,
      parallel,
      slotTokens: o.tokens + 64,
      port: 18000 + Math.floor(Math.random() * 2000),
      threads: o.threads,
    })
    : undefined;
  // One sequence per stream and no extra n>1 forks: the caches of 32 slots of a 7B model at
  // -c 1024 take 16 GiB (at its full 4096 context with forks, far more than the device holds).
  const engine = new Engine({
    parallel,
    queueSize: parallel,
    contextLength: Math.min(o.context, model.contextLength),
    choiceForks: 0,
  });
  engine.attach(model);
  const server = await serveHttp(createApp({ engine }).fetch, { port: 0 });
  const rows: {
    streams: number;
    tokens: number;
    seconds: number;
    tps: number;
    perPass: number;
    llamacpp?: number;
    llamaServer?: number;
  }[] = [];
  try {
    await streamTokens(server.url, "Warm up", 8);
    if (side) await streamTokens(side.url, "Warm up", 8);
    for (const n of o.streams) {
      const before = await batchCounters(server.url);
      const { tokens, seconds } = await streamsRun(server.url, n, o.tokens);
      const after = await batchCounters(server.url);
      const perPass = (after.sequences - before.sequences) / (after.passes - before.passes);
      const llama = ref ? { llamacpp: await llamacppRate(ref, n, o.tokens) } : {};
      const theirs = side ? await streamsRun(side.url, n, o.tokens) : undefined;
      const sideRate = theirs ? { llamaServer: theirs.tokens / theirs.seconds } : {};
      rows.push({
        streams: n,
        tokens,
        seconds,
        tps: tokens / seconds,
        perPass,
        ...llama,
        ...sideRate,
      });
    }
  } finally {
    await ref?.close();
    await side?.stop();
    await server.close();
    await engine.shutdown({ graceMs: 0 });
  }
  if (o.json) {
    writeStdout(JSON.stringify({ model: o.model, backend: o.backend, rows }) + "\n");
    return 0;
  }
  writeStdout(
    `model ${o.model} (${o.backend}, ${threads} threads), ${o.tokens} tokens per stream, context ${o.context}\n`,
  );
  writeStdout(
    "streams  tokens  seconds  tokens/s  vs 1 stream  sequences/pass" +
      (ref ? "  llama.cpp t/s  vs llama.cpp" : "") +
      (side ? "  llama-server t/s  vs llama-server\n" : "\n"),
  );
  const one = rows.find((r) => r.streams === 1)?.tps;
  for (const r of rows) {
    const ratio = one ? (r.tps / one).toFixed(2) + "x" : "-";
    writeStdout(
      `${String(r.streams).padStart(7)}  ${String(r.tokens).padStart(6)}  ${
        r.seconds.toFixed(2).padStart(7)
      }  ${r.tps.toFixed(1).padStart(8)}  ${ratio.padStart(11)}  ${
        r.perPass.toFixed(2).padStart(14)
      }${
        r.llamacpp === undefined
          ? ""
          : `  ${r.llamacpp.toFixed(1).padStart(13)}  ${
            (r.tps / r.llamacpp).toFixed(2).padStart(11)
          }x`
      }${
        r.llamaServer === undefined
          ? ""
          : `  ${r.llamaServer.toFixed(1).padStart(16)}  ${
            (r.tps / r.llamaServer).toFixed(2).padStart(14)
          }x`
      }\n`,
    );
  }
  return 0;
}

if (import.meta.main) exit(await main(args()));
