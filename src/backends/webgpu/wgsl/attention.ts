/**
 * RoPE and attention kernels. Positions come from the `state` buffer (state[0] = position of
 * the batch's first token), so one recorded pass serves every decode step, also when the
 * device itself advances the position (decode.ts).
 *
 * Attention is split-KV with online softmax: workgroup (split, head, query) walks its range of
 * cache rows in tiles of 64 (scores in workgroup memory, running max, sum and value
 * accumulator), and a combine kernel merges the splits of each (query, head). The cache holds
 * K and V rounded to float16 (as f16 where the device has `shader-f16`, else as f32), and the
 * query is rounded to float16 as the CPU reference does.
 *
 * @module
 */
import { WGSL_HALF } from "./common.ts";
import { FLAT_INDEX, type KernelSource, type ParamFields, paramStruct } from "./params.ts";

/** Widest head the attention kernels take (values per invocation times 64). */
export const WEBGPU_MAX_HEAD_DIM = 256;

const FLAT_MAIN = `@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u,
        @builtin(num_workgroups) nwg: vec3u) {
  let e = ${FLAT_INDEX};`;

/** WGSL: element `e` of `y` = RoPE of `x` (rows of `cols`), from the table at state[0]. */
function ropeBody(x: string, y: string, cols: string): string {
  return `{
  let d = e % p.headDim;
  if (d >= p.nRot) { ${y}[e] = ${x}[e]; return; }
  let half = p.nRot / 2u;
  let pos = state[0] + e / ${cols};
  var i = d / 2u;
  var a = e - (d & 1u);
  var b = a + 1u;
  if (p.neox != 0u) { i = d % half; a = e - d + i; b = a + half; }
  let c = tab[(pos * half + i) * 2u];
  let s = tab[(pos * half + i) * 2u + 1u];
  let x0 = ${x}[a];
  let x1 = ${x}[b];
  if (e == a) { ${y}[e] = fma(x0, c, -(x1 * s)); } else { ${y}[e] = fma(x0, s, x1 * c); }
  }`;
}

/**
 * RoPE from a table of (cos, sin) per position and pair (host-computed with the CPU's exact
 * angles): bindings x, y, tab, state, p; one invocation per element. `pair`: a second input
 * with the same parameters (a layer's q and k in one launch), bindings x, y, tab, state, p,
 * x2, y2; invocations past n run the second.
 */
export function ropeKernel(pair = false): KernelSource {
  const fields: ParamFields = [
    ["n", "u32"],
    ["cols", "u32"],
    ["headDim", "u32"],
    ["nRot", "u32"],
    ["neox", "u32"],
    ["n2", "u32"],
    ["cols2", "u32"],
  ];
  const second = pair
    ? `@group(0) @binding(5) var<storage, read> x2: array<f32>;
@group(0) @binding(6) var<storage, read_write> y2: array<f32>;`
    : "";
  const code = `
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<storage, read> tab: array<f32>;
@group(0) @binding(3) var<storage, read> state: array<u32>;
${paramStruct(fields, 4)}
${second}
const WG = 64u;
fn first(e: u32) ${ropeBody("x", "y", "p.cols")}
${pair ? `fn other(e: u32) ${ropeBody("x2", "y2", "p.cols2")}` : ""}
${FLAT_MAIN}
  if (e < p.n) { first(e); }${pair ? " else if (e < p.n + p.n2) { other(e - p.n); }" : ""}
}
`;
  return { code, fields, wg: 64 };
}

/** The cache element type and its WGSL prelude for `f16` (shader-f16) or not. */
function cacheType(f16: boolean): { decl: string; elem: string } {
  return f16 ? { decl: "enable f16;\n", elem: "f16" } : { decl: "", elem: "f32" };
}

/**
 * Writes the batch's K and V rows, rounded, at rows state[0].. of a cache layer: bindings k,
 * v, kc, vc, state, p; one invocation per element of the longer of the two.
 */
export function kvWriteKernel(f16: boolean): KernelSource {
  const { decl, elem } = cacheType(f16);
  const fields: ParamFields = [["nK", "u32"], ["nV", "u32"], ["kCols", "u32"], ["vCols", "u32"]];
  const code = `${decl}${WGSL_HALF}
@group(0) @binding(0) var<storage, read> k: array<f32>;
@group(0) @binding(1) var<storage, read> v: array<f32>;
@group(0) @binding(2) var<storage, read_write> kc: array<${elem}>;
@group(0) @binding(3) var<storage, read_write> vc: array<${elem}>;
@group(0) @binding(4) var<storage, read> state: array<u32>;
${paramStruct(fields, 5)}
const WG = 64u;
${FLAT_MAIN}
  if (e < p.nK) { kc[state[0] * p.kCols + e] = ${elem}(rh(k[e])); }
  if (e < p.nV) { vc[state[0] * p.vCols + e] = ${elem}(rh(v[e])); }
}
`;
  return { code, fields, wg: 64 };
}

/** Floats per (query, head, split) partial result: max, sum, then valueDim accumulators. */
export const partialStride = (valueDim: number) => valueDim + 2;

