/**
 * Kernels around the weight type's decoder (quant_types.ts), one template each: activation
 * rounding to the weight type's llama.cpp activation format (before a product, product.ts),
 * the embedding row lookup, and RMSNorm with an F32 or F16 weight.
 *
 * @module
 */
import type { ActFormat } from "../../../gguf/type_schema.ts";
import { WGSL_HALF, WGSL_LOADS } from "./common.ts";
import { FLAT_INDEX, type KernelSource, type ParamFields, paramStruct } from "./params.ts";
import { wgslDecoder, wgslType } from "./quant_types.ts";

const FLAT_MAIN = `@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u,
        @builtin(num_workgroups) nwg: vec3u) {
  let e = ${FLAT_INDEX};`;

/**
 * Activation rounding, as src/backends/cpu/ops/act_quant.ts: bindings x, xr (rounded
 * values), [xs: Q8_1 block sums], p. One invocation per block (per element for f16).
 */
export function actRoundKernel(fmt: Exclude<ActFormat, "f32" | "bf16">): KernelSource {
  const fields: ParamFields = [["n", "u32"]];
  const sums = fmt === "q8_1";
  const head = `${WGSL_HALF}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> xr: array<f32>;
${sums ? "@group(0) @binding(2) var<storage, read_write> xs: array<f32>;" : ""}
${paramStruct(fields, sums ? 3 : 2)}
const WG = 64u;
${FLAT_MAIN}
  if (e >= p.n) { return; }`;
  if (fmt === "f16") return { code: `${head}\n  xr[e] = rh(x[e]);\n}\n`, fields, wg: 64 };
  if (fmt === "q8_k") {
    return {
      fields,
      wg: 64,
      code: `${head}
  let b = e * 256u;
  var mx = 0.0; var amax = 0.0;
  for (var i = 0u; i < 256u; i++) { let a = abs(x[b + i]); if (a > amax) { amax = a; mx = x[b + i]; } }
  if (amax == 0.0) { for (var i = 0u; i < 256u; i++) { xr[b + i] = 0.0; } return; }
  let iscale = -127.0 / mx;
  let d = 1.0 / iscale;
  for (var i = 0u; i < 256u; i++) { xr[b + i] = d * min(127.0, round(iscale * x[b + i])); }
}
`,
    };
  }
  return {
    fields,
    wg: 64,
    code: `${head}
  var v: array<f32, 32>;
  let s = q8Block(e * 32u, &v);
  for (var i = 0u; i < 32u; i++) { xr[e * 32u + i] = v[i]; }
  ${sums ? "xs[e] = s;" : "_ = s;"}
}
${WGSL_Q8_BLOCK}
`,
  };
}

/**
 * `q8Block(b, v)`: the 32 activations x[b ..] rounded as ggml's x86 quantize_row_q8_0/q8_1
 * do (d = amax / 127 stored as f16, multiplier 127 / amax, round half to even), as values
 * in v; returns the Q8_1 block sum f16(d * sum(q)). Reads the binding `x`; needs WGSL_HALF.
 */
export const WGSL_Q8_BLOCK = /* wgsl */ `
fn q8Block(b: u32, v: ptr<function, array<f32, 32>>) -> f32 {
  var amax = 0.0;
  for (var i = 0u; i < 32u; i++) { (*v)[i] = x[b + i]; amax = max(amax, abs((*v)[i])); }
  let d = amax / 127.0;
  let dh = rh(d);
  let id = select(0.0, 127.0 / amax, amax != 0.0);
  var sum = 0.0;
  for (var i = 0u; i < 32u; i++) {
    let q = min(127.0, round((*v)[i] * id));
    sum += q;
    (*v)[i] = dh * q;
  }
  return rh(d * sum);
}
`;

/**
 * Embedding lookup: y[t, :] = row r of W, r = tokens[t] (mode 0), pos0 + t (mode 1) or 0
 * (mode 2). Bindings w, tokens, state, y, p; one invocation per decoded chunk.
 */
export function embedKernel(type: number): KernelSource {
  const min = wgslType(type).min !== undefined;
  const fields: ParamFields = [["n", "u32"], ["cols", "u32"], ["nch", "u32"], [
    "rowBytes",
    "u32",
  ], ["mode", "u32"]];
  const code = `${WGSL_LOADS}
@group(0) @binding(0) var<storage, read> w: array<u32>;
@group(0) @binding(1) var<storage, read> tokens: array<i32>;
@group(0) @binding(2) var<storage, read> state: array<u32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
${paramStruct(fields, 4)}
${wgslDecoder(type)}
const WG = 64u;
${FLAT_MAIN}
  if (e >= p.n) { return; }
  let t = e / p.nch;
  let c = e % p.nch;
  var r = u32(tokens[t]);
  if (p.mode == 1u) { r = state[0] + t; } else if (p.mode == 2u) { r = 0u; }
  var v: array<f32, CH>;
  dq(r * p.rowBytes, c, &v);
  ${min ? "let m = dqmin(r * p.rowBytes, c);" : "let m = 0.0;"}
  for (var i = 0u; i < CH; i++) { y[t * p.cols + c * CH + i] = v[i] + m; }
}
`;
  return { code, fields, wg: 64 };
}

/**
 * RMSNorm of each run of `cols` values times a weight of that length: bindings w (the norm
 * weight, F32 or F16), x, y, p; one workgroup of 256 per run. `fusedAdd`: bindings w, a, b,
 * x (written: a + b, the residual sum), y, p.
 */
export function rmsNormKernel(type: number, fusedAdd = false): KernelSource {
  const fields: ParamFields = [["cols", "u32"], ["eps", "f32"], ["nx", "u32"], ["rows", "u32"]];
  // Fused with the residual add before it: x = a + b is written to `s` and normalized.
  const inputs = fusedAdd
    ? `@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> x: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
${paramStruct(fields, 5)}`
    : `@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
${paramStruct(fields, 3)}`;
  const code = `${WGSL_LOADS}
@group(0) @binding(0) var<storage, read> w: array<u32>;
${inputs}
${wgslDecoder(type)}
const WG = 256u;
var<workgroup> red: array<f32, 256>;
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid3: vec3u) {
  let lid = lid3.x;
  let row = wid.y * p.nx + wid.x;
  if (row >= p.rows) { return; }
  let o = row * p.cols;
  var ss = 0.0;
  for (var i = lid; i < p.cols; i += WG) {
    ${fusedAdd ? "let v = a[o + i] + b[o + i]; x[o + i] = v;" : "let v = x[o + i];"}
    ss += v * v;
  }
  red[lid] = ss;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { red[lid] += red[lid + s]; }
    workgroupBarrier();
  }
  let scale = 1.0 / sqrt(red[0] / f32(p.cols) + p.eps);
  for (var i = lid; i < p.cols; i += WG) {
    var v: array<f32, CH>;
    dq(0u, i, &v);
    y[o + i] = (x[o + i] * scale) * v[0];
  }
}
`;
  return { code, fields, wg: 256 };
}
