/**
 * Whole models on the HIP backend (skipped without a device): teacher-forced log-probabilities
 * against the llama.cpp goldens for every shared model and quantization type (types the
 * kernels lack fall back to the CPU op by op, so mixed HIP/CPU plans run too), and prefill +
 * decode logits against the CPU backend.
 *
 * @module
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeSyntheticModel } from "../scripts/make_synthetic_model.ts";
import { createCpuBackend } from "../src/backends/cpu/backend.ts";
import { createHipBackend } from "../src/backends/hip/backend.ts";
import { Model } from "../src/core/model.ts";
import { builtinArchitectures } from "../src/model/mod.ts";
import { Session } from "../src/core/session.ts";
import { assert } from "./assert.ts";
import {
  goldenModelPath as modelPath,
  goldenRows as rows,
  teacherForcedMaxDiff,
} from "./golden_util.ts";
import { normalizedError } from "./conformance_util.ts";
import { test } from "./harness.ts";
import { HAVE_SHARED, NO_SHARED_REASON, sharedPath } from "./shared_data.ts";

const hip = createHipBackend();
const probe = await hip.probe();
const cpu = createCpuBackend();
const opts = !HAVE_SHARED
  ? { ignore: true, reason: NO_SHARED_REASON }
  : { ignore: !probe.available, reason: `HIP backend unavailable: ${probe.reason}` };

/**
 * Tolerances on |logprob - llama.cpp|. The GPU rounds activations as llama.cpp's CPU does, but
 * accumulates attention in f32 where llama.cpp's CPU rounds to f16, so it lands up to ~0.012
 * further from the goldens than the CPU backend on the F32 model (measured on an H200).
 */
const TOL: Record<string, number> = { F32: 0.02, F16: 0.02, BF16: 0.03, Q2_K: 0.1, Q3_K: 0.1 };
const modelType = (m: string) =>
  m.match(/-([A-Z0-9_]+)\.gguf$/)?.[1] ?? (m.startsWith("stories") ? "F32" : "F16");

const golden = [
  ...rows("stories260K.jsonl").slice(0, 2),
  ...rows("tiny256.jsonl"),
  ...rows("qwen2-tiny64.jsonl"),
  ...rows("llama-2-tiny-random.jsonl"),
];
const seen = new Set<string>();
for (const row of golden) {
  if (seen.has(row.model)) continue;
  seen.add(row.model);
  const tol = TOL[modelType(row.model)] ?? 0.06;
  const present = !HAVE_SHARED || existsSync(modelPath(row.model));
  const rowOpts = present ? opts : { ignore: true, reason: `${modelPath(row.model)} is absent` };
  test(`hip model: ${row.model} teacher-forced log-probabilities within ${tol}`, async () => {
    const model = await Model.load(modelPath(row.model), {
      architectures: builtinArchitectures,
      backends: [hip, cpu],
    });
    try {
      const worst = await teacherForcedMaxDiff(row, model, true);
      console.error(`hip golden max |dlogprob| ${row.model}: ${worst.toExponential(3)}`);
      assert(worst <= tol, `${row.model}: max diff ${worst} > ${tol}`);
    } finally {
      model.dispose();
    }
  }, rowOpts);
}

test("hip model: prefill then decode logits match the CPU backend", async () => {
  // The CPU reference rounds attention like llama.cpp's CPU (f16 accumulator), the GPU keeps
  // f32 (about 5e-3 apart on the F32 model, measured on an H200); random-weight quantized
  // models amplify such differences through the int8 rounding of the next layer's input.
  const models: [string, number][] = [
    ["stories260K.gguf", 1e-2],
    ["tiny256-Q4_K.gguf", 5e-2],
    ["qwen2-tiny64-Q8_0.gguf", 5e-2],
  ];
  for (const [name, tol] of models) {
    const onHip = await Model.load(modelPath(name), {
      architectures: builtinArchitectures,
      backends: [hip, cpu],
    });
    const onCpu = await Model.load(modelPath(name), {
      architectures: builtinArchitectures,
      backends: [cpu],
    });
    const a = new Session(onHip);
    const b = new Session(onCpu);
    try {
      const prompt = [1, 20, 33, 47, 5, 81, 9, 100, 3];
      let worst = normalizedError(await a.eval(prompt, "all"), await b.eval(prompt, "all"));
      for (const tok of [7, 8, 9, 10, 11]) {
        worst = Math.max(worst, normalizedError(await a.eval([tok]), await b.eval([tok])));
      }
      console.error(`hip vs cpu logits ${name}: ${worst.toExponential(3)}`);
      assert(worst <= tol, `${name}: normalized logits error ${worst} > ${tol}`);
    } finally {
      a.dispose();
      b.dispose();
      onHip.dispose();
      onCpu.dispose();
    }
  }
}, opts);

