/**
 * llama.cpp's K-quant mixtures (make-model --type Q3_K_M / Q4_K_M / Q5_K_M: Q3_K, Q4_K, Q5_K
 * and Q6_K matrices in one file, llama-quantize's layout) teacher-forced against llama.cpp on
 * the WebAssembly kernels (and the native ones where built): every K-quant product sums in
 * llama.cpp's x86 order, so the log-probabilities agree to its float32 rounding (~1e-6) and
 * the greedy tokens are equal. The models are regenerated and checked by SHA-256; the golden
 * rows were made as tests/golden/README.md says.
 *
 * @module
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeSyntheticModel } from "../scripts/make_synthetic_model.ts";
import { createCpuBackend } from "../src/backends/cpu/backend.ts";
import { Model } from "../src/core/model.ts";
import { builtinArchitectures } from "../src/model/mod.ts";
import { readTextFile } from "../src/runtime/host.ts";
import { sha256Hex } from "./_hash.ts";
import { assert, assertEquals } from "./assert.ts";
import { HAVE_NATIVE_CPU } from "./cpu_providers.ts";
import { type GoldenRow, greedyTokens as greedy, teacherForcedMaxDiff } from "./golden_util.ts";
import { test } from "./harness.ts";
import { HAVE_SHARED, NO_SHARED_REASON, REPO_ROOT, sharedPath } from "./shared_data.ts";

/** SHA-256 of each regenerated model (llama3, tiny shape, stories260K vocabulary, seed 7). */
const MODELS: Record<string, string> = {
  "llama3-tiny-Q3_K_M.gguf": "14e7688c0df571fd593427fef9cac47ff5101e6335c7b98afb2685ad92904b8a",
  "llama3-tiny-Q4_K_M.gguf": "664a39897aaac685fdcc74e5c576bfa9b6b83ee38ef2eb2da7f772df69084095",
  "llama3-tiny-Q5_K_M.gguf": "013b22be5d2e9bacdaeb03906601079a54b077cc2fd00ba6b558e47eaa1c79bc",
};
const BOUND = 2e-5;

const rows: GoldenRow[] = readTextFile(join(REPO_ROOT, "tests", "golden", "mixtures-tiny.jsonl"))
  .trim().split("\n").map((l) => JSON.parse(l));
const dir = mkdtempSync(join(tmpdir(), "rf-golden-mix-"));
const made = new Map<string, Promise<string>>();
function modelFile(name: string): Promise<string> {
  let p = made.get(name);
  if (!p) {
    const type = name.match(/-tiny-([A-Z0-9_]+)\.gguf$/)![1];
    const out = join(dir, name);
    p = makeSyntheticModel({
      arch: "llama3",
      shape: "tiny",
      type,
      out,
      seed: 7,
      vocab: sharedPath("models", "stories260K.gguf"),
    }).then(() => {
      assertEquals(sha256Hex(readFileSync(out)), MODELS[name], `${name} differs from the golden's`);
      return out;
    });
    made.set(name, p);
  }
  return p;
}

const opts = { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON };

test("golden mixtures: every row's model has a recorded hash", () => {
  assertEquals(rows.length, 6);
  for (const r of rows) assert(MODELS[r.model], r.model);
}, opts);

const paths = [
  { name: "kernels", backend: createCpuBackend({ kernels: "wasm" }) },
  ...(HAVE_NATIVE_CPU
    ? [{ name: "native kernels", backend: createCpuBackend({ kernels: "native" }) }]
    : []),
];
for (const { name, backend } of paths) {
  for (const row of rows) {
    test(
      `golden mixtures (${name}): ${row.model} "${row.prompt}" within ${BOUND}, greedy ${row.tokens.length}/${row.tokens.length}`,
      async () => {
        const model = await Model.load(await modelFile(row.model), {
          architectures: builtinArchitectures,
          backends: [backend],
        });
        try {
          const d = await teacherForcedMaxDiff(row, model);
          console.error(`golden max |dlogprob| ${name} ${row.model}: ${d.toExponential(3)}`);
          assert(d <= BOUND, `${row.model}: max diff ${d} > ${BOUND}`);
          assertEquals(await greedy(model, row.prompt_tokens, row.tokens.length), row.tokens);
        } finally {
          model.dispose();
        }
      },
      opts,
    );
  }
}

globalThis.addEventListener("unload", () => rmSync(dir, { recursive: true, force: true }));
