/**
 * Model load time: loads a model `-r` times (after one untimed load that warms the page cache
 * and the device) and prints, per rep, the whole loadModel time and its phases as the load's
 * progress reports date them: "parse" (header and graphs until the first placement report),
 * "place" (until the first weight bytes are read), "weights" (reading and uploading every
 * tensor, until the "done" report) and the rest (disposal not included).
 *
 * With --read-only it times only reading every tensor, in file order, in parts of 16 MiB into
 * one reused buffer (the staging ring's reads without a device): the file-read ceiling.
 *
 * usage: deno run -A scripts/bench_load.ts -m MODEL [--backend hip|cpu|auto] [-r 3] [--json]
 *          [--read-only]
 *
 * @module
 */
import { loadModel } from "../src/api.ts";
import type { LoadProgress } from "../src/core/model_load.ts";
import { tensorDataInto } from "../src/gguf/gguf_file.ts";
import { openGGUF } from "../src/gguf/reader.ts";
import { args, exit, now, writeStderr, writeStdout } from "../src/runtime/host.ts";

/** One timed load, in milliseconds. */
export interface LoadRow {
  rep: number;
  load_ms: number;
  parse_ms: number;
  place_ms: number;
  weights_ms: number;
  weights_bytes: number;
  weights_gb_per_s: number;
  tensors: number;
}

async function timedLoad(model: string, backend: string, rep: number): Promise<LoadRow> {
  let place = NaN, weights = NaN, done = NaN, bytes = 0, tensors = 0;
  const t0 = now();
  const m = await loadModel(model, {
    backend,
    log: () => {},
    onProgress: (p: LoadProgress) => {
      const t = now();
      if (p.phase === "place" && Number.isNaN(place)) place = t;
      if (p.phase === "weights" && Number.isNaN(weights)) weights = t;
      if (p.phase === "weights") {
        bytes = p.loaded;
        tensors = p.tensors ?? 0;
      }
      if (p.phase === "done") done = t;
    },
  });
  const t1 = now();
  m.dispose();
  const ws = (done - weights) / 1000;
  return {
    rep,
    load_ms: t1 - t0,
    parse_ms: place - t0,
    place_ms: weights - place,
    weights_ms: done - weights,
    weights_bytes: bytes,
    weights_gb_per_s: bytes / ws / 1e9,
    tensors,
  };
}

/** Reads every tensor in file order through one 16 MiB buffer; returns [ms, bytes]. */
function timedRead(model: string): [number, number] {
  const f = openGGUF(model);
  const buf = new Uint8Array(16 << 20);
  const t0 = now();
  let bytes = 0;
  for (const t of [...f.tensors].sort((a, b) => a.offset - b.offset)) {
    for (let s = 0; s < t.nBytes; s += buf.byteLength) {
      tensorDataInto(f, t, s, buf.subarray(0, Math.min(buf.byteLength, t.nBytes - s)));
    }
    bytes += t.nBytes;
  }
  const ms = now() - t0;
  f.source.close();
  return [ms, bytes];
}

async function main(): Promise<void> {
  const a = args();
  let model = "", backend = "hip", reps = 3, json = false, readOnly = false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === "-m") model = a[++i];
    else if (a[i] === "--backend") backend = a[++i];
    else if (a[i] === "-r") reps = Number(a[++i]);
    else if (a[i] === "--json") json = true;
    else if (a[i] === "--read-only") readOnly = true;
    else {
      writeStderr(`bench_load: unknown argument ${a[i]}\n`);
      exit(2);
    }
  }
  if (!model || !Number.isInteger(reps) || reps < 1) {
    writeStderr(
      "usage: bench_load.ts -m MODEL [--backend hip|cpu|auto] [-r 3] [--json] [--read-only]\n",
    );
    exit(2);
  }
  if (readOnly) {
    timedRead(model);
    for (let r = 1; r <= reps; r++) {
      const [ms, bytes] = timedRead(model);
      writeStdout(`read ${r}: ${ms.toFixed(0)} ms, ${(bytes / ms / 1e6).toFixed(2)} GB/s\n`);
    }
    return;
  }
  await timedLoad(model, backend, 0);
  const rows: LoadRow[] = [];
  for (let r = 1; r <= reps; r++) rows.push(await timedLoad(model, backend, r));
  if (json) {
    writeStdout(JSON.stringify(rows) + "\n");
    return;
  }
  const f = (x: number) => x.toFixed(0).padStart(7);
  writeStdout(`model: ${model.split("/").pop()}  backend: ${backend}\n`);
  writeStdout("| rep | load ms | parse | place | weights |  GB/s | tensors |\n");
  for (const r of rows) {
    writeStdout(
      `| ${String(r.rep).padStart(3)} | ${f(r.load_ms)} | ${f(r.parse_ms).slice(2)} | ${
        f(r.place_ms).slice(2)
      } | ${f(r.weights_ms)} | ${r.weights_gb_per_s.toFixed(2).padStart(5)} | ${
        String(r.tensors).padStart(7)
      } |\n`,
    );
  }
  const mean = rows.reduce((s, r) => s + r.load_ms, 0) / rows.length;
  writeStdout(`mean load: ${mean.toFixed(0)} ms\n`);
}

if ((import.meta as { main?: boolean }).main) await main();
