import { assert, assertStrictEquals } from "../../../../tests/assert.ts";
import { test } from "../../../../tests/harness.ts";
import { GGMLType } from "../../../gguf/ggml_types.ts";
import { dequantize, quantize } from "../../../gguf/quants/mod.ts";
import { e8m0ToF32Half, KVALUES_MXFP4 } from "../../../gguf/quants/mxfp4.ts";
import { quantizeQ8 } from "./act_quant.ts";
import { fmaf, fr, hsum8 } from "./f32.ts";
import { matmul } from "./matmul.ts";

/** Output (n, t) of MXFP4 weights by llama.cpp's two x86 formulas, written out. */
function reference(data: Uint8Array, K: number, x: Float32Array, T: number) {
  const nb = K / 32;
  const a = quantizeQ8(x.subarray(0, T * K));
  const w = (n: number, b: number, i: number) => {
    const q = data[(n * nb + b) * 17 + 1 + (i % 16)];
    return KVALUES_MXFP4[i < 16 ? q & 15 : q >> 4];
  };
  const dw = (n: number, b: number) => e8m0ToF32Half(data[(n * nb + b) * 17]);
  const dot = (n: number, t: number, b: number, lo: number, hi: number) => {
    let s = 0;
    for (let i = lo; i < hi; i++) s += w(n, b, i) * a.qs[(t * nb + b) * 32 + i];
    return s;
  };
  return {
    /** ggml_gemv / gemm_mxfp4_8x8_q8_0 (repacked, N % 8 == 0): one accumulator. */
    rows(n: number, t: number) {
      let acc = 0;
      for (let b = 0; b < nb; b++) {
        acc = fmaf(dot(n, t, b, 0, 32), fr(dw(n, b) * a.d[t * nb + b]), acc);
      }
      return acc;
    },
    /** ggml_vec_dot_mxfp4_q8_0 (AVX2): blocks in pairs on two sets of 8 lanes, scalar tail. */
    pairs(n: number, t: number) {
      const acc = [new Array(8).fill(0), new Array(8).fill(0)];
      let b = 0;
      for (; b + 1 < nb; b += 2) {
        for (const k of [0, 1]) {
          const d = fr(a.d[t * nb + b + k] * dw(n, b + k));
          for (let j = 0; j < 8; j++) {
            acc[k][j] = fmaf(d, dot(n, t, b + k, 4 * j, 4 * j + 4), acc[k][j]);
          }
        }
      }
      let s = hsum8(acc[0].map((v, j) => fr(v + acc[1][j])));
      for (; b < nb; b++) s = fmaf(fr(a.d[t * nb + b] * dw(n, b)), dot(n, t, b, 0, 32), s);
      return s;
    },
  };
}

test("matmul MXFP4: the formula of llama.cpp's x86 kernel for each shape", () => {
  let seed = 3;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5) * 4;
  const K = 224; // 7 blocks: an odd count exercises the vec_dot's scalar tail
  const cases = [[16, 1, "rows"], [16, 3, "rows"], [12, 1, "pairs"], [12, 3, "pairs"]] as const;
  for (const [N, T, formula] of cases) {
    const wf = Float32Array.from({ length: N * K }, rand);
    const data = quantize(GGMLType.MXFP4, wf);
    const x = Float32Array.from({ length: T * K }, rand);
    const y = new Float32Array(T * N);
    matmul({ type: GGMLType.MXFP4, rows: N, cols: K, data, rowBytes: data.length / N }, x, T, y);
    const ref = reference(data, K, x, T);
    const deq = dequantize(GGMLType.MXFP4, data, N * K);
    let differ = 0;
    for (let t = 0; t < T; t++) {
      for (let n = 0; n < N; n++) {
        const want = { rows: ref.rows(n, t), pairs: ref.pairs(n, t) };
        assertStrictEquals(y[t * N + n], want[formula], `N=${N} T=${T} n=${n} t=${t}`);
        if (want.rows !== want.pairs) differ++;
        // And the product is the dequantized weights' (up to the int8 activations).
        let f = 0;
        for (let k = 0; k < K; k++) f += deq[n * K + k] * x[t * K + k];
        assert(Math.abs(f - y[t * N + n]) < 0.05 * Math.sqrt(K), `${f} vs ${y[t * N + n]}`);
      }
    }
    assert(differ > 0, `N=${N} T=${T}: the data must tell the formulas apart`);
  }
});