/**
 * One split of causal attention: bindings q, kc, vc, part, state, p; workgroup (split,
 * head, token). Query t sees cache rows 0 ..= state[0] + t.
 */
export function attnSplitKernel(f16: boolean): KernelSource {
  const { decl, elem } = cacheType(f16);
  const fields: ParamFields = [
    ["T", "u32"],
    ["nHead", "u32"],
    ["group", "u32"],
    ["hd", "u32"],
    ["vd", "u32"],
    ["kCols", "u32"],
    ["vCols", "u32"],
    ["nSplit", "u32"],
    ["scale", "f32"],
  ];
  const per = WEBGPU_MAX_HEAD_DIM / 64;
  const code = `${decl}${WGSL_HALF}
@group(0) @binding(0) var<storage, read> q: array<f32>;
@group(0) @binding(1) var<storage, read> kc: array<${elem}>;
@group(0) @binding(2) var<storage, read> vc: array<${elem}>;
@group(0) @binding(3) var<storage, read_write> part: array<f32>;
@group(0) @binding(4) var<storage, read> state: array<u32>;
${paramStruct(fields, 5)}
const WG = 64u;
const NEG = -1.0e30;
var<workgroup> qs: array<f32, ${WEBGPU_MAX_HEAD_DIM}>;
var<workgroup> pr: array<f32, 64>;
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid3: vec3u) {
  let lid = lid3.x;
  let sp = wid.x; let h = wid.y; let t = wid.z;
  let pos0 = state[0];
  let len = pos0 + t + 1u;
  let sl = (pos0 + p.T + p.nSplit - 1u) / p.nSplit;
  let start = sp * sl;
  let end = min(len, start + sl);
  let kvh = h / p.group;
  let qo = (t * p.nHead + h) * p.hd;
  for (var d = lid; d < p.hd; d += WG) { qs[d] = rh(q[qo + d]); }
  workgroupBarrier();
  var m = NEG;
  var l = 0.0;
  var acc: array<f32, ${per}>;
  for (var base = start; base < end; base += WG) {
    let r = base + lid;
    let valid = r < end;
    var s = NEG;
    if (valid) {
      let ko = r * p.kCols + kvh * p.hd;
      var dot = 0.0;
      for (var d = 0u; d < p.hd; d++) { dot += f32(kc[ko + d]) * qs[d]; }
      s = dot * p.scale;
    }
    pr[lid] = s;
    workgroupBarrier();
    var tm = NEG;
    for (var j = 0u; j < WG; j++) { tm = max(tm, pr[j]); }
    let nm = max(m, tm);
    let ms = exp(m - nm);
    workgroupBarrier();
    pr[lid] = select(0.0, exp(s - nm), valid);
    workgroupBarrier();
    var ts = 0.0;
    let cnt = min(WG, end - base);
    for (var j = 0u; j < cnt; j++) { ts += pr[j]; }
    l = l * ms + ts;
    for (var k = 0u; k < ${per}u; k++) {
      let d = lid + k * WG;
      if (d < p.vd) {
        var a = acc[k] * ms;
        let vo = base * p.vCols + kvh * p.vd + d;
        for (var j = 0u; j < cnt; j++) { a += pr[j] * f32(vc[vo + j * p.vCols]); }
        acc[k] = a;
      }
    }
    m = nm;
    workgroupBarrier();
  }
  let po = ((t * p.nHead + h) * p.nSplit + sp) * (p.vd + 2u);
  if (lid == 0u) { part[po] = m; part[po + 1u] = l; }
  for (var k = 0u; k < ${per}u; k++) {
    let d = lid + k * WG;
    if (d < p.vd) { part[po + 2u + d] = acc[k]; }
  }
}
`;
  return { code, fields, wg: 64 };
}

/** Merges the splits of each (head, token): bindings part, out, p; workgroup (head, token). */
export function attnCombineKernel(): KernelSource {
  const fields: ParamFields = [["nHead", "u32"], ["vd", "u32"], ["nSplit", "u32"]];
  const code = `
@group(0) @binding(0) var<storage, read> part: array<f32>;
@group(0) @binding(1) var<storage, read_write> o: array<f32>;
${paramStruct(fields, 2)}
const WG = 64u;
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid3: vec3u) {
  let h = wid.x; let t = wid.y; let lid = lid3.x;
  let base = (t * p.nHead + h) * p.nSplit * (p.vd + 2u);
  var mx = -1.0e30;
  for (var s = 0u; s < p.nSplit; s++) { mx = max(mx, part[base + s * (p.vd + 2u)]); }
  var l = 0.0;
  for (var s = 0u; s < p.nSplit; s++) {
    let so = base + s * (p.vd + 2u);
    l += part[so + 1u] * exp(part[so] - mx);
  }
  for (var d = lid; d < p.vd; d += WG) {
    var a = 0.0;
    for (var s = 0u; s < p.nSplit; s++) {
      let so = base + s * (p.vd + 2u);
      a += part[so + 2u + d] * exp(part[so] - mx);
    }
    o[(t * p.nHead + h) * p.vd + d] = select(0.0, a / l, l > 0.0);
  }
}
`;
  return { code, fields, wg: 64 };
}
