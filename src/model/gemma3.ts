/**
 * Gemma 3 (llama.cpp's gemma3.cpp): embeddings scaled by sqrt(n_embd); per block RMSNorm →
 * q/k/v, per-head q/k RMSNorm, NeoX RoPE (sliding-window layers with their own base and no
 * scaling), q scaled by 1/sqrt(key_length), attention (sliding window on the local layers: 5 of
 * every 6 by default), output projection, post-attention RMSNorm, residual; RMSNorm → GeGLU FFN
 * (tanh GELU) → post-FFN RMSNorm, residual; final RMSNorm and a head tied to the embedding when
 * the file has no output.weight. Norm weights are stored with Gemma's +1 already applied by
 * llama.cpp's converter.
 *
 * @module
 */
import type { Architecture, TensorShape } from "../core/architecture.ts";
import { ModelConfigError } from "../core/errors.ts";
import { type Graph, GraphBuilder, type OutputMode, type RopeParams } from "../core/graph.ts";
import type { MetaValue } from "../gguf/gguf_file.ts";
import type { ModelConfig } from "../gguf/model_config.ts";
import { checkShapes, ropeParams } from "./llama.ts";

/** Gemma 3 settings beyond ModelConfig. */
export interface Gemma3Options {
  /** Sliding window of the local layers (0: none). */
  readonly window: number;
  /** Every `pattern`-th layer (the last of each group) is global. */
  readonly pattern: number;
  /** RoPE base of the local layers. */
  readonly localFreqBase: number;
  /** Whether the file has an output.weight (else the head is the embedding). */
  readonly output: string;
}

function num(md: ReadonlyMap<string, MetaValue>, key: string, def: number): number {
  const v = md.get(key);
  if (v === undefined) return def;
  const n = typeof v === "bigint" ? Number(v) : v;
  if (typeof n !== "number" || !Number.isFinite(n) || n < 0) {
    throw new ModelConfigError("BAD_METADATA", `metadata ${key} must be a number >= 0`, {
      key,
      actual: String(v),
    });
  }
  return n;
}

/** Gemma 3 options from metadata (llama.cpp's defaults: pattern 6, local base 10000). */
export function gemma3Options(
  c: ModelConfig,
  md: ReadonlyMap<string, MetaValue>,
  tensors: ReadonlyMap<string, TensorShape>,
): Gemma3Options {
  const a = c.arch;
  const softcap = num(md, `${a}.final_logit_softcapping`, 0);
  if (softcap !== 0) {
    throw new ModelConfigError(
      "BAD_METADATA",
      `${a}.final_logit_softcapping ${softcap} is not supported yet`,
      { key: `${a}.final_logit_softcapping`, actual: softcap, expected: 0 },
    );
  }
  if (
    md.has(`${a}.attention.sliding_window_pattern`) &&
    typeof md.get(`${a}.attention.sliding_window_pattern`) !== "number"
  ) {
    throw new ModelConfigError(
      "BAD_METADATA",
      "per-layer sliding_window_pattern arrays are not supported",
      {
        key: `${a}.attention.sliding_window_pattern`,
      },
    );
  }
  return {
    window: num(md, `${a}.attention.sliding_window`, 0),
    pattern: num(md, `${a}.attention.sliding_window_pattern`, 6),
    localFreqBase: num(md, `${a}.rope.freq_base_swa`, 10000),
    output: tensors.has("output.weight") ? "output.weight" : "token_embd.weight",
  };
}

/** Expected [cols, rows] of every tensor the Gemma 3 graph reads. */
function shapes(c: ModelConfig, o: Gemma3Options): Map<string, number[]> {
  const m = new Map<string, number[]>();
  const dim = c.embeddingLength, ff = c.feedForwardLength;
  const qDim = c.headCount * c.keyLength, kDim = c.headCountKV * c.keyLength;
  m.set("token_embd.weight", [dim, c.vocabSize]);
  m.set(o.output, [dim, c.vocabSize]);
  m.set("output_norm.weight", [dim]);
  for (let l = 0; l < c.blockCount; l++) {
    const p = `blk.${l}.`;
    for (const n of ["attn_norm", "post_attention_norm", "ffn_norm", "post_ffw_norm"]) {
      m.set(`${p}${n}.weight`, [dim]);
    }
    m.set(p + "attn_q.weight", [dim, qDim]);
    m.set(p + "attn_k.weight", [dim, kDim]);
    m.set(p + "attn_v.weight", [dim, c.headCountKV * c.valueLength]);
    m.set(p + "attn_q_norm.weight", [c.keyLength]);
    m.set(p + "attn_k_norm.weight", [c.keyLength]);
    m.set(p + "attn_output.weight", [c.headCount * c.valueLength, dim]);
    m.set(p + "ffn_gate.weight", [dim, ff]);
    m.set(p + "ffn_up.weight", [dim, ff]);
    m.set(p + "ffn_down.weight", [ff, dim]);
  }
  return m;
}

/** Whether layer `l` uses the sliding window (llama.cpp's set_swa_pattern, dense last). */
export function isLocalLayer(o: Gemma3Options, l: number): boolean {
  return o.window > 0 && (o.pattern === 0 || l % o.pattern < o.pattern - 1);
}

