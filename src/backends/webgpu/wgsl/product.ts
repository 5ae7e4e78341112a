/**
 * y[t, n] = sum_k x[t, k] W[n, k] (+ bias[n]), one template per shape class over the weight
 * type's decoder (quant_types.ts), x already rounded to the type's activation format:
 *
 * - `matvecKernel`: few tokens. A workgroup of 64 takes RR rows for one token (decode: x is
 *   read once per workgroup and reused across its rows) or one row for TT tokens (the row
 *   decoded once per tile); partial sums meet in workgroup memory.
 * - `gemmKernel`: prefill. A workgroup of 256 computes a 64-row x 64-token tile, 32 k at a
 *   time: 64 invocations decode a 64 x 32 weight tile into workgroup memory, all 256 load
 *   the 64 x 32 activation tile, then each invocation accumulates its 4 x 4 outputs.
 *
 * Types with block offsets (Q4_1, Q5_1) add m * s with s the activation block's Q8_1 sum.
 * Bindings: w, x, y, p, [xs when the type has offsets], [bias].
 *
 * @module
 */
import type { ActFormat } from "../../../gguf/type_schema.ts";
import { WGSL_HALF, WGSL_LOADS } from "./common.ts";
import { WGSL_Q8_BLOCK } from "./matmul.ts";
import { type KernelSource, type ParamFields, paramStruct } from "./params.ts";
import { wgslDecoder, wgslDecoderOn, wgslType } from "./quant_types.ts";

const FIELDS: ParamFields = [
  ["K", "u32"],
  ["N", "u32"],
  ["T", "u32"],
  ["nch", "u32"],
  ["rowBytes", "u32"],
  ["nx", "u32"],
];

/** Launch shape of a product of T tokens: the kernel class and its tiles. */
export interface ProductShape {
  readonly kind: "matvec" | "gemm";
  /** The kernel rounds x to Q8_0/Q8_1 blocks itself (no separate rounding launch). */
  readonly inline: boolean;
  /** Tokens per workgroup. */
  readonly tt: number;
  /** Rows per workgroup. */
  readonly rr: number;
}

/**
 * The product shape for a batch of `t` tokens whose activations round to `fmt`. Few tokens
 * round 32-blocks inside the product (decode: one launch per product, not two).
 */
export function productShape(t: number, fmt: ActFormat): ProductShape {
  const inline = t < 16 && (fmt === "q8_0" || fmt === "q8_1");
  if (t === 1) return { kind: "matvec", inline, tt: 1, rr: 4 };
  if (t < 16) return { kind: "matvec", inline, tt: 8, rr: 1 };
  return { kind: "gemm", inline: false, tt: 64, rr: 64 };
}

function head(type: number, bias: boolean, inline = false, fields = FIELDS): string {
  const t = wgslType(type);
  let b = 4;
  return `${WGSL_LOADS}${inline ? WGSL_HALF + WGSL_Q8_BLOCK : ""}
@group(0) @binding(0) var<storage, read> w: array<u32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
${paramStruct(fields, 3)}
${t.min && !inline ? `@group(0) @binding(${b++}) var<storage, read> xs: array<f32>;` : ""}
${bias ? `@group(0) @binding(${b++}) var<storage, read> bias: array<f32>;` : ""}
${wgslDecoder(type)}`;
}

/** The product kernel of `shape` for weight `type`. */
export function productKernel(type: number, shape: ProductShape, bias: boolean): KernelSource {
  return shape.kind === "gemm" ? gemmKernel(type, bias) : matvecKernel(type, shape, bias);
}

