/**
 * The WebAssembly attention kernel against the TypeScript reference (ops/attention.ts) on
 * random data: grouped heads, odd head sizes, a prefill followed by decode steps, 1 and 2
 * threads. Both round K, V, the query and the accumulator to half precision; they differ
 * only in float summation order, so outputs agree to a few half-precision ulps.
 *
 * @module
 */
import { test } from "../../../../tests/harness.ts";
import { assert, assertThrows } from "../../../../tests/assert.ts";
import { attention } from "../ops/attention.ts";
import { f16Layer } from "../ops/kv_rows.ts";
import { kernelModule } from "./module.ts";
import { WasmKernels } from "./runtime.ts";

const NO_WASM = kernelModule() === undefined;
const NO_WASM_REASON = "this runtime lacks WebAssembly SIMD or shared memory";

function randoms(n: number, seed: number, scale: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = (s / 4294967296 - 0.5) * scale;
  }
  return out;
}

for (const threads of [1, 2]) {
  test(`wasm attention matches the TypeScript reference (threads ${threads})`, async () => {
    const k = (await WasmKernels.create({ threads, spin: 1000 }))!;
    try {
      const shapes = [
        { nHead: 4, nHeadKV: 2, headDim: 8, valueDim: 8, scale: 1 / Math.sqrt(8) },
        { nHead: 6, nHeadKV: 1, headDim: 13, valueDim: 13, scale: 0.3 },
        { nHead: 8, nHeadKV: 4, headDim: 64, valueDim: 64, scale: 0.125 },
      ];
      let seed = 3;
      for (const s of shapes) {
        const cap = 16;
        const kc = s.nHeadKV * s.headDim, vc = s.nHeadKV * s.valueDim;
        const ref = f16Layer(cap * kc, cap * vc);
        const kCache = k.allocFloats(cap * kc)!, vCache = k.allocFloats(cap * vc)!;
        let pos = 0;
        for (const rows of [5, 1, 1, 3]) {
          const q = randoms(rows * s.nHead * s.headDim, seed++, 4);
          const kk = randoms(rows * kc, seed++, 4);
          const vv = randoms(rows * vc, seed++, 2);
          const want = new Float32Array(rows * s.nHead * s.valueDim);
          const got = new Float32Array(want.length);
          attention(q, kk, vv, rows, pos, ref, s, want);
          k.attention(kCache, vCache, q, kk, vv, rows, pos, s, got);
          for (let i = 0; i < want.length; i++) {
            const tol = 2e-3 * Math.max(1, Math.abs(want[i]));
            assert(
              Math.abs(got[i] - want[i]) <= tol,
              `shape ${JSON.stringify(s)} rows ${rows} pos ${pos} [${i}]: ${got[i]} vs ${want[i]}`,
            );
          }
          for (let i = 0; i < (pos + rows) * kc; i++) {
            assert(kCache[i] === ref.k.data[i], `k cache [${i}]: ${kCache[i]} vs ${ref.k.data[i]}`);
          }
          pos += rows;
        }
      }
    } finally {
      await k.dispose();
    }
  }, { ignore: NO_WASM, reason: NO_WASM_REASON });
}

for (const threads of [1, 2]) {
  test(
    `wasm attention with windows and sinks gives the TypeScript path's bits (threads ${threads})`,
    async () => {
      const k = (await WasmKernels.create({ threads, spin: 1000 }))!;
      try {
        const shapes = [
          { nHead: 4, nHeadKV: 2, headDim: 8, valueDim: 8, scale: 1 / Math.sqrt(8), window: 3 },
          { nHead: 6, nHeadKV: 1, headDim: 13, valueDim: 13, scale: 0.3, window: 1 },
          { nHead: 8, nHeadKV: 4, headDim: 64, valueDim: 64, scale: 0.125, window: 7 },
          { nHead: 8, nHeadKV: 2, headDim: 72, valueDim: 72, scale: 0.125 },
        ];
        let seed = 11;
        for (const s of shapes) {
          for (const withSinks of [false, true]) {
            const cap = 24;
            const kc = s.nHeadKV * s.headDim, vc = s.nHeadKV * s.valueDim;
            const ref = f16Layer(cap * kc, cap * vc);
            const kCache = k.allocFloats(cap * kc)!, vCache = k.allocFloats(cap * vc)!;
            // sinks both above and below the scores' maximum (the two branches of the step)
            const sinks = withSinks ? randoms(s.nHead, seed++, 12) : undefined;
            if (sinks) sinks[0] = 40;
            if (!withSinks && s.window === undefined) continue;
            let pos = 0;
            // a prefill past the window, decode steps, and a batch further on
            for (const rows of [9, 1, 1, 4, 1, 6]) {
              const q = randoms(rows * s.nHead * s.headDim, seed++, 4);
              const kk = randoms(rows * kc, seed++, 4);
              const vv = randoms(rows * vc, seed++, 2);
              const want = new Float32Array(rows * s.nHead * s.valueDim);
              const got = new Float32Array(want.length);
              attention(q, kk, vv, rows, pos, ref, s, want, sinks);
              k.attention(kCache, vCache, q, kk, vv, rows, pos, s, got, sinks);
              for (let i = 0; i < want.length; i++) {
                assert(
                  Object.is(got[i], want[i]),
                  `shape ${JSON.stringify(s)} sinks ${withSinks} rows ${rows} pos ${pos} [${i}]: ` +
                    `${got[i]} vs ${want[i]}`,
                );
              }
              pos += rows;
            }
            k.freeFloats(kCache);
            k.freeFloats(vCache);
          }
        }
      } finally {
        await k.dispose();
      }
    },
    { ignore: NO_WASM, reason: NO_WASM_REASON },
  );
}

test("wasm attention rejects caches it does not own and oversized heads", async () => {
  const k = (await WasmKernels.create({ threads: 1 }))!;
  try {
    const s = { nHead: 2, nHeadKV: 1, headDim: 4, valueDim: 4, scale: 0.5 };
    const own = k.allocFloats(32)!;
    const foreign = new Float32Array(32);
    const q = new Float32Array(8), kv = new Float32Array(4), out = new Float32Array(8);
    assertThrows(() => k.attention(foreign, own, q, kv, kv, 1, 0, s, out), /allocFloats/);
    assertThrows(() => k.attention(own, own, q, kv, kv, 1, 8, s, out), /do not fit/);
    const big = { ...s, headDim: 1024 };
    assertThrows(() => k.attention(own, own, q, kv, kv, 1, 0, big, out), /do not fit/);
    const noWindow = { ...s, window: 0 };
    assertThrows(() => k.attention(own, own, q, kv, kv, 1, 0, noWindow, out), /do not fit/);
    const fewSinks = new Float32Array(1);
    assertThrows(() => k.attention(own, own, q, kv, kv, 1, 0, s, out, fewSinks), /do not fit/);
  } finally {
    await k.dispose();
  }
}, { ignore: NO_WASM, reason: NO_WASM_REASON });
