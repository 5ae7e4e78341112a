/**
 * Checks of the packed npm package's native CPU kernels as a user installs them, run like
 * node_pack_smoke.ts (copied by `deno task build:npm --test` into the temporary project where
 * `npm install ./rocmforge-*.tgz` ran; no `_test` suffix, the package name only resolves
 * there).
 *
 * ROCMFORGE_SMOKE_NATIVE=1 (the build shipped prebuilt/linux-x64/librocmforge_cpu.so): the
 * installed package holds the library, the CPU backend loads it under Node (kernels "native"
 * loads, "auto" prints no notice) and a model's logits on it equal the WebAssembly kernels'
 * bit for bit (Q4_0 and Q8_0, whose arithmetic both take from llama.cpp). =0 (no library in
 * the package): "auto" falls back to WebAssembly with its one notice. Either way a library
 * path that is not there means that one notice, and the model still runs.
 *
 * Environment: ROCMFORGE_SMOKE_NATIVE (required), ROCMFORGE_SHARED (the shared test data; the
 * model checks skip without it).
 *
 * @module
 */
import { equal, ok } from "node:assert/strict";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import process from "node:process";
import { test } from "node:test";

type Api = typeof import("../mod.ts");
type CpuOptions = NonNullable<Parameters<Api["createCpuBackend"]>[0]>;

const PKG = "rocmforge";
const rf: Api = await import(PKG);
const shipped = process.env.ROCMFORGE_SMOKE_NATIVE;
if (shipped !== "0" && shipped !== "1") {
  throw new Error(`ROCMFORGE_SMOKE_NATIVE must be 0 or 1 (got ${shipped})`);
}
const pkgRoot = dirname(createRequire(import.meta.url).resolve(`${PKG}/package.json`));
const libPath = join(pkgRoot, "prebuilt", "linux-x64", "librocmforge_cpu.so");
const shared = process.env.ROCMFORGE_SHARED ?? "";
const model = (type: string) => join(shared, "models", "synthetic", `tiny256-${type}.gguf`);
const noModels = shared !== "" && existsSync(model("Q8_0"))
  ? false
  : `tiny256 models not found (ROCMFORGE_SHARED=${shared})`;

/** Last-position logits of a 7-token prompt and two decode steps, and the notices printed. */
async function logits(path: string, opts: CpuOptions) {
  const notices: string[] = [];
  const cpu = rf.createCpuBackend({ threads: 2, ...opts, log: (l) => notices.push(l) });
  const m = await rf.Model.load(path, {
    architectures: rf.builtinArchitectures,
    backends: [cpu],
    contextLength: 64,
    log: () => {},
  });
  try {
    const s = new rf.Session(m);
    const out = [await s.eval([1, 5, 9, 13, 17, 21, 25], "last")];
    for (const t of [30, 31]) out.push(await s.eval([t], "last"));
    return { out, notices };
  } finally {
    m.dispose();
    cpu.dispose();
  }
}

test("package: the prebuilt native CPU library is in the package when the build made it", () => {
  equal(existsSync(libPath), shipped === "1", `${libPath} (ROCMFORGE_SMOKE_NATIVE=${shipped})`);
});

for (const type of ["Q4_0", "Q8_0"]) {
  test(`package: Node runs tiny256-${type} on the native CPU kernels, same logits as WebAssembly`, {
    skip: shipped !== "1" ? "the package has no native library" : noModels,
  }, async () => {
    const wasm = await logits(model(type), { kernels: "wasm" });
    const native = await logits(model(type), { kernels: "native" });
    const auto = await logits(model(type), { kernels: "auto" });
    equal(auto.notices.length, 0, `auto printed: ${auto.notices.join(" | ")}`);
    for (const r of [native, auto]) {
      for (let s = 0; s < wasm.out.length; s++) {
        for (let i = 0; i < wasm.out[s].length; i++) {
          ok(
            Object.is(wasm.out[s][i], r.out[s][i]),
            `step ${s} logit ${i}: ${wasm.out[s][i]} vs ${r.out[s][i]}`,
          );
        }
      }
    }
  });
}

test("package: without the native library, auto falls back to WebAssembly with one notice", {
  skip: noModels,
}, async () => {
  const runs = [await logits(model("Q8_0"), { nativeLibrary: "/nonexistent/librocmforge_cpu.so" })];
  if (shipped === "0") runs.push(await logits(model("Q8_0"), {}));
  for (const r of runs) {
    equal(r.notices.length, 1, r.notices.join(" | "));
    ok(r.notices[0].includes("using WebAssembly"), r.notices[0]);
    ok(r.out[0].length > 0 && r.out[0].every(Number.isFinite), "the model ran");
  }
});