/** The Gemma 3 forward graph for `nTokens` tokens. */
export function buildGemma3Graph(
  c: ModelConfig,
  o: Gemma3Options,
  nTokens: number,
  output: OutputMode,
): Graph {
  const T = nTokens, L = c.blockCount, dim = c.embeddingLength;
  const qDim = c.headCount * c.keyLength, kDim = c.headCountKV * c.keyLength;
  const vDim = c.headCountKV * c.valueLength, aDim = c.headCount * c.valueLength;
  const f = Math.fround;
  const globalRope = ropeParams(c);
  const localRope: RopeParams = { ...globalRope, freqBase: o.localFreqBase, freqScale: 1 };
  const b = new GraphBuilder(T, L);
  const norm = (layer: number, x: number, rows: number, cols: number, w: string, g?: number) =>
    b.push({
      op: "rms_norm",
      layer,
      out: b.value(rows, cols, w),
      x,
      weight: w,
      eps: c.rmsNormEps,
      ...(g === undefined ? {} : { groupSize: g }),
    });
  const mm = (layer: number, x: number, rows: number, cols: number, w: string) =>
    b.push({ op: "matmul", layer, out: b.value(rows, cols, w), x, weight: w });
  const e = b.push({
    op: "embed",
    layer: -1,
    out: b.value(T, dim, "inp_embd"),
    weight: "token_embd.weight",
  });
  // ggml_scale(inpL, sqrtf(n_embd)).
  let x = b.push({
    op: "scale",
    layer: -1,
    out: b.value(T, dim, "inp_scaled"),
    x: e,
    s: f(Math.sqrt(f(dim))),
  });
  for (let l = 0; l < L; l++) {
    const p = `blk.${l}.`;
    const local = isLocalLayer(o, l);
    const rope = local ? localRope : globalRope;
    let R = T;
    const h = norm(l, x, T, dim, `${p}attn_norm.weight`);
    const q0 = norm(
      l,
      mm(l, h, T, qDim, `${p}attn_q.weight`),
      T,
      qDim,
      `${p}attn_q_norm.weight`,
      c.keyLength,
    );
    const k0 = norm(
      l,
      mm(l, h, T, kDim, `${p}attn_k.weight`),
      T,
      kDim,
      `${p}attn_k_norm.weight`,
      c.keyLength,
    );
    const v = mm(l, h, T, vDim, `${p}attn_v.weight`);
    const qr = b.push({
      op: "rope",
      layer: l,
      out: b.value(T, qDim, `${p}q_rope`),
      x: q0,
      nHeads: c.headCount,
      headDim: c.keyLength,
      rope,
    });
    const k = b.push({
      op: "rope",
      layer: l,
      out: b.value(T, kDim, `${p}k_rope`),
      x: k0,
      nHeads: c.headCountKV,
      headDim: c.keyLength,
      rope,
    });
    // Qcur = ggml_scale(Qcur, 1/sqrt(head_dim)), then attention with scale 1.
    const q = b.push({
      op: "scale",
      layer: l,
      out: b.value(T, qDim, `${p}q_scaled`),
      x: qr,
      s: f(1 / f(Math.sqrt(c.keyLength))),
    });
    const a = b.push({
      op: "attention",
      layer: l,
      out: b.value(T, aDim, `${p}attn`),
      q,
      k,
      v,
      nHead: c.headCount,
      nHeadKV: c.headCountKV,
      headDim: c.keyLength,
      valueDim: c.valueLength,
      scale: 1,
      ...(local ? { window: o.window } : {}),
    });
    let cur = mm(l, a, T, dim, `${p}attn_output.weight`);
    if (l === L - 1 && output === "last" && T > 1) {
      cur = b.push({ op: "last_row", layer: l, out: b.value(1, dim, `${p}last_attn`), x: cur });
      x = b.push({ op: "last_row", layer: l, out: b.value(1, dim, `${p}last_inp`), x });
      R = 1;
    }
    cur = norm(l, cur, R, dim, `${p}post_attention_norm.weight`);
    const sa = b.push({ op: "add", layer: l, out: b.value(R, dim, `${p}sa_out`), a: cur, b: x });
    const h2 = norm(l, sa, R, dim, `${p}ffn_norm.weight`);
    const g = mm(l, h2, R, c.feedForwardLength, `${p}ffn_gate.weight`);
    const u = mm(l, h2, R, c.feedForwardLength, `${p}ffn_up.weight`);
    const act = b.push({
      op: "geglu",
      layer: l,
      out: b.value(R, c.feedForwardLength, `${p}ffn_act`),
      gate: g,
      up: u,
    });
    const d = norm(
      l,
      mm(l, act, R, dim, `${p}ffn_down.weight`),
      R,
      dim,
      `${p}post_ffw_norm.weight`,
    );
    x = b.push({ op: "add", layer: l, out: b.value(R, dim, `${p}l_out`), a: d, b: sa });
  }
  const rows = output === "last" ? 1 : T;
  if (output === "last" && T > 1 && L === 0) {
    x = b.push({ op: "last_row", layer: L, out: b.value(1, dim, "last_row"), x });
  }
  const n = norm(L, x, rows, dim, "output_norm.weight");
  if (output === "hidden") return b.build(n);
  return b.build(mm(L, n, rows, c.vocabSize, o.output));
}

/** The Gemma 3 architecture plugin. */
export const gemma3Architecture: Architecture = {
  apiVersion: 1,
  name: "gemma3",
  architectures: ["gemma3"],
  description: "gemma3: scaled embeddings, q/k norms, post norms, GeGLU, 5:1 sliding window",
  ropeType: () => "neox",
  build(config, tensors, metadata) {
    const o = gemma3Options(config, metadata, tensors);
    checkShapes(shapes(config, o), new Map([...tensors].map(([n, s]) => [n, s.dims])));
    return { graph: (nTokens, output) => buildGemma3Graph(config, o, nTokens, output) };
  },
};
