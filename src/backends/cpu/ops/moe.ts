/**
 * Mixture-of-experts FFN on the CPU in llama.cpp's steps (build_moe_ffn with softmax gating):
 * router logits for the whole batch (one product), per token a softmax over the experts
 * (ggml_soft_max_f32), the top `nUsed` experts (argsort, descending), optionally their weights
 * normalized by their sum (summed in double, clamped to 2^-14), then for each chosen expert
 * only its rows of the 3-D gate/up/down tensors: down(swiglu(gate x, up x)) as single-row
 * products (ggml's mul_mat_id runs vec_dot per row; tokens routed to one expert share one product
 * where the weight type allows, see ROW_INDEPENDENT), times its weight, added in rank order.
 *
 * gpt-oss (LLAMA_EXPERT_GATING_FUNC_TYPE_SOFTMAX_WEIGHT, LLM_FFN_SWIGLU_OAI_MOE): router logits
 * plus a bias, the top `nUsed` logits, a softmax over just those; each expert's products plus
 * its bias row (ggml_add_id), and swiglu_oai as the activation.
 *
 * @module
 */
import { GGMLType } from "../../../gguf/ggml_types.ts";
import type { WasmKernels } from "../wasm/runtime.ts";
import { swiglu, vExpf } from "./elementwise.ts";
import { fr } from "./f32.ts";
import { expf } from "./libm.ts";
import { matmul, type QuantMatrix } from "./matmul.ts";
import { swigluOai } from "./swiglu_oai.ts";

/** The 3-D expert tensors of one layer, as matrices of nExpert * rows rows. */
export interface MoeWeights {
  readonly router: QuantMatrix;
  readonly gate: QuantMatrix;
  readonly up: QuantMatrix;
  readonly down: QuantMatrix;
  /** Bias added to the router logits (optional). */
  readonly routerBias?: Float32Array;
  /** Per-expert biases of the products, [rows * nExpert] each (optional). */
  readonly gateBias?: Float32Array;
  readonly upBias?: Float32Array;
  readonly downBias?: Float32Array;
}

/** Expert `e` of a [cols, rows, nExpert] tensor: a view of its rows, no copy. */
export function expertView(m: QuantMatrix, e: number, nExpert: number): QuantMatrix {
  const rows = m.rows / nExpert;
  const off = e * rows * m.rowBytes;
  return {
    type: m.type,
    rows,
    cols: m.cols,
    rowBytes: m.rowBytes,
    data: m.data.subarray(off, off + rows * m.rowBytes),
    ...(m.f32 ? { f32: m.f32.subarray(e * rows * m.cols, (e + 1) * rows * m.cols) } : {}),
    ...(m.ptr !== undefined ? { ptr: m.ptr + off } : {}),
  };
}

/** _mm512_reduce_add_ps as GCC expands it: halves, then quarters, then pairs. */
function reduceAdd16(v: Float32Array, o: number): number {
  const a = new Float32Array(8);
  for (let i = 0; i < 8; i++) a[i] = fr(v[o + i] + v[o + i + 8]);
  const b0 = fr(a[0] + a[4]), b1 = fr(a[1] + a[5]), b2 = fr(a[2] + a[6]), b3 = fr(a[3] + a[7]);
  return fr(fr(b0 + b2) + fr(b1 + b3));
}

/** ggml_soft_max_f32 of one row (scale 1, no mask), in place. */
export function softmaxRow(x: Float32Array): void {
  let max = -Infinity;
  for (const v of x) max = Math.max(max, v);
  let sum = 0; // ggml_float (double)
  let i = 0;
  for (; i + 15 < x.length; i += 16) {
    for (let j = i; j < i + 16; j++) x[j] = vExpf(fr(x[j] - max));
    sum += reduceAdd16(x, i);
  }
  for (; i < x.length; i++) {
    x[i] = expf(fr(x[i] - max));
    sum += x[i];
  }
  const inv = fr(1 / sum);
  for (let j = 0; j < x.length; j++) x[j] = fr(x[j] * inv);
}

/** Indices of the `k` largest values, largest first (ties: lower index first). */
export function topK(x: Float32Array, k: number): number[] {
  return [...x.keys()].sort((a, b) => x[b] - x[a] || a - b).slice(0, k);
}

/** Options of one MoE FFN. */
export interface MoeShape {
  readonly nExpert: number;
  readonly nUsed: number;
  readonly normWeights: boolean;
  /** Multiplies the expert weights (0 or 1: none). */
  readonly weightsScale: number;
  /** See the moe node in graph.ts (default "softmax", "swiglu"). */
  readonly gating?: "softmax" | "softmax_weight";
  readonly act?: "swiglu" | "swiglu_oai";
}

/** Expert `e`'s rows of a per-expert bias, [rows * nExpert]. */
function biasOf(b: Float32Array | undefined, e: number, rows: number) {
  return b?.subarray(e * rows, (e + 1) * rows);
}

