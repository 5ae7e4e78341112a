/**
 * The HIP backend without a usable library: probe() reports available:false with the reason
 * (never throws), and the library lookup order is env ROCMFORGE_HIP_LIB, then
 * build/native/<target>/librocmforge_hip.so.
 *
 * @module
 */
import { createHipBackend } from "../src/backends/hip/backend.ts";
import { HipNative, libraryCandidates } from "../src/backends/hip/native.ts";
import { BackendError } from "../src/core/errors.ts";
import { GGMLType } from "../src/gguf/ggml_types.ts";
import { assert, assertEquals, assertMatch, assertRejects, assertStrictEquals } from "./assert.ts";
import { test } from "./harness.ts";
import { REPO_ROOT } from "./shared_data.ts";
import { join } from "./_path.ts";

test("probe with a missing library reports available:false and the path", async () => {
  const b = createHipBackend({ libraryPath: "/nonexistent/dir/librocmforge_hip.so" });
  const p = await b.probe();
  assertStrictEquals(p.available, false);
  assertEquals(p.devices, []);
  assertMatch(p.reason ?? "", /not found.*\/nonexistent\/dir\/librocmforge_hip\.so/);
});

test("probe with a file that is not a shared library reports the load failure", async () => {
  const b = createHipBackend({ libraryPath: join(REPO_ROOT, "package.json") });
  const p = await b.probe();
  assertStrictEquals(p.available, false);
  assertMatch(p.reason ?? "", /cannot load .*package\.json/);
});

test("opening a bad library is a typed BACKEND_UNAVAILABLE error", async () => {
  await assertRejects(() => HipNative.open("/nonexistent.so"), BackendError);
  await assertRejects(
    () => HipNative.open(join(REPO_ROOT, "package.json")),
    (err: unknown) => err instanceof BackendError && err.code === "BACKEND_UNAVAILABLE",
  );
});

test("library candidates: build/native/amd then build/native/cuda under the root", () => {
  const c = libraryCandidates("/proj");
  if (c.length === 1) {
    assert(c[0].length > 0); // ROCMFORGE_HIP_LIB is set: it alone is searched
  } else {
    assertEquals(c, [
      "/proj/build/native/amd/librocmforge_hip.so",
      "/proj/build/native/cuda/librocmforge_hip.so",
    ]);
  }
});

test("supportsOp falls back for weight types the kernels lack", () => {
  const b = createHipBackend({ libraryPath: "/nonexistent.so" });
  const mm = { op: "matmul" as const, layer: 0, out: 1, x: 0, weight: "w" };
  assert(b.supportsOp(mm, () => GGMLType.Q4_K));
  assert(b.supportsOp(mm, () => GGMLType.BF16));
  for (const t of [GGMLType.IQ4_XS, GGMLType.IQ4_NL, GGMLType.MXFP4, GGMLType.Q3_K]) {
    assert(b.supportsOp(mm, () => t), `type ${t}`);
  }
  assert(!b.supportsOp(mm, () => GGMLType.Q2_K));
  assert(!b.supportsOp(mm, () => GGMLType.IQ2_XXS));
  assert(!b.supportsOp(mm, () => undefined));
  const norm = { op: "rms_norm" as const, layer: 0, out: 1, x: 0, weight: "n", eps: 1e-5 };
  assert(b.supportsOp(norm, () => GGMLType.F32));
  assert(!b.supportsOp(norm, () => GGMLType.Q8_0));
  const att = {
    op: "attention" as const,
    layer: 0,
    out: 3,
    q: 0,
    k: 1,
    v: 2,
    nHead: 8,
    nHeadKV: 2,
    headDim: 512,
    valueDim: 512,
    scale: 1,
  };
  assert(!b.supportsOp(att, () => undefined)); // head dim above 256
  assert(b.supportsOp({ ...att, headDim: 128, valueDim: 128 }, () => undefined));
});

test("opening a context without the library fails with a typed error", async () => {
  const b = createHipBackend({ libraryPath: "/nonexistent.so" });
  await assertRejects(
    () => b.createContext([]),
    (e: unknown) => e instanceof BackendError && e.code === "BACKEND_UNAVAILABLE",
  );
});