function matvecKernel(type: number, shape: ProductShape, bias: boolean): KernelSource {
  const { tt, rr, inline } = shape;
  const min = wgslType(type).min !== undefined;
  const wg = 64;
  const acc = tt * rr;
  // One token, RR rows: x chunk in registers, reused for each row.
  const rowsLoop = `
    var xv: array<f32, CH>;
    let xo = t0 * p.K + c * CH;
    ${
    inline ? "let xsum = q8Block(xo, &xv);" : `for (var i = 0u; i < CH; i++) { xv[i] = x[xo + i]; }
    ${min ? "let xsum = xs[t0 * p.nch + c];" : ""}`
  }
    for (var r = 0u; r < RR; r++) {
      let n = n0 + r;
      if (n < p.N) {
        var v: array<f32, CH>;
        dq(n * p.rowBytes, c, &v);
        var s = 0.0;
        for (var i = 0u; i < CH; i++) { s += v[i] * xv[i]; }
        ${min ? "s += dqmin(n * p.rowBytes, c) * xsum;" : ""}
        acc[r] += s;
      }
    }`;
  // One row, TT tokens: the row's chunk decoded once, dotted with each token.
  const tokensLoop = `
    var v: array<f32, CH>;
    dq(n0 * p.rowBytes, c, &v);
    ${min ? "let m = dqmin(n0 * p.rowBytes, c);" : ""}
    for (var t = 0u; t < TT; t++) {
      if (t < nt) {
        let xo = (t0 + t) * p.K + c * CH;
        var s = 0.0;
        ${
    inline
      ? `var xv: array<f32, CH>;
        let xsum = q8Block(xo, &xv);
        for (var i = 0u; i < CH; i++) { s += v[i] * xv[i]; }
        ${min ? "s += m * xsum;" : "_ = xsum;"}`
      : `for (var i = 0u; i < CH; i++) { s += v[i] * x[xo + i]; }
        ${min ? "s += m * xs[(t0 + t) * p.nch + c];" : ""}`
  }
        acc[t] += s;
      }
    }`;
  const code = `${head(type, bias, inline)}
const WG = ${wg}u;
const TT = ${tt}u;
const RR = ${rr}u;
var<workgroup> red: array<f32, ${wg * acc}>;
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid3: vec3u) {
  let n0 = (wid.y * p.nx + wid.x) * RR;
  if (n0 >= p.N) { return; }
  let lid = lid3.x;
  let t0 = wid.z * TT;
  let nt = min(TT, p.T - t0);
  var acc: array<f32, ${acc}>;
  for (var c = lid; c < p.nch; c += WG) {${rr > 1 ? rowsLoop : tokensLoop}
  }
  for (var a = 0u; a < ${acc}u; a++) { red[a * WG + lid] = acc[a]; }
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { for (var a = 0u; a < ${acc}u; a++) { red[a * WG + lid] += red[a * WG + lid + s]; } }
    workgroupBarrier();
  }
  ${
    rr > 1
      ? `if (lid < RR && n0 + lid < p.N) { y[t0 * p.N + n0 + lid] = red[lid * WG]${
        bias ? " + bias[n0 + lid]" : ""
      }; }`
      : `if (lid < nt) { y[(t0 + lid) * p.N + n0] = red[lid * WG]${bias ? " + bias[n0]" : ""}; }`
  }
}
`;
  return { code, fields: FIELDS, wg };
}

/**
 * SwiGLU of two products for one token, silu(x Wg^T) * (x Wu^T) (a llama FFN's gate, up and
 * swiglu as one launch): bindings w (gate), x, y, p, [xs when the type has offsets and x is
 * pre-rounded], u (up, same type and shape). Four rows per workgroup, as matvecKernel.
 */
export function swigluProductKernel(type: number, inline: boolean): KernelSource {
  const min = wgslType(type).min !== undefined;
  const uBind = min && !inline ? 5 : 4;
  const dot = (fn: string, fnMin: string, acc: string) =>
    `{
        var v: array<f32, CH>;
        ${fn}(n * p.rowBytes, c, &v);
        var s = 0.0;
        for (var i = 0u; i < CH; i++) { s += v[i] * xv[i]; }
        ${min ? `s += ${fnMin}(n * p.rowBytes, c) * xsum;` : ""}
        acc[${acc}] += s;
      }`;
  const code = `${head(type, false, inline)}
@group(0) @binding(${uBind}) var<storage, read> u: array<u32>;
${wgslDecoderOn(type, "u")}
const WG = 64u;
const RR = 4u;
var<workgroup> red: array<f32, ${64 * 8}>;
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid3: vec3u) {
  let n0 = (wid.y * p.nx + wid.x) * RR;
  if (n0 >= p.N) { return; }
  let lid = lid3.x;
  var acc: array<f32, 8>;
  for (var c = lid; c < p.nch; c += WG) {
    var xv: array<f32, CH>;
    let xo = c * CH;
    ${
    inline ? "let xsum = q8Block(xo, &xv);" : `for (var i = 0u; i < CH; i++) { xv[i] = x[xo + i]; }
    ${min ? "let xsum = xs[c];" : ""}`
  }
    for (var r = 0u; r < RR; r++) {
      let n = n0 + r;
      if (n < p.N) {
      ${dot("dq", "dqmin", "r")}
      ${dot("dq_u", "dqmin_u", "RR + r")}
      }
    }
  }
  for (var a = 0u; a < 8u; a++) { red[a * WG + lid] = acc[a]; }
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { for (var a = 0u; a < 8u; a++) { red[a * WG + lid] += red[a * WG + lid + s]; } }
    workgroupBarrier();
  }
  if (lid < RR && n0 + lid < p.N) {
    let g = red[lid * WG];
    y[n0 + lid] = (g / (1.0 + exp(-g))) * red[(RR + lid) * WG];
  }
}
`;
  return { code, fields: FIELDS, wg: 64 };
}

