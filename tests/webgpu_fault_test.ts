/**
 * WebGPU faults end in typed errors, never a hang: the device destroyed between tokens and
 * during a forward pass (BACKEND_UNAVAILABLE from then on), and weights or a KV cache larger
 * than the device takes (OUT_OF_MEMORY before any byte is read). Each test opens its own
 * backend (its own device), so a destroyed device stays in its test.
 *
 * @module
 */
import { createCpuBackend } from "../src/backends/cpu/backend.ts";
import { createWebGpuBackend } from "../src/backends/webgpu/backend.ts";
import type { WeightTensor } from "../src/core/backend.ts";
import { DEVICE_CHUNK, generate } from "../src/core/generate.ts";
import { Model } from "../src/core/model.ts";
import { Session } from "../src/core/session.ts";
import { GGMLType } from "../src/gguf/ggml_types.ts";
import { builtinArchitectures } from "../src/model/mod.ts";
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { weightTensor } from "./conformance_util.ts";
import { goldenModelPath } from "./golden_util.ts";
import { test } from "./harness.ts";
import { HAVE_SHARED, NO_SHARED_REASON } from "./shared_data.ts";

const probe = await createWebGpuBackend({ software: true }).probe();
const unavailable = { ignore: !probe.available, reason: `WebGPU unavailable: ${probe.reason}` };
const withModel = HAVE_SHARED ? unavailable : { ignore: true, reason: NO_SHARED_REASON };
const cpu = createCpuBackend();

/** Rejects when `p` has not settled within `ms` (a hang). */
function settles<T>(p: Promise<T>, ms = 30_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, hang]).finally(() => clearTimeout(timer));
}

async function load() {
  const backend = createWebGpuBackend({ software: true });
  const model = await Model.load(goldenModelPath("stories260K.gguf"), {
    architectures: builtinArchitectures,
    backends: [backend, cpu],
  });
  return { backend, model, device: (await backend.device()).device };
}

/**
 * Destroys the device after the third generated token. `logprobs` keeps generate on the
 * per-token path, so the very next pass fails; without it plain greedy decoding runs in the
 * device loop, whose tokens of the current chunk were computed before the loss: the error comes
 * at the next chunk, at most DEVICE_CHUNK tokens later.
 */
async function destroyAfterThree(logprobs: boolean): Promise<number> {
  const { backend, model, device } = await load();
  const session = new Session(model);
  try {
    const it = generate(session, [1, 403, 407, 261, 378], {
      maxTokens: 40,
      sampling: { temperature: 0 },
      ignoreEos: true,
      ...(logprobs ? { logprobs: 1 } : {}),
    });
    let n = 0;
    const run = async () => {
      for (let r = await it.next(); !r.done; r = await it.next()) {
        if (r.value.token >= 0 && ++n === 3) device.destroy();
      }
    };
    await assertRejects(() => settles(run()), { code: "BACKEND_UNAVAILABLE" });
    // Every later call says the same, at once.
    await assertRejects(() => settles(session.eval([5], "last")), {
      code: "BACKEND_UNAVAILABLE",
    });
    return n;
  } finally {
    session.dispose();
    model.dispose();
    backend.dispose();
  }
}

test("webgpu fault: device destroyed mid-generation is BACKEND_UNAVAILABLE", async () => {
  assertEquals(await destroyAfterThree(true), 3);
  const n = await destroyAfterThree(false);
  assert(n >= 3 && n <= 3 + DEVICE_CHUNK, `the device loop failed after ${n} tokens`);
}, withModel);

test("webgpu fault: device destroyed during a forward pass never hangs", async () => {
  const { backend, model, device } = await load();
  const session = new Session(model);
  try {
    const pending = session.eval([1, 403, 407, 261, 378, 432, 383, 286], "all");
    device.destroy();
    // Either the pass finished before the loss reached it, or it fails with a typed error.
    const outcome = await settles(pending.then(() => "done", (e) => e.code ?? String(e)));
    assert(
      outcome === "done" || outcome === "BACKEND_UNAVAILABLE",
      `outcome ${outcome}`,
    );
    await assertRejects(() => settles(session.eval([5], "last")), {
      code: "BACKEND_UNAVAILABLE",
    });
  } finally {
    session.dispose();
    model.dispose();
    backend.dispose();
  }
}, withModel);

test(
  "webgpu fault: weights beyond the device's limits are OUT_OF_MEMORY before reading",
  async () => {
    const backend = createWebGpuBackend({ software: true });
    try {
      const huge: WeightTensor = {
        info: {
          name: "huge",
          dims: [65536, 65536],
          type: GGMLType.F32,
          offset: 0,
          nElements: 65536 * 65536,
          nBytes: 65536 * 65536 * 4,
        },
        read: () => {
          throw new Error("read() must not be called for a tensor that cannot fit");
        },
      };
      await assertRejects(() => settles(backend.createContext([huge])), {
        code: "OUT_OF_MEMORY",
      });
      // The backend still works afterwards.
      const ok = await backend.createContext([
        weightTensor("w", GGMLType.Q8_0, [64, 4], new Float32Array(256).fill(0.5)),
      ]);
      assert(ok.has("w"));
      // A KV cache beyond the device's binding limit is refused the same way.
      let err: unknown;
      try {
        ok.createKV({ layers: [0], capacity: 1 << 26, nHeadKV: 8, headDim: 128, valueDim: 128 });
      } catch (e) {
        err = e;
      }
      assertEquals((err as { code?: string } | undefined)?.code, "OUT_OF_MEMORY");
      ok.dispose();
    } finally {
      backend.dispose();
    }
  },
  unavailable,
);
