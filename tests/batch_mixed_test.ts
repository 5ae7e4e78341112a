/**
 * Multi-sequence batches on a backend without `multiSequence` (as HIP is today), played by a
 * second CPU backend under another name that holds every layer: its products and norms run
 * over all rows of a pass while rope, attention and the last-row pick move to the CPU, with
 * the notice, and each sequence's logits still match a one-sequence session's. The server
 * does not batch on such a backend: its slots take turns, with a notice line.
 */
import { createCpuBackend } from "../src/backends/cpu/backend.ts";
import type { Backend } from "../src/core/backend.ts";
import { createContext, movedAttention } from "../src/core/batch_context.ts";
import { BackendError } from "../src/core/errors.ts";
import { Model } from "../src/core/model.ts";
import { Session } from "../src/core/session.ts";
import { builtinArchitectures } from "../src/model/mod.ts";
import { Engine } from "../src/server/engine.ts";
import { assert, assertEquals } from "./assert.ts";
import { test } from "./harness.ts";
import { HAVE_SHARED, NO_SHARED_REASON, sharedPath } from "./shared_data.ts";

const opts = { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON };
/** As session_test.ts: a row's logits batched vs alone. */
const BATCH_TOL = 5e-3;
const PROMPTS = [[1, 403, 407, 261, 378], [1, 317, 269, 274, 287, 263, 377], [1, 403]];

/** stories260K with `gpuLayers` of its 5 layers on "nobatch" (default: all, and the output). */
function load(gpuLayers?: number): Promise<Model> {
  const device: Backend = {
    ...createCpuBackend(),
    name: "nobatch",
    priority: 10,
    multiSequence: false,
  };
  return Model.load(sharedPath("models", "stories260K.gguf"), {
    architectures: builtinArchitectures,
    backends: [device, createCpuBackend()],
    ...(gpuLayers === undefined ? {} : { gpuLayers }),
  });
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  assertEquals(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test("batch mixed: batched nodes leave a backend without multiSequence", async () => {
  const model = await load(4);
  try {
    assert(model.placement.includes("nobatch"), model.placement);
    const layers = 4;
    assertEquals([...movedAttention(model)].map(([b, n]) => [b.name, n]), [["nobatch", layers]]);
    const lines: string[] = [];
    const ctx = createContext(model, { sequences: PROMPTS.length, log: (l) => lines.push(l) });
    assert(lines.some((l) => l.includes(`attention of ${layers} layers off nobatch`)), lines[0]);
    const seqs = PROMPTS.map(() => ctx.sequence());
    const first = await Promise.all(seqs.map((s, i) => s.eval(PROMPTS[i])));
    const next = await Promise.all(seqs.map((s) => s.eval([432])));
    for (let i = 0; i < PROMPTS.length; i++) {
      const one = new Session(model);
      const d = Math.max(
        maxDiff(first[i], await one.eval(PROMPTS[i])),
        maxDiff(next[i], await one.eval([432])),
      );
      one.dispose();
      assert(d < BATCH_TOL, `prompt ${i}: ${d}`);
    }
    ctx.dispose();
    // The server keeps its slots as plain sessions there.
    await turnTaking(model, "nobatch runs no multi-sequence batches");
  } finally {
    model.dispose();
  }
}, opts);

test("batch mixed: a device that runs every op but no batched node refuses contexts", async () => {
  const model = await load();
  try {
    assertEquals(model.contexts.size, 1);
    let caught: unknown;
    try {
      createContext(model, { sequences: 2 });
    } catch (e) {
      caught = e;
    }
    assert(caught instanceof BackendError && caught.code === "BACKEND_UNSUPPORTED_OP", `${caught}`);
    await turnTaking(model, "runs no multi-sequence batches");
  } finally {
    model.dispose();
  }
}, opts);

/** An engine over `model` keeps plain sessions, saying why in a line containing `why`. */
async function turnTaking(model: Model, why: string): Promise<void> {
  const logged: string[] = [];
  const engine = new Engine({ parallel: 2, log: (l) => logged.push(l) });
  engine.attach(model);
  assertEquals(engine.batchContext, undefined);
  assert(logged.some((l) => l.includes("slots take turns") && l.includes(why)), logged[0]);
  await engine.shutdown({ graceMs: 0, disposeModel: false });
}
