/**
 * KV cache types (`kvType`, llama.cpp's -ctk/-ctv) against llama.cpp run with the same cache
 * types (tests/golden/kv-types.jsonl, made by scripts/llamacpp_ref_kv.mjs: see
 * tests/golden/README.md), teacher-forced, on the WebAssembly kernels and the TypeScript path,
 * for Llama 3 with every type pair and for Gemma 3 (sliding windows), gpt-oss (sinks) and
 * Qwen3 (q/k norms) with q8_0;
 * and a check that the type is not ignored: the f16 cache misses the q8_0 goldens by far more
 * than the q8_0 cache does.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeSyntheticModel } from "../scripts/make_synthetic_model.ts";
import { createCpuBackend } from "../src/backends/cpu/backend.ts";
import { Model } from "../src/core/model.ts";
import { parseKVTypes } from "../src/gguf/kv_type.ts";
import { builtinArchitectures } from "../src/model/mod.ts";
import { readTextFile } from "../src/runtime/host.ts";
import { sha256Hex } from "./_hash.ts";
import { assert, assertEquals } from "./assert.ts";
import { type GoldenRow, greedyTokens, teacherForcedMaxDiff } from "./golden_util.ts";
import { test } from "./harness.ts";
import { HAVE_SHARED, NO_SHARED_REASON, REPO_ROOT, sharedPath } from "./shared_data.ts";

interface KVRow extends GoldenRow {
  kv_type_k: string;
  kv_type_v: string;
}

const rows: KVRow[] = readTextFile(join(REPO_ROOT, "tests", "golden", "kv-types.jsonl"))
  .trim().split("\n").map((l) => JSON.parse(l));
/** SHA-256 of each generated model, from tests/golden/README.md. */
const SHA = new Map(
  [
    ...readTextFile(join(REPO_ROOT, "tests", "golden", "README.md"))
      .matchAll(/^\| ([a-z0-9-]+-tiny-F32\.gguf)\s+\| ([0-9a-f]{64}) \|$/gm),
  ].map((m) => [m[1], m[2]]),
);

/**
 * Bound on max |dlogprob| over every top-8 entry: every cache type runs llama.cpp's
 * flash-attention steps for it (with the Hadamard rotations of the quantized ones), so what is
 * left is the float32 rounding of the rest of the model, as in the other golden suites.
 */
const BOUND = 2e-5; // measured: at most 1.3e-6 (q8_0, q4_0), 7.6e-7 (f16, f32), 2.7e-6 stories260K

const dir = mkdtempSync(join(tmpdir(), "rf-golden-kv-"));
const made = new Map<string, Promise<string>>();
/** The shared stories260K, or a random-weight model regenerated as tests/golden/README.md says. */
function modelFile(name: string): Promise<string> {
  if (name === "stories260K.gguf") return Promise.resolve(sharedPath("models", name));
  let p = made.get(name);
  if (!p) {
    const out = join(dir, name);
    p = makeSyntheticModel({
      arch: name.replace(/-tiny-F32\.gguf$/, ""),
      shape: "tiny",
      type: "F32",
      out,
      seed: 7,
      vocab: sharedPath("models", "stories260K.gguf"),
    }).then(() => {
      assertEquals(
        sha256Hex(readFileSync(out)),
        SHA.get(name),
        `${name} differs from the golden's`,
      );
      return out;
    });
    made.set(name, p);
  }
  return p;
}

const opts = { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON };
const kvOf = (r: KVRow) => parseKVTypes({ k: r.kv_type_k, v: r.kv_type_v });

const paths = [
  { name: "kernels", backend: createCpuBackend({ kernels: "wasm" }) },
  { name: "TypeScript", backend: createCpuBackend({ wasm: false }) },
];
for (const { name, backend } of paths) {
  for (const row of rows) {
    const kv = kvOf(row);
    test(
      `golden kv (${name}): ${row.model} K ${kv.k} V ${kv.v} "${row.prompt}" ` +
        `within ${BOUND}, greedy`,
      async () => {
        const model = await Model.load(await modelFile(row.model), {
          architectures: builtinArchitectures,
          backends: [backend],
          kvType: kv,
        });
        try {
          assertEquals(model.kvTypes, kv);
          const d = await teacherForcedMaxDiff(row, model);
          console.error(`golden kv max |dlogprob| ${name} ${row.model} ${kv.k}/${kv.v}: ${d}`);
          assert(d <= BOUND, `${row.model} ${kv.k}/${kv.v}: max diff ${d} > ${BOUND}`);
          assertEquals(
            await greedyTokens(model, row.prompt_tokens, row.tokens.length),
            row.tokens,
          );
        } finally {
          model.dispose();
        }
      },
      opts,
    );
  }
}

test("golden kv: an f16 cache misses the quantized goldens (the type is not ignored)", async () => {
  const model = await Model.load(await modelFile("llama3-tiny-F32.gguf"), {
    architectures: builtinArchitectures,
    backends: [createCpuBackend({ wasm: false })],
  });
  try {
    const llama3 = rows.filter((r) => r.model === "llama3-tiny-F32.gguf");
    for (const row of llama3.filter((r) => r.kv_type_k !== "F16" || r.kv_type_v !== "F16")) {
      if (row.kv_type_k === "F32") continue; // llama.cpp casts an F32 cache to F16
      const d = await teacherForcedMaxDiff(row, model);
      assert(d > 20 * BOUND, `${row.kv_type_k}/${row.kv_type_v}: f16 is within ${d}`);
    }
  } finally {
    model.dispose();
  }
}, opts);

globalThis.addEventListener("unload", () => rmSync(dir, { recursive: true, force: true }));
