/**
 * A failed kernel launch inside a product must reach the caller as a typed BackendError
 * (issue 11, bug 6.2: the activation rounding's launch error used to be cleared, the product
 * skipped and rf_exec reported success). The native test hook rf_test_fail_launch makes the
 * activation-rounding launch fail as a real one does (an empty grid), for the decode path
 * (matvec, T <= 8) and the prefill path (tiled / tensor-core product, T > 8). Skipped
 * without a library and a device.
 *
 * @module
 */
import { RfFault, SLOT_BYTES } from "../src/backends/hip/ffi/symbols.ts";
import { type HipNative, openHipNative } from "../src/backends/hip/native.ts";
import { compileSegment } from "../src/backends/hip/program.ts";
import { packInputs, unpackOutputs } from "../src/backends/hip/program_io.ts";
import { BackendError } from "../src/core/errors.ts";
import { GraphBuilder } from "../src/core/graph.ts";
import { GGMLType } from "../src/gguf/ggml_types.ts";
import { quantize } from "../src/gguf/quants/mod.ts";
import { assert, assertEquals } from "./assert.ts";
import { test } from "./harness.ts";
import { randomFloats } from "./random_data.ts";

async function device(): Promise<HipNative | string> {
  try {
    const n = await openHipNative();
    return n.init() > 0 ? n : "no GPU device";
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

const found = await device();
const opts = {
  ignore: typeof found === "string",
  reason: `HIP library or device unavailable: ${typeof found === "string" ? found : ""}`,
};

const K = 256, N = 64;

/** Runs y = x . W^T for T rows of a quantized W; returns y. */
function product(n: HipNative, type: GGMLType, T: number, seed: number): Float32Array {
  const w = quantize(type, randomFloats(K * N, seed, 1));
  const g = new GraphBuilder(T, 1);
  const x = g.value(T, K, "x");
  const y = g.push({ op: "matmul", layer: 0, out: g.value(T, N, "y"), x, weight: "w" });
  const graph = g.build(y);
  const ctx = n.contextCreate(0);
  const arena = n.arenaCreate(ctx, w.byteLength + SLOT_BYTES);
  try {
    const off = n.arenaAlloc(arena, w.byteLength);
    n.arenaUpload(arena, off, w);
    const p = compileSegment(
      graph,
      [0],
      [y],
      () => ({ slot: off / SLOT_BYTES, type, dims: [K, N] }),
      () => 0,
    );
    const hostIn = packInputs(
      p,
      graph,
      new Int32Array(0),
      new Map([[x, randomFloats(T * K, seed + 1, 2)]]),
    );
    const hostOut = new Uint8Array(p.outBytes);
    n.exec(ctx, arena, 0, p.words, hostIn, hostOut, p.scratchBytes, 0);
    return unpackOutputs(p, hostOut).get(y)!;
  } finally {
    n.arenaDestroy(arena);
    n.contextDestroy(ctx);
  }
}

for (const T of [1, 16]) {
  for (const type of [GGMLType.Q8_0, GGMLType.Q4_K]) {
    test(`a failed activation-rounding launch is a BackendError (type ${type}, T=${T})`, () => {
      const n = found as HipNative;
      const good = product(n, type, T, 3);
      n.testFailLaunch(RfFault.ACT_QUANT, 1);
      try {
        let err: unknown;
        try {
          product(n, type, T, 3);
        } catch (e) {
          err = e;
        }
        assert(err instanceof BackendError, `expected a BackendError, got ${err}`);
        assertEquals(err.code, "BACKEND_CALL_FAILED");
        assert(/matmul/.test(err.message), err.message);
        // An empty grid: cudaErrorInvalidValue on CUDA 13 (H200), hipErrorInvalidConfiguration on HIP.
        const gpu = String(err.facts.gpuError);
        assert(/Invalid(Value|Configuration)/.test(gpu), gpu);
      } finally {
        n.testFailLaunch(RfFault.NONE, 0);
      }
      // The device still works and computes the same product afterwards.
      assertEquals(product(n, type, T, 3), good);
    }, opts);
  }
}