/** Fields of splitProductKernel: FIELDS plus the rows of the first two weights. */
const SPLIT_FIELDS: ParamFields = [...FIELDS, ["N0", "u32"], ["N1", "u32"]];

/**
 * Three products of one token's x with weights of one type and row length, as one launch
 * (a layer's q, k and v): rows 0 .. N0 - 1 of the launch are W's, then N1 of U's, then the
 * rest of V's (N0 and N1 multiples of 4, so a workgroup's rows share a weight). Bindings w,
 * x, y, p, [xs], u, y2, w3, y3.
 */
export function splitProductKernel(type: number, inline: boolean): KernelSource {
  const min = wgslType(type).min !== undefined;
  let b = min && !inline ? 5 : 4;
  const part = (fn: string, fnMin: string, base: string) =>
    `{
        let n = n0 + r - ${base};
        var v: array<f32, CH>;
        ${fn}(n * p.rowBytes, c, &v);
        var s = 0.0;
        for (var i = 0u; i < CH; i++) { s += v[i] * xv[i]; }
        ${min ? `s += ${fnMin}(n * p.rowBytes, c) * xsum;` : ""}
        acc[r] += s;
      }`;
  const code = `${head(type, false, inline, SPLIT_FIELDS)}
@group(0) @binding(${b++}) var<storage, read> u: array<u32>;
@group(0) @binding(${b++}) var<storage, read_write> y2: array<f32>;
@group(0) @binding(${b++}) var<storage, read> w3: array<u32>;
@group(0) @binding(${b++}) var<storage, read_write> y3: array<f32>;
${wgslDecoderOn(type, "u")}
${wgslDecoderOn(type, "w3")}
const WG = 64u;
const RR = 4u;
var<workgroup> red: array<f32, ${64 * 4}>;
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid3: vec3u) {
  let n0 = (wid.y * p.nx + wid.x) * RR;
  if (n0 >= p.N) { return; }
  let lid = lid3.x;
  let which = select(select(2u, 1u, n0 < p.N0 + p.N1), 0u, n0 < p.N0);
  var acc: array<f32, 4>;
  for (var c = lid; c < p.nch; c += WG) {
    var xv: array<f32, CH>;
    let xo = c * CH;
    ${
    inline ? "let xsum = q8Block(xo, &xv);" : `for (var i = 0u; i < CH; i++) { xv[i] = x[xo + i]; }
    ${min ? "let xsum = xs[c];" : ""}`
  }
    for (var r = 0u; r < RR; r++) {
      if (n0 + r < p.N) {
        if (which == 0u) ${part("dq", "dqmin", "0u")}
        else if (which == 1u) ${part("dq_u", "dqmin_u", "p.N0")}
        else ${part("dq_w3", "dqmin_w3", "(p.N0 + p.N1)")}
      }
    }
  }
  for (var a = 0u; a < 4u; a++) { red[a * WG + lid] = acc[a]; }
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { for (var a = 0u; a < 4u; a++) { red[a * WG + lid] += red[a * WG + lid + s]; } }
    workgroupBarrier();
  }
  if (lid < RR && n0 + lid < p.N) {
    let n = n0 + lid;
    let r = red[lid * WG];
    if (which == 0u) { y[n] = r; } else if (which == 1u) { y2[n - p.N0] = r; } else {
      y3[n - p.N0 - p.N1] = r;
    }
  }
}
`;
  return { code, fields: SPLIT_FIELDS, wg: 64 };
}

