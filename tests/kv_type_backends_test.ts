/**
 * KV cache types on the accelerators: HIP and WebGPU keep an f16 cache only, so they decline
 * the attention of a model loaded with another kvType (it runs on the CPU, the per-op
 * fallback, with its one notice line) and their caches refuse such a spec; they never fall
 * back silently to f16. Needs no GPU: support.ts holds each backend's pure rule, and the
 * fallback runs through a stand-in accelerator that takes what the HIP rule takes.
 *
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeSyntheticModel } from "../scripts/make_synthetic_model.ts";
import { createCpuBackend } from "../src/backends/cpu/backend.ts";
import { hipSupportsOp } from "../src/backends/hip/support.ts";
import { webgpuSupportsOp } from "../src/backends/webgpu/support.ts";
import type { Backend } from "../src/core/backend.ts";
import { BackendError } from "../src/core/errors.ts";
import { Model } from "../src/core/model.ts";
import { describeModel } from "../src/core/model_load.ts";
import { Session } from "../src/core/session.ts";
import type { GGMLType } from "../src/gguf/ggml_types.ts";
import { type KVTypes, requireDefaultKV } from "../src/gguf/kv_type.ts";
import { openGGUF } from "../src/gguf/reader.ts";
import { builtinArchitectures } from "../src/model/mod.ts";
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { test } from "./harness.ts";
import { HAVE_SHARED, NO_SHARED_REASON, sharedPath } from "./shared_data.ts";

const opts = { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON };
const dir = mkdtempSync(join(tmpdir(), "rf-kv-backends-"));
let made: Promise<string> | undefined;
const model = () =>
  made ??= (async () => {
    const out = join(dir, "llama3-tiny-Q8_0.gguf");
    await makeSyntheticModel({
      arch: "llama3",
      shape: "tiny",
      type: "Q8_0",
      out,
      seed: 7,
      vocab: sharedPath("models", "stories260K.gguf"),
    });
    return out;
  })();

/** The ops each rule declines in the decode and prefill graphs of the model with `kv`. */
async function declined(kv: KVTypes | undefined) {
  const file = openGGUF(await model());
  try {
    const spec = describeModel(file, builtinArchitectures, undefined, kv);
    const type = (n: string) => spec.tensors.get(n)?.type as GGMLType | undefined;
    const out = { hip: new Set<string>(), webgpu: new Set<string>() };
    for (const g of [spec.graphs.graph(2, "all"), spec.graphs.graph(1, "last")]) {
      for (const n of g.nodes) {
        if (!hipSupportsOp(n, type)) out.hip.add(n.op);
        if (!webgpuSupportsOp(n, type)) out.webgpu.add(n.op);
      }
    }
    return { hip: [...out.hip], webgpu: [...out.webgpu] };
  } finally {
    file.source.close();
  }
}

test("kv types: HIP and WebGPU take f16 attention and decline every other cache type", async () => {
  assertEquals(await declined(undefined), { hip: [], webgpu: [] });
  for (const t of ["f32", "q8_0", "q4_0"] as const) {
    for (const kv of [{ k: t, v: t }, { k: t, v: "f16" as const }, { k: "f16" as const, v: t }]) {
      assertEquals(await declined(kv), { hip: ["attention"], webgpu: ["attention"] }, t);
    }
  }
}, opts);

test("kv types: a backend with an f16-only cache refuses another spec with a typed error", () => {
  requireDefaultKV(undefined, "hip");
  requireDefaultKV({ k: "f16", v: "f16" }, "hip");
  assertThrows(
    () => requireDefaultKV({ k: "q8_0", v: "f16" }, "hip"),
    (e: unknown) =>
      e instanceof BackendError && e.code === "BACKEND_UNSUPPORTED_OP" &&
      e.message.includes("q8_0/f16"),
  );
});

test("kv types: attention an accelerator declines runs on the CPU, with the notice", async () => {
  const cpu = createCpuBackend({ wasm: false });
  const lines: string[] = [];
  // A stand-in accelerator with HIP's rule that computes on the CPU (this machine has no GPU).
  const gpu: Backend = {
    apiVersion: 2,
    name: "fakegpu",
    probe: () =>
      Promise.resolve({
        available: true,
        devices: [{ id: 0, name: "fake", totalMemory: 1 << 30, freeMemory: 1 << 30 }],
      }),
    supportsOp: (n, t) => hipSupportsOp(n, t) && cpu.supportsOp(n, t),
    createContext: (tensors, o) => cpu.createContext(tensors, o),
    dispose() {},
  };
  const m = await Model.load(await model(), {
    architectures: builtinArchitectures,
    backends: [gpu, cpu],
    kvType: "q8_0",
    log: (l) => lines.push(l),
  });
  try {
    assert(lines.some((l) => /ops ran on cpu \(unsupported on device\)/.test(l)), lines.join("\n"));
    const kv = m.kvLayers();
    assertEquals([...kv.keys()].map((b) => b.name), ["cpu"]);
    const s = new Session(m);
    try {
      const logits = await s.eval([1, 20, 30], "last");
      assert(logits.every(Number.isFinite));
    } finally {
      s.dispose();
    }
  } finally {
    m.dispose();
  }
}, opts);

globalThis.addEventListener("unload", () => rmSync(dir, { recursive: true, force: true }));

test("kv types: loadModel takes kvType and rejects unknown types and keys", async () => {
  const { loadModel } = await import("../src/api.ts");
  const path = sharedPath("models", "stories260K.gguf");
  const m = await loadModel(path, { backend: "cpu", kvType: { k: "f32" }, log: () => {} });
  try {
    assertEquals(m.kvTypes, { k: "f32", v: "f16" });
  } finally {
    m.dispose();
  }
  for (const kvType of ["q9", { k: "q8_0", x: "f16" }, 3]) {
    let caught: unknown;
    try {
      // deno-lint-ignore no-explicit-any
      (await loadModel(path, { backend: "cpu", kvType: kvType as any })).dispose();
    } catch (e) {
      caught = e;
    }
    assert(
      caught instanceof Error && "code" in caught && caught.code === "INVALID_ARGUMENT",
      `${JSON.stringify(kvType)}: ${caught}`,
    );
  }
}, opts);
