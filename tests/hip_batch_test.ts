/**
 * Multi-sequence batches split between the HIP backend and the CPU (skipped without a device):
 * with layer 0 on the CPU and the rest on HIP, each backend runs its layers' batched nodes
 * (rope, attention, last row: both claim multiSequence), so no notice is logged; each
 * sequence's logits then match a one-sequence HIP session's within the HIP-vs-CPU tolerance
 * of hip_model_test.ts. tests/hip_multiseq_test.ts runs whole batches on HIP.
 *
 * @module
 */
import { createCpuBackend } from "../src/backends/cpu/backend.ts";
import { createHipBackend } from "../src/backends/hip/backend.ts";
import { createContext } from "../src/core/batch_context.ts";
import { Model } from "../src/core/model.ts";
import { Session } from "../src/core/session.ts";
import { builtinArchitectures } from "../src/model/mod.ts";
import { assert, assertEquals } from "./assert.ts";
import { test } from "./harness.ts";
import { HAVE_SHARED, NO_SHARED_REASON, sharedPath } from "./shared_data.ts";

const hip = createHipBackend();
const probe = await hip.probe();
const opts = !HAVE_SHARED
  ? { ignore: true, reason: NO_SHARED_REASON }
  : { ignore: !probe.available, reason: `HIP backend unavailable: ${probe.reason}` };

/** HIP keeps attention in f32 where the CPU rounds to f16 (hip_model_test.ts: 1e-2). */
const TOL = 1e-2;
const PROMPTS = [
  [1, 403, 407, 261, 378],
  [1, 317, 269, 274, 287, 263, 377, 267, 265, 282, 295, 433],
  [1, 403, 407],
];

function maxDiff(a: Float32Array, b: Float32Array): number {
  assertEquals(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test("hip batch: sequences sharing passes match one-sequence HIP sessions", async () => {
  // 4 of the 5 layers on HIP: the CPU runs layer 0's batched nodes, HIP the others'.
  const model = await Model.load(sharedPath("models", "stories260K.gguf"), {
    architectures: builtinArchitectures,
    backends: [hip, createCpuBackend()],
    gpuLayers: 4,
  });
  const lines: string[] = [];
  const ctx = createContext(model, { sequences: PROMPTS.length, log: (l) => lines.push(l) });
  try {
    assertEquals(lines, [], "no batched node leaves its backend");
    const seqs = PROMPTS.map(() => ctx.sequence());
    const prefill = await Promise.all(seqs.map((s, i) => s.eval(PROMPTS[i], "last")));
    const next = await Promise.all(seqs.map((s) => s.eval([432], "last")));
    for (let i = 0; i < PROMPTS.length; i++) {
      const one = new Session(model);
      const want = await one.eval(PROMPTS[i]);
      const wantNext = await one.eval([432]);
      one.dispose();
      const d = Math.max(maxDiff(prefill[i], want), maxDiff(next[i], wantNext));
      console.error(`hip batch prompt ${i}: max |dlogit| ${d.toExponential(3)}`);
      assert(d < TOL, `prompt ${i}: ${d} >= ${TOL}`);
    }
  } finally {
    ctx.dispose();
    model.dispose();
  }
}, opts);