test("hip model: a batch's last-row logits match its all-rows evaluation and the CPU", async () => {
  // "last" cuts the last layer to the output row before its FFN (one-row products there)
  for (const name of ["stories260K.gguf", "tiny256-Q4_K.gguf"]) {
    const onHip = await Model.load(modelPath(name), {
      architectures: builtinArchitectures,
      backends: [hip, cpu],
    });
    const onCpu = await Model.load(modelPath(name), {
      architectures: builtinArchitectures,
      backends: [cpu],
    });
    try {
      const prompt = [1, 20, 33, 47, 5, 81, 9, 100, 3];
      const vocab = onHip.config.vocabSize;
      const last = await new Session(onHip).eval(prompt, "last");
      const all = await new Session(onHip).eval(prompt, "all");
      const cpuLast = await new Session(onCpu).eval(prompt, "last");
      const e1 = normalizedError(last, all.subarray((prompt.length - 1) * vocab));
      const e2 = normalizedError(last, cpuLast);
      console.error(
        `hip last vs all ${name}: ${e1.toExponential(3)}, vs cpu ${e2.toExponential(3)}`,
      );
      assert(e1 <= 1e-2 && e2 <= 5e-2, `${name}: ${e1} / ${e2}`);
    } finally {
      onHip.dispose();
      onCpu.dispose();
    }
  }
}, opts);

test(
  "hip model: every built-in architecture's random model matches the CPU (mixed plans)",
  async () => {
    // llama3, qwen3, phi3, gemma2/gemma3, mixtral, qwen3moe and gpt-oss (Q8_0 experts) run
    // entirely on HIP (per-head norms, rope factors, slices, scale, sliding-window, soft-capped
    // and sink attention, MoE; the random models' window of 8 masks the prompt's early
    // positions; more MoE models in tests/hip_moe_model_test.ts). Which ops each architecture
    // declines: tests/hip_arch_support_test.ts.
    const dir = mkdtempSync(join(tmpdir(), "rf-hip-arch-"));
    try {
      const archs = [
        "llama3",
        "qwen3",
        "gemma2",
        "gemma3",
        "mixtral",
        "qwen3moe",
        "phi3",
        "gpt-oss",
      ];
      for (const arch of archs) {
        const out = join(dir, `${arch}.gguf`);
        await makeSyntheticModel({
          arch,
          shape: "tiny",
          type: "Q8_0",
          out,
          seed: 7,
          vocab: arch === "phi3"
            ? sharedPath("models", "llama.cpp-vocab", "ggml-vocab-phi-3.gguf")
            : sharedPath("models", "stories260K.gguf"),
        });
        const onHip = await Model.load(out, {
          architectures: builtinArchitectures,
          backends: [hip, cpu],
        });
        const onCpu = await Model.load(out, {
          architectures: builtinArchitectures,
          backends: [cpu],
        });
        const a = new Session(onHip), b = new Session(onCpu);
        try {
          const prompt = [1, 20, 33, 47, 5, 81, 9, 100, 3];
          let worst = normalizedError(await a.eval(prompt, "all"), await b.eval(prompt, "all"));
          for (const tok of [7, 8, 9, 10, 11]) {
            worst = Math.max(worst, normalizedError(await a.eval([tok]), await b.eval([tok])));
          }
          console.error(
            `hip vs cpu logits ${arch}: ${worst.toExponential(3)} (${onHip.placement})`,
          );
          assert(worst <= 5e-2, `${arch}: normalized logits error ${worst} > 5e-2`);
        } finally {
          a.dispose();
          b.dispose();
          onHip.dispose();
          onCpu.dispose();
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
  opts,
);

test(
  "hip model: a BERT encoder's hidden rows match the CPU (non-causal attention on HIP)",
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "rf-hip-bert-"));
    try {
      const out = join(dir, "bert.gguf");
      await makeSyntheticModel({
        arch: "bert",
        shape: "tiny",
        type: "F32",
        out,
        seed: 7,
        vocab: sharedPath("models", "llama.cpp-vocab", "ggml-vocab-bert-bge.gguf"),
      });
      const onHip = await Model.load(out, {
        architectures: builtinArchitectures,
        backends: [hip, cpu],
      });
      const onCpu = await Model.load(out, { architectures: builtinArchitectures, backends: [cpu] });
      try {
        assert(onHip.placement.includes("hip"), onHip.placement);
        let worst = 0;
        // Each input is one non-causal pass from position 0.
        for (const input of [[101, 2023, 2003, 1037, 3231, 102], [101, 7592, 102], [101, 2000]]) {
          const a = new Session(onHip), b = new Session(onCpu);
          try {
            worst = Math.max(
              worst,
              normalizedError(await a.eval(input, "hidden"), await b.eval(input, "hidden")),
            );
          } finally {
            a.dispose();
            b.dispose();
          }
        }
        console.error(
          `hip vs cpu hidden rows bert: ${worst.toExponential(3)} (${onHip.placement})`,
        );
        assert(worst <= 1e-2, `bert: normalized hidden-row error ${worst} > 1e-2`);
      } finally {
        onHip.dispose();
        onCpu.dispose();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
  opts,
);