/**
 * Weight types whose product gives each output the same bits whatever the number of activation
 * rows (matmul_exact.ts's "lanes" and "rows" formulas, the kernels' too): tokens routed to one
 * expert then share one product, which reads the expert's rows once, as llama.cpp's mul_mat_id
 * computes each row on its own. Other types (float, IQ4_NL, K-quants) run token by token.
 */
const ROW_INDEPENDENT: ReadonlySet<GGMLType> = new Set([
  GGMLType.Q4_0,
  GGMLType.Q4_1,
  GGMLType.Q5_0,
  GGMLType.Q5_1,
  GGMLType.Q8_0,
  GGMLType.MXFP4,
]);

/** The routing of one token: its experts in rank order and their weights. */
function route(probs: Float32Array, w: MoeWeights, s: MoeShape): [number[], number[]] {
  if (w.routerBias) {
    for (let e = 0; e < s.nExpert; e++) probs[e] = fr(probs[e] + w.routerBias[e]);
  }
  const softmaxWeight = s.gating === "softmax_weight";
  if (!softmaxWeight) softmaxRow(probs);
  const chosen = topK(probs, s.nUsed);
  const picked = Float32Array.from(chosen, (e) => probs[e]);
  if (softmaxWeight) softmaxRow(picked);
  const weights = [...picked];
  if (s.normWeights) {
    let sum = 0; // ggml_vec_sum_f32 accumulates in double
    for (const v of weights) sum += v;
    const d = Math.max(fr(sum), 6.103515625e-5);
    for (let i = 0; i < weights.length; i++) weights[i] = fr(weights[i] / d);
  }
  if (s.weightsScale !== 0 && s.weightsScale !== 1) {
    for (let i = 0; i < weights.length; i++) weights[i] = fr(weights[i] * fr(s.weightsScale));
  }
  return [chosen, weights];
}

/** out [T, dim] = the MoE FFN of x [T, dim]. */
export function moe(
  x: Float32Array,
  T: number,
  w: MoeWeights,
  s: MoeShape,
  out: Float32Array,
  kernels?: WasmKernels,
): void {
  const dim = w.router.cols;
  const ff = w.up.rows / s.nExpert;
  const logits = new Float32Array(T * s.nExpert);
  matmul(w.router, x, T, logits, undefined, kernels);
  const routes = Array.from(
    { length: T },
    (_, t) => route(logits.subarray(t * s.nExpert, (t + 1) * s.nExpert), w, s),
  );
  // Groups of (token, rank) that share one product: by expert, or one each.
  const shared = [w.gate, w.up, w.down].every((m) => ROW_INDEPENDENT.has(m.type));
  const groups: { e: number; rows: [number, number][] }[] = [];
  if (shared) {
    for (let e = 0; e < s.nExpert; e++) {
      const rows: [number, number][] = [];
      routes.forEach(([c], t) => c.includes(e) && rows.push([t, c.indexOf(e)]));
      if (rows.length) groups.push({ e, rows });
    }
  } else {
    routes.forEach(([c], t) => c.forEach((e, r) => groups.push({ e, rows: [[t, r]] })));
  }
  // Each expert output times its weight, by (token, rank), then added in rank order.
  const ys = new Float32Array(T * s.nUsed * dim);
  for (const { e, rows } of groups) {
    const n = rows.length;
    const xe = new Float32Array(n * dim);
    rows.forEach(([t], i) => xe.set(x.subarray(t * dim, (t + 1) * dim), i * dim));
    const u = new Float32Array(n * ff), g = new Float32Array(n * ff), a = new Float32Array(n * ff);
    const y = new Float32Array(n * dim);
    matmul(expertView(w.up, e, s.nExpert), xe, n, u, biasOf(w.upBias, e, ff), kernels);
    matmul(expertView(w.gate, e, s.nExpert), xe, n, g, biasOf(w.gateBias, e, ff), kernels);
    if (s.act === "swiglu_oai") swigluOai(g, u, a, n * ff);
    else if (kernels) kernels.swiglu(g, u, a, ff); // the same bits (wasm/exact_test.ts)
    else swiglu(g, u, a, ff);
    matmul(expertView(w.down, e, s.nExpert), a, n, y, biasOf(w.downBias, e, dim), kernels);
    rows.forEach(([t, r], i) => {
      const wt = routes[t][1][r], o = (t * s.nUsed + r) * dim;
      for (let d = 0; d < dim; d++) ys[o + d] = fr(y[i * dim + d] * wt);
    });
  }
  for (let t = 0; t < T; t++) {
    const o = t * dim;
    out.set(ys.subarray(t * s.nUsed * dim, (t * s.nUsed + 1) * dim), o);
    for (let r = 1; r < s.nUsed; r++) {
      const yo = (t * s.nUsed + r) * dim;
      for (let d = 0; d < dim; d++) out[o + d] = fr(out[o + d] + ys[yo + d]);
    }
  }
}