/** The 4 x 4 outputs of one GEMM invocation, written out as scalars (no indexed arrays, which
 * a driver may keep in local memory). */
const FOUR = [0, 1, 2, 3];
const CELLS = FOUR.flatMap((i) => FOUR.map((j) => [i, j] as const));

function gemmKernel(type: number, bias: boolean): KernelSource {
  const t = wgslType(type);
  const min = t.min !== undefined;
  // Weight tile: CH = 32 types decode one chunk per row (64 invocations); element types
  // (CH = 1) decode 8 elements per invocation, zero past K.
  const loadW = t.chunk === 32
    ? `if (lid < 64u) {
      let n = n0 + lid;
      var v: array<f32, CH>;
      if (n < p.N) { dq(n * p.rowBytes, k0 / 32u, &v); }
      for (var i = 0u; i < 32u; i++) { ws[lid * 33u + i] = v[i]; }
      ${min ? "mins[lid] = select(0.0, dqmin(n * p.rowBytes, k0 / 32u), n < p.N);" : ""}
    }`
    : `for (var e = 0u; e < 8u; e++) {
      let idx = lid * 8u + e;
      let r = idx / 32u; let kk = idx % 32u;
      let n = n0 + r; let k = k0 + kk;
      var v: array<f32, CH>;
      v[0] = 0.0;
      if (n < p.N && k < p.K) { dq(n * p.rowBytes, k, &v); }
      ws[r * 33u + kk] = v[0];
    }`;
  const code = `${head(type, bias)}
const WG = 256u;
var<workgroup> ws: array<f32, ${64 * 33}>;
var<workgroup> xt: array<f32, ${64 * 33}>;
${min ? "var<workgroup> mins: array<f32, 64>;\nvar<workgroup> xsm: array<f32, 64>;" : ""}
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid3: vec3u) {
  let lid = lid3.x;
  let n0 = (wid.y * p.nx + wid.x) * 64u;
  let t0 = wid.z * 64u;
  let ty = lid / 16u;
  let tx = lid % 16u;
  ${CELLS.map(([i, j]) => `var c${i}${j} = 0.0;`).join(" ")}
  for (var k0 = 0u; k0 < p.K; k0 += 32u) {
    ${loadW}
    for (var e = 0u; e < 8u; e++) {
      let idx = lid * 8u + e;
      let tt = idx / 32u; let kk = idx % 32u;
      let tok = t0 + tt; let k = k0 + kk;
      var xv = 0.0;
      if (tok < p.T && k < p.K) { xv = x[tok * p.K + k]; }
      xt[tt * 33u + kk] = xv;
    }
    ${
    min ? "if (lid < 64u && t0 + lid < p.T) { xsm[lid] = xs[(t0 + lid) * p.nch + k0 / 32u]; }" : ""
  }
    workgroupBarrier();
    for (var k = 0u; k < 32u; k++) {
      ${FOUR.map((i) => `let a${i} = ws[(ty * 4u + ${i}u) * 33u + k];`).join(" ")}
      ${FOUR.map((j) => `let b${j} = xt[(tx * 4u + ${j}u) * 33u + k];`).join(" ")}
      ${CELLS.map(([i, j]) => `c${i}${j} += a${i} * b${j};`).join(" ")}
    }
    ${
    min
      ? CELLS.map(([i, j]) => `c${i}${j} += mins[ty * 4u + ${i}u] * xsm[tx * 4u + ${j}u];`).join(
        " ",
      )
      : ""
  }
    workgroupBarrier();
  }
  ${
    CELLS.map(([i, j]) =>
      `if (n0 + ty * 4u + ${i}u < p.N && t0 + tx * 4u + ${j}u < p.T) {
    y[(t0 + tx * 4u + ${j}u) * p.N + n0 + ty * 4u + ${i}u] = c${i}${j}${
        bias ? ` + bias[n0 + ty * 4u + ${i}u]` : ""
      };
  }`
    ).join("\n  ")
  }
}
`;
  return { code, fields: FIELDS, wg: 256 };
}
