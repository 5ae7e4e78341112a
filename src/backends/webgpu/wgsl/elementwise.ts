/**
 * Element-wise kernels from one template (one invocation per output element, bindings a, [b,]
 * y, p, [tab]), and the greedy-sampling kernel of the on-device decode loop.
 *
 * @module
 */
import { WGSL_HALF } from "./common.ts";
import { FLAT_INDEX, type KernelSource, type ParamFields, paramStruct } from "./params.ts";

/** The element-wise ops and their WGSL (a, b: inputs; y: output; e: element). */
const MAPS = {
  // ggml_vec_swiglu_f32: silu(g) * up with silu(g) = g / (1 + e^-g).
  swiglu: { inputs: 2, table: false, body: "let g = a[e]; y[e] = (g / (1.0 + exp(-g))) * b[e];" },
  // GGML_GELU_FP16: the half table's value at half(x) inside (-10, 10).
  geglu: { inputs: 2, table: true, body: "y[e] = gelu(a[e]) * b[e];" },
  gelu: { inputs: 1, table: true, body: "y[e] = gelu(a[e]);" },
  add: { inputs: 2, table: false, body: "y[e] = a[e] + b[e];" },
  scale: { inputs: 1, table: false, body: "y[e] = a[e] * p.s;" },
  tanh: { inputs: 1, table: false, body: "y[e] = tanh(a[e]);" },
  // Columns off .. off + cols of rows of xc values.
  slice: {
    inputs: 1,
    table: false,
    body: "y[e] = a[(e / p.cols) * p.xc + p.off + e % p.cols];",
  },
} as const;

/** An element-wise op name. */
export type MapOp = keyof typeof MAPS;

/** Inputs `op` reads. */
export const mapInputs = (op: MapOp): number => MAPS[op].inputs;

/** True when `op` reads the GELU table (binding after p). */
export const mapUsesTable = (op: MapOp): boolean => MAPS[op].table;

/** The kernel of element-wise `op`. */
export function mapKernel(op: MapOp): KernelSource {
  const m = MAPS[op];
  const fields: ParamFields = [["n", "u32"], ["s", "f32"], ["cols", "u32"], ["xc", "u32"], [
    "off",
    "u32",
  ]];
  let b = 0;
  const bind = (decl: string) => `@group(0) @binding(${b++}) ${decl};`;
  const lines = [bind("var<storage, read> a: array<f32>")];
  if (m.inputs === 2) lines.push(bind("var<storage, read> b: array<f32>"));
  lines.push(bind("var<storage, read_write> y: array<f32>"));
  lines.push(paramStruct(fields, b++));
  if (m.table) lines.push(bind("var<storage, read> tab: array<f32>"));
  const gelu = m.table
    ? `${WGSL_HALF}
fn gelu(x: f32) -> f32 {
  if (x <= -10.0) { return 0.0; }
  if (x >= 10.0) { return x; }
  return tab[hbits(x)];
}`
    : "";
  const code = `${lines.join("\n")}
${gelu}
const WG = 64u;
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u,
        @builtin(num_workgroups) nwg: vec3u) {
  let e = ${FLAT_INDEX};
  if (e >= p.n) { return; }
  ${m.body}
}
`;
  return { code, fields, wg: 64 };
}

/**
 * Greedy step of the on-device decode loop: the first index of the largest logit becomes the
 * next input token (tokens[0]) and entry state[1] of `picked`; the position state[0] and the
 * step counter state[1] advance. Bindings logits, tokens, picked, state, p; one workgroup.
 */
export function argmaxKernel(): KernelSource {
  const fields: ParamFields = [["n", "u32"]];
  const code = `
@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read_write> tokens: array<i32>;
@group(0) @binding(2) var<storage, read_write> picked: array<i32>;
@group(0) @binding(3) var<storage, read_write> state: array<u32>;
${paramStruct(fields, 4)}
const WG = 256u;
var<workgroup> bv: array<f32, 256>;
var<workgroup> bi: array<u32, 256>;
@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_id) lid3: vec3u) {
  let lid = lid3.x;
  var v = -3.4e38;
  var ix = 0xffffffffu;
  for (var i = lid; i < p.n; i += WG) {
    let x = logits[i];
    if (x > v) { v = x; ix = i; }
  }
  bv[lid] = v; bi[lid] = ix;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      let ov = bv[lid + s]; let oi = bi[lid + s];
      if (ov > bv[lid] || (ov == bv[lid] && oi < bi[lid])) { bv[lid] = ov; bi[lid] = oi; }
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let tok = i32(select(bi[0], 0u, bi[0] == 0xffffffffu));
    tokens[0] = tok;
    picked[state[1]] = tok;
    state[0] = state[0] + 1u;
    state[1] = state[1] + 1u;
  }
}
`;
  return { code, fields, wg: 256 };
}
