/**
 * bench: rows for prefill and decode on a tiny synthetic model; with llama.cpp installed
 * (../shared/ref/setup.sh), ratios against it from interleaved runs.
 *
 * @module
 */
import { test } from "../tests/harness.ts";
import { assert, assertClose, assertEquals, assertThrows } from "../tests/assert.ts";
import { pathExists } from "../src/runtime/host.ts";
import { bench, benchTokens } from "./bench.ts";
import { parseBenchArgs } from "./_bench_options.ts";
import { llamaBenchArgs, parseLlamaBenchJson } from "./_llamacpp_gpu_bench.ts";
import { makeSyntheticModel } from "./make_synthetic_model.ts";

async function tinyModel(): Promise<string> {
  const { mkdtempSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const out = `${mkdtempSync(`${tmpdir()}/rf-bench-`)}/tiny.gguf`;
  await makeSyntheticModel({ shape: "tiny", type: "Q4_0", out });
  return out;
}

const opts = (model: string, vsLlamacpp: boolean, depth = [0]) => ({
  model,
  backend: "cpu",
  p: [8],
  n: [4],
  depth,
  threads: 2,
  kvType: { k: "f16", v: "f16" } as const,
  reps: 1,
  vsLlamacpp,
  json: true,
});

test("bench gives pp and tg rows with the measured bandwidth limit for decode", async () => {
  const rows = await bench(opts(await tinyModel(), false));
  assertEquals(rows.map((r) => r.test), ["pp8", "tg4"]);
  for (const r of rows) assert(r.tokens_per_s > 0 && r.ratio_vs_llamacpp === null);
  // every row carries the run's one load time
  assert(rows[0].load_ms > 0 && rows[1].load_ms === rows[0].load_ms);
  assert(rows[0].bandwidth_fraction === null && rows[0].achieved_gb_per_s === null);
  const tg = rows[1];
  assert(tg.bandwidth_limit_tokens_per_s! > 0 && tg.bandwidth_fraction! > 0);
  // the streaming read ran in this command: limit = bandwidth / bytes per token, and the
  // achieved rate is the same bytes per token times tokens/s
  const bytesPerToken = tg.bandwidth_gb_per_s! * 1e9 / tg.bandwidth_limit_tokens_per_s!;
  assertClose(tg.achieved_gb_per_s! * 1e9, tg.tokens_per_s * bytesPerToken, 1e3, "GB/s");
  const given = await bench({ ...opts(await tinyModel(), false), p: [], bandwidth: 5e9 });
  assertEquals(given[0].bandwidth_gb_per_s, 5);
});

test("bench -d: rows per depth, the depth's K/V bytes lower the decode limit", async () => {
  const rows = await bench({ ...opts(await tinyModel(), false, [0, 40]), p: [8, 3] });
  assertEquals(rows.map((r) => r.test), [
    "pp8",
    "pp3",
    "tg4",
    "pp8 @ d40",
    "pp3 @ d40",
    "tg4 @ d40",
  ]);
  assertEquals(rows.map((r) => r.depth), [0, 0, 0, 40, 40, 40]);
  for (const r of rows) assert(r.tokens_per_s > 0);
  assert(rows[5].bandwidth_limit_tokens_per_s! < rows[2].bandwidth_limit_tokens_per_s!);
});

test("bench options: comma lists, GPU bandwidth default, errors for bad input", () => {
  const o = parseBenchArgs(["-m", "x.gguf", "-p", "512,128", "-d", "0,4096", "-n", "0"], 4);
  assertEquals([o.p, o.n, o.depth, o.threads, o.reps], [[512, 128], [0], [0, 4096], 4, 3]);
  assertEquals(o.bandwidth, undefined);
  assertEquals(parseBenchArgs(["-m", "x", "--bandwidth", "12.5"], 1).bandwidth, 12.5e9);
  assertEquals(parseBenchArgs(["-m", "x", "--backend", "hip"], 1).bandwidth, 4800e9);
  assertThrows(() => parseBenchArgs(["-m", "x", "-d", "1,a"], 1), Error, "-d");
  assertThrows(() => parseBenchArgs(["-m", "x", "-p", "1.5"], 1), Error, "integers");
  assertThrows(() => parseBenchArgs(["-m", "x", "--depth"], 1), Error, "needs a value");
  assertThrows(() => parseBenchArgs(["-m", "x", "--fa"], 1), Error, "unknown argument --fa");
  assertThrows(() => parseBenchArgs(["-p", "8"], 1), Error, "missing -m");
  assertEquals(parseBenchArgs(["-m", "x", "--backend", "hip", "--profile"], 1).profile, true);
  assertThrows(() => parseBenchArgs(["-m", "x", "--profile"], 1), Error, "needs --backend hip");
});

test("bench --kv-type: parsed like -ctk/-ctv, rows carry it, q8_0 K/V bytes raise the limit", async () => {
  assertEquals(parseBenchArgs(["-m", "x"], 1).kvType, { k: "f16", v: "f16" });
  assertEquals(parseBenchArgs(["-m", "x", "--kv-type", "q8_0"], 1).kvType, {
    k: "q8_0",
    v: "q8_0",
  });
  assertEquals(
    parseBenchArgs(["-m", "x", "--kv-type", "q8_0", "-ctv", "f16", "-ctk", "q4_0"], 1).kvType,
    { k: "q4_0", v: "f16" },
  );
  assertThrows(() => parseBenchArgs(["-m", "x", "--kv-type", "q3"], 1), Error, "--kv-type must");
  assertThrows(() => parseBenchArgs(["-m", "x", "-ctv", "bf16"], 1), Error, "--kv-type-v must");
  const model = await tinyModel();
  const run = (k: "f16" | "q8_0") =>
    bench({ ...opts(model, false, [64]), p: [], bandwidth: 5e9, kvType: { k, v: k } });
  const [f16, q8] = [await run("f16"), await run("q8_0")];
  assertEquals([q8[0].kv_type_k, q8[0].kv_type_v, f16[0].kv_type_k], ["q8_0", "q8_0", "f16"]);
  assert(q8[0].tokens_per_s > 0);
  assert(q8[0].bandwidth_limit_tokens_per_s! > f16[0].bandwidth_limit_tokens_per_s!);
});

test("llama-bench JSON rows and arguments", () => {
  const json = `warming up\n[{"n_prompt": 512, "n_gen": 0, "n_depth": 4096, "avg_ts": 9780.5,
    "stddev_ts": 12.5}, {"n_prompt": 0, "n_gen": 128, "n_depth": 0, "avg_ts": 354.1,
    "stddev_ts": 0.7}]`;
  assertEquals(parseLlamaBenchJson(json), [
    { p: 512, n: 0, depth: 4096, tokensPerS: 9780.5, stddev: 12.5 },
    { p: 0, n: 128, depth: 0, tokensPerS: 354.1, stddev: 0.7 },
  ]);
  assertThrows(() => parseLlamaBenchJson('[{"n_prompt": 1}]'), Error, "n_gen");
  assertThrows(() => parseLlamaBenchJson("no json"), Error, "no JSON");
  const o = parseBenchArgs(["-m", "m.gguf", "-p", "512", "-n", "0,128", "-d", "0,4096"], 1);
  assertEquals(
    llamaBenchArgs(o).join(" "),
    "-m m.gguf -p 512 -n 128 -d 0,4096 -r 3 -fa 1 -ngl 99 -o json",
  );
});

test("benchTokens stays inside the vocabulary", () => {
  for (const vocab of [300, 512, 32000]) {
    const t = benchTokens(64, vocab);
    assert(t.every((x) => Number.isInteger(x) && x >= 0 && x < vocab), `vocab ${vocab}`);
  }
});

const REF = `${
  (await import("node:os")).homedir()
}/.cache/rocmforge-ref/node_modules/node-llama-cpp`;

test("bench --vs-llamacpp reports llama.cpp's speed and the ratio", async () => {
  const rows = await bench(opts(await tinyModel(), true, [0, 12]));
  assertEquals(rows.map((r) => r.test), ["pp8", "tg4", "pp8 @ d12", "tg4 @ d12"]);
  for (const r of rows) {
    assert(r.llamacpp_tokens_per_s! > 0);
    assert(Math.abs(r.ratio_vs_llamacpp! - r.tokens_per_s / r.llamacpp_tokens_per_s!) < 1e-9);
  }
}, { ignore: !pathExists(REF), reason: "node-llama-cpp not installed (../shared/ref/setup.sh)" });
