/**
 * Whole models on the WebGPU backend (a software adapter such as Mesa's llvmpipe counts, so
 * this runs in CI on CPU machines; skipped where the runtime has no WebGPU): stories260K's
 * greedy continuation equals llama.cpp's, teacher-forced log-probabilities against the
 * goldens for stories260K and the tiny256 types the kernels read, prefill + decode logits
 * against the CPU backend, and a plan mixing WebGPU and CPU ops.
 *
 * @module
 */
import { generate } from "../src/core/generate.ts";
import { Model } from "../src/core/model.ts";
import { Session } from "../src/core/session.ts";
import { builtinArchitectures } from "../src/model/mod.ts";
import { assert, assertEquals } from "./assert.ts";
import { normalizedError } from "./conformance_util.ts";
import {
  goldenModelPath as modelPath,
  goldenRows as rows,
  teacherForcedMaxDiff,
} from "./golden_util.ts";
import { test } from "./harness.ts";
import { cpu, opts, webgpu } from "./webgpu_setup.ts";

const load = (name: string, backends = [webgpu, cpu]) =>
  Model.load(modelPath(name), { architectures: builtinArchitectures, backends });

test("webgpu model: stories260K greedy continuation equals llama.cpp", async () => {
  const model = await load("stories260K.gguf");
  try {
    assert(model.placement.startsWith("webgpu:"), `placement ${model.placement}`);
    for (const row of rows("stories260K.jsonl").slice(0, 2)) {
      const session = new Session(model);
      const it = generate(session, row.prompt_tokens, {
        maxTokens: row.tokens.length,
        sampling: { temperature: 0 },
        ignoreEos: true,
      });
      const got: number[] = [];
      for (let r = await it.next(); !r.done; r = await it.next()) {
        if (r.value.token >= 0) got.push(r.value.token);
      }
      assertEquals(got, row.tokens);
      session.dispose();
    }
  } finally {
    model.dispose();
  }
}, opts);

/**
 * Tolerances on |logprob - llama.cpp|, as the HIP model tests: activations round as on
 * llama.cpp's CPU, attention accumulates in f32 where llama.cpp's CPU rounds to f16.
 */
const TOL: Record<string, number> = { F32: 0.02, F16: 0.02 };
const GOLDEN_MODELS = [
  "stories260K.gguf",
  "tiny256-F16.gguf",
  "tiny256-Q4_0.gguf",
  "tiny256-Q4_1.gguf",
  "tiny256-Q5_0.gguf",
  "tiny256-Q5_1.gguf",
  "tiny256-Q8_0.gguf",
  "tiny256-Q4_K.gguf",
  "tiny256-Q5_K.gguf",
  "tiny256-Q6_K.gguf",
];
for (const name of GOLDEN_MODELS) {
  const type = name.match(/-([A-Z0-9_]+)\.gguf$/)?.[1] ?? "F32";
  const tol = TOL[type] ?? 0.06;
  test(`webgpu model: ${name} teacher-forced log-probabilities within ${tol}`, async () => {
    const row = [...rows("stories260K.jsonl"), ...rows("tiny256.jsonl")].find((r) =>
      r.model === name
    );
    assert(row, `no golden row for ${name}`);
    const model = await load(name);
    try {
      const worst = await teacherForcedMaxDiff(row, model, true);
      console.error(`webgpu golden max |dlogprob| ${name}: ${worst.toExponential(3)}`);
      assert(worst <= tol, `${name}: max diff ${worst} > ${tol}`);
    } finally {
      model.dispose();
    }
  }, opts);
}

test("webgpu model: prefill then decode logits match the CPU backend", async () => {
  // As the HIP test: f32 attention accumulation against the CPU's f16 one, amplified by the
  // int8 rounding of the next layer's input in random-weight quantized models.
  const models: [string, number][] = [
    ["stories260K.gguf", 1e-2],
    ["tiny256-Q4_K.gguf", 5e-2],
    // Block offsets (Q8_1 sums) in the decode products and the fused FFN.
    ["tiny256-Q4_1.gguf", 5e-2],
    ["qwen2-tiny64-Q8_0.gguf", 5e-2],
  ];
  for (const [name, tol] of models) {
    const onGpu = await load(name);
    const onCpu = await load(name, [cpu]);
    const a = new Session(onGpu);
    const b = new Session(onCpu);
    try {
      const prompt = [1, 20, 33, 47, 5, 81, 9, 100, 3];
      let worst = normalizedError(await a.eval(prompt, "all"), await b.eval(prompt, "all"));
      for (const tok of [7, 8, 9, 10, 11]) {
        worst = Math.max(worst, normalizedError(await a.eval([tok]), await b.eval([tok])));
      }
      console.error(`webgpu vs cpu logits ${name}: ${worst.toExponential(3)}`);
      assert(worst <= tol, `${name}: normalized logits error ${worst} > ${tol}`);
    } finally {
      a.dispose();
      b.dispose();
      onGpu.dispose();
      onCpu.dispose();
    }
  }
}, opts);

test("webgpu model: types without a kernel run their ops on the CPU (mixed plan)", async () => {
  // BF16 products have no WebGPU activation kernel: they fall back op by op.
  const name = "tiny256-BF16.gguf";
  const row = rows("tiny256.jsonl").find((r) => r.model === name);
  assert(row, `no golden row for ${name}`);
  const model = await load(name);
  try {
    assert(/webgpu/.test(model.placement), `placement ${model.placement}`);
    assert(/ran on cpu/.test(model.placement), `placement ${model.placement}`);
    const worst = await teacherForcedMaxDiff(row, model, true);
    console.error(`webgpu mixed plan ${name}: ${worst.toExponential(3)} (${model.placement})`);
    assert(worst <= 0.03, `${name}: max diff ${worst}`);
  } finally {
    model.dispose();
  }
}, opts);
