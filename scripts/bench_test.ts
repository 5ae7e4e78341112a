/**
 * bench: rows for prefill and decode on a tiny synthetic model; with llama.cpp installed
 * (../shared/ref/setup.sh), ratios against it from interleaved runs.
 *
 * @module
 */
import { test } from "../tests/harness.ts";
import { assert, assertEquals } from "../tests/assert.ts";
import { pathExists } from "../src/runtime/host.ts";
import { bench, benchTokens } from "./bench.ts";
import { makeSyntheticModel } from "./make_synthetic_model.ts";

async function tinyModel(): Promise<string> {
  const { mkdtempSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const out = `${mkdtempSync(`${tmpdir()}/rf-bench-`)}/tiny.gguf`;
  await makeSyntheticModel({ shape: "tiny", type: "Q4_0", out });
  return out;
}

const opts = (model: string, vsLlamacpp: boolean) => ({
  model,
  backend: "cpu",
  p: 8,
  n: 4,
  threads: 2,
  reps: 1,
  vsLlamacpp,
  json: true,
  bandwidth: 19.8e9,
});

test("bench gives pp and tg rows with the bandwidth limit for decode", async () => {
  const rows = await bench(opts(await tinyModel(), false));
  assertEquals(rows.map((r) => r.test), ["pp8", "tg4"]);
  for (const r of rows) assert(r.tokens_per_s > 0 && r.ratio_vs_llamacpp === null);
  assert(rows[0].bandwidth_fraction === null);
  assert(rows[1].bandwidth_limit_tokens_per_s! > 0 && rows[1].bandwidth_fraction! > 0);
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
  const rows = await bench(opts(await tinyModel(), true));
  for (const r of rows) {
    assert(r.llamacpp_tokens_per_s! > 0);
    assert(Math.abs(r.ratio_vs_llamacpp! - r.tokens_per_s / r.llamacpp_tokens_per_s!) < 1e-9);
  }
}, { ignore: !pathExists(REF), reason: "node-llama-cpp not installed (../shared/ref/setup.sh)" });
