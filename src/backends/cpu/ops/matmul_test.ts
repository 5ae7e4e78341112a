import { assert, assertStrictEquals } from "../../../../tests/assert.ts";
import { test } from "../../../../tests/harness.ts";
import { GGMLType } from "../../../gguf/ggml_types.ts";
import { F16_F32 } from "../../../gguf/quants/half.ts";
import { KVALUES_IQ4NL } from "../../../gguf/quants/iq4.ts";
import { f16ToF32, quantize } from "../../../gguf/quants/mod.ts";
import { quantizeQ8 } from "./act_quant.ts";
import { fmaf, fr, hsum8 } from "./f32.ts";
import { matmul } from "./matmul.ts";

test("quantizeQ8: multiplier 127 / amax as ggml's x86 code, not 1 / d", () => {
  const x = new Float32Array(32);
  x[0] = 0.8253847360610962;
  x[1] = -0.8156360387802124;
  const q = quantizeQ8(x);
  assertStrictEquals(q.qs[0], 127);
  assertStrictEquals(q.qs[1], -126); // 1 / fr(amax / 127) would give -125
});

test("matmul Q8_0: float32 lanes with FMA and hsum8, not a float64 dot", () => {
  // One row of two blocks: block 0 scale 192 (f16 0x5a00), block 1 scale 0.30004883 (0x34cd).
  const data = new Uint8Array(68);
  data.set([0x00, 0x5a], 0);
  data.set([0xcd, 0x34], 34);
  for (let i = 0; i < 32; i++) {
    data[2 + i] = 127;
    data[36 + i] = i % 7 === 0 ? 0x81 : (i * 37) % 19; // -127 and small values
  }
  // Integer activations with amax 127 quantize to themselves with d = 1.
  const x = new Float32Array(64);
  for (let i = 0; i < 64; i++) x[i] = i % 32 === 0 ? 127 : ((i * 53) % 255) - 127;
  const y = new Float32Array(1);
  matmul({ type: GGMLType.Q8_0, rows: 1, cols: 64, data, rowBytes: 68 }, x, 1, y);
  // Hand-written reference of the spec: lane j of each block sums elements 4j..4j+3.
  const w = (i: number) => (i < 32 ? 127 : ((data[4 + i] << 24) >> 24));
  const acc = new Array(8).fill(0);
  let f64 = 0;
  for (let b = 0; b < 2; b++) {
    const d = f16ToF32(b === 0 ? 0x5a00 : 0x34cd);
    for (let j = 0; j < 8; j++) {
      let lane = 0;
      for (let i = 4 * j; i < 4 * j + 4; i++) lane += w(32 * b + i) * x[32 * b + i];
      acc[j] = fmaf(d, lane, acc[j]);
      f64 += d * lane;
    }
  }
  const want = fr(
    fr(fr(acc[0] + acc[4]) + fr(acc[2] + acc[6])) + fr(fr(acc[1] + acc[5]) + fr(acc[3] + acc[7])),
  );
  assertStrictEquals(y[0], want);
  assert(fr(f64) !== want, "the case must tell float64 accumulation from ggml's order");
});

/** Output (n, t) of IQ4_NL weights by each of llama.cpp's three x86 formulas, written out. */
function iq4nlReference(data: Uint8Array, K: number, x: Float32Array) {
  const nb = K / 32;
  const a = quantizeQ8(x);
  const w = (n: number, b: number, i: number) => {
    const q = data[(n * nb + b) * 18 + 2 + (i % 16)];
    return KVALUES_IQ4NL[i < 16 ? q & 15 : q >> 4];
  };
  const dw = (n: number, b: number) =>
    F16_F32[data[(n * nb + b) * 18] | (data[(n * nb + b) * 18 + 1] << 8)];
  const lane = (n: number, t: number, b: number, j: number) => {
    let s = 0;
    for (let i = 4 * j; i < 4 * j + 4; i++) s += w(n, b, i) * a.qs[(t * nb + b) * 32 + i];
    return s;
  };
  const block = (n: number, t: number, b: number) => {
    let s = 0;
    for (let j = 0; j < 8; j++) s += lane(n, t, b, j);
    return s;
  };
  return {
    /** tinyBLAS (several rows of x, N % 8 != 0): eight lanes. */
    lanes(n: number, t: number) {
      const acc = new Array(8).fill(0);
      for (let b = 0; b < nb; b++) {
        for (let j = 0; j < 8; j++) {
          acc[j] = fmaf(dw(n, b) * a.d[t * nb + b], lane(n, t, b, j), acc[j]);
        }
      }
      return hsum8(acc);
    },
    /** ggml_gemv / gemm_iq4_nl_8x8_q8_0 (N % 8 == 0): one accumulator per output. */
    rows(n: number, t: number) {
      let acc = 0;
      for (let b = 0; b < nb; b++) acc = fmaf(block(n, t, b), dw(n, b) * a.d[t * nb + b], acc);
      return acc;
    },
    /** ggml_vec_dot_iq4_nl_q8_0 (one row of x, N % 8 != 0): blocks in pairs, scalar tail. */
    pairs(n: number) {
      const acc1 = new Array(8).fill(0);
      const acc2 = new Array(8).fill(0);
      let b = 0;
      for (; b + 1 < nb; b += 2) {
        for (let j = 0; j < 8; j++) {
          acc1[j] = fmaf(dw(n, b) * a.d[b], lane(n, 0, b, j), acc1[j]);
          acc2[j] = fmaf(dw(n, b + 1) * a.d[b + 1], lane(n, 0, b + 1, j), acc2[j]);
        }
      }
      let s = hsum8(acc1.map((v, j) => fr(v + acc2[j])));
      for (; b < nb; b++) s = fmaf(a.d[b] * dw(n, b), block(n, 0, b), s);
      return s;
    },
  };
}

test("matmul IQ4_NL: the formula of llama.cpp's x86 kernel for each shape", () => {
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5) * 4;
  const K = 224; // 7 blocks: an odd count exercises ggml_vec_dot_iq4_nl_q8_0's scalar tail
  const cases = [[16, 1, "rows"], [16, 3, "rows"], [12, 1, "pairs"], [12, 3, "lanes"]] as const;
  for (const [N, T, formula] of cases) {
    const data = quantize(GGMLType.IQ4_NL, Float32Array.from({ length: N * K }, rand));
    const x = Float32Array.from({ length: T * K }, rand);
    const y = new Float32Array(T * N);
    matmul({ type: GGMLType.IQ4_NL, rows: N, cols: K, data, rowBytes: data.length / N }, x, T, y);
    const ref = iq4nlReference(data, K, x);
    const others = new Set<string>();
    for (let t = 0; t < T; t++) {
      for (let n = 0; n < N; n++) {
        const want: Record<string, number> = { rows: ref.rows(n, t), lanes: ref.lanes(n, t) };
        if (T === 1) want.pairs = ref.pairs(n); // ggml_vec_dot takes one row of x
        assertStrictEquals(y[t * N + n], want[formula], `N=${N} T=${T} n=${n} t=${t}`);
        for (const [k, v] of Object.entries(want)) if (v !== want[formula]) others.add(k);
      }
    }
    // The data must tell the formula from the others.
    assert(others.size === (T === 1 ? 2 : 1), `N=${N} T=${T}: only ${[...others]} differ`);
  }
});
