/**
 * llama.cpp's teacher-forced log-probabilities through a multi-sequence context (CPU): every
 * golden row of a model is evaluated in its own sequence at once, beside a sequence that
 * generates from another prompt (other positions), so each decode step is one row of a
 * shared forward pass, as in llama-server with several slots. Each row stays within the
 * issue's bounds of llama.cpp. Measured: the quantized models within 1.4e-6 (their int8
 * products do not depend on the row count), stories260K (F32) within 6e-3 (a batch's F32
 * products sum as tinyBLAS does, the goldens' single rows as vec_dot does).
 */
import { createCpuBackend } from "../src/backends/cpu/backend.ts";
import { createContext } from "../src/core/batch_context.ts";
import { generate } from "../src/core/generate.ts";
import { Model } from "../src/core/model.ts";
import { builtinArchitectures } from "../src/model/mod.ts";
import { assert } from "./assert.ts";
import { goldenModelPath, goldenRows, teacherForcedMaxDiff } from "./golden_util.ts";
import { test } from "./harness.ts";
import { HAVE_SHARED, NO_SHARED_REASON } from "./shared_data.ts";

const opts = { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON };
/** The bounds on |ours - llama.cpp| (golden_test.ts): 0.02 for F32/F16/Q8_0, else 0.05. */
const CASES: [file: string, model: string, tol: number][] = [
  ["stories260K.jsonl", "stories260K.gguf", 0.02],
  ["tiny256.jsonl", "tiny256-Q8_0.gguf", 0.02],
  ["tiny256.jsonl", "tiny256-Q4_K.gguf", 0.05],
  ["qwen2-tiny64.jsonl", "qwen2-tiny64-Q8_0.gguf", 0.02],
  ["llama-2-tiny-random.jsonl", "llama-2-tiny-random.gguf", 0.02],
];

const cpu = createCpuBackend();

for (const [file, name, tol] of CASES) {
  test(`golden batch: ${name} rows in shared passes within ${tol} of llama.cpp`, async () => {
    const rows = goldenRows(file).filter((r) => r.model === name);
    assert(rows.length > 0, `${file} has rows of ${name}`);
    const model = await Model.load(goldenModelPath(name), {
      architectures: builtinArchitectures,
      backends: [cpu],
    });
    const ctx = createContext(model, { sequences: rows.length + 1 });
    try {
      const other = (async () => {
        const it = generate(ctx.sequence(), [1, 2, 3, 4, 5, 6, 7], {
          maxTokens: 24,
          ignoreEos: true,
          sampling: { temperature: 0 },
        });
        for (let r = await it.next(); !r.done; r = await it.next());
      })();
      const worst = await Promise.all(
        rows.map((row) => teacherForcedMaxDiff(row, model, false, ctx.sequence())),
      );
      await other;
      const passes = ctx.stats.passes, per = ctx.stats.sequenceRows / passes;
      console.error(`golden batch ${name}: max |dlogprob| ${worst}, ${per.toFixed(2)} seq/pass`);
      assert(per > 1, `sequences shared passes (${per} per pass)`);
      worst.forEach((d, i) => assert(d <= tol, `${name} row ${i}: ${d} > ${tol}`));
    } finally {
      ctx.dispose();
      model.dispose();
    }
  }, opts);
}
