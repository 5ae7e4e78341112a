/**
 * gpt-oss (llama.cpp's openai-moe.cpp, `general.architecture` "gpt-oss"): per block RMSNorm →
 * q/k/v with biases, NeoX RoPE, attention scaled by 1/sqrt(n_rot) with a learned sink logit per
 * head (`attn_sinks.weight`) and a sliding window on every other layer (layer 0 first, window
 * `attention.sliding_window`), output projection with bias, residual; RMSNorm
 * (`post_attention_norm`) → mixture of experts: router with bias, the top `expert_used_count`
 * logits softmaxed among themselves (SOFTMAX_WEIGHT gating), per-expert gate/up/down products
 * with biases and swiglu_oai between them; residual; final RMSNorm and an untied head. Expert
 * weights are MXFP4 in the converter's files; any type the CPU multiplies works.
 *
 * @module
 */
import type { Architecture, TensorShape } from "../core/architecture.ts";
import { ModelConfigError } from "../core/errors.ts";
import { type Graph, GraphBuilder, type OutputMode } from "../core/graph.ts";
import type { MetaValue } from "../gguf/gguf_file.ts";
import type { ModelConfig } from "../gguf/model_config.ts";
import { headScale } from "./_attention.ts";
import { checkShapes, type MoeConfig, moeConfig, ropeParams } from "./llama_tensors.ts";

/** gpt-oss settings beyond ModelConfig. */
export interface GptOssOptions {
  readonly moe: MoeConfig;
  /** Sliding window of the local layers. */
  readonly window: number;
  /** Layer l is local when l % pattern < pattern - 1 (llama.cpp's set_swa_pattern). */
  readonly pattern: number;
  /** RoPE base of the local layers (rope.freq_base_swa, default the global one). */
  readonly localFreqBase: number;
  /** Per layer: whether attn_q/k/v have biases (the converter writes them). */
  readonly qkvBias: readonly boolean[];
}

function uint(md: ReadonlyMap<string, MetaValue>, key: string, def?: number): number {
  const v = md.get(key);
  const n = typeof v === "bigint" ? Number(v) : v ?? def;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > 1 << 24) {
    throw new ModelConfigError(
      v === undefined ? "MISSING_METADATA" : "BAD_METADATA",
      `metadata ${key} must be an integer >= 1`,
      { key, ...(v === undefined ? {} : { actual: String(v) }) },
    );
  }
  return n;
}

/** gpt-oss options from metadata and the tensor table. */
export function gptOssOptions(
  c: ModelConfig,
  md: ReadonlyMap<string, MetaValue>,
  tensors: ReadonlyMap<string, TensorShape>,
): GptOssOptions {
  const a = c.arch;
  const moe = moeConfig(c, md);
  if (!moe) {
    throw new ModelConfigError("MISSING_METADATA", `${a}.expert_count is required`, {
      key: `${a}.expert_count`,
    });
  }
  const pattern = md.get(`${a}.attention.sliding_window_pattern`);
  if (pattern !== undefined && typeof pattern !== "number") {
    throw new ModelConfigError(
      "BAD_METADATA",
      "per-layer sliding_window_pattern arrays are not supported",
      { key: `${a}.attention.sliding_window_pattern` },
    );
  }
  const base = md.get(`${a}.rope.freq_base_swa`);
  return {
    moe,
    window: uint(md, `${a}.attention.sliding_window`),
    pattern: uint(md, `${a}.attention.sliding_window_pattern`, 2),
    localFreqBase: typeof base === "number" ? base : c.ropeFreqBase,
    qkvBias: Array.from({ length: c.blockCount }, (_, l) => tensors.has(`blk.${l}.attn_q.bias`)),
  };
}

/** Expected [cols, rows(, experts)] of every tensor the graph reads. */
function shapes(c: ModelConfig, o: GptOssOptions): Map<string, number[]> {
  const m = new Map<string, number[]>();
  const dim = c.embeddingLength, { nExpert: E, ff } = o.moe;
  const qDim = c.headCount * c.keyLength, kDim = c.headCountKV * c.keyLength;
  const vDim = c.headCountKV * c.valueLength;
  m.set("token_embd.weight", [dim, c.vocabSize]);
  m.set("output.weight", [dim, c.vocabSize]);
  m.set("output_norm.weight", [dim]);
  for (let l = 0; l < c.blockCount; l++) {
    const p = `blk.${l}.`;
    m.set(p + "attn_norm.weight", [dim]);
    m.set(p + "post_attention_norm.weight", [dim]);
    for (const [n, rows] of [["q", qDim], ["k", kDim], ["v", vDim]] as const) {
      m.set(`${p}attn_${n}.weight`, [dim, rows]);
      if (o.qkvBias[l]) m.set(`${p}attn_${n}.bias`, [rows]);
    }
    m.set(p + "attn_output.weight", [c.headCount * c.valueLength, dim]);
    m.set(p + "attn_output.bias", [dim]);
    m.set(p + "attn_sinks.weight", [c.headCount]);
    m.set(p + "ffn_gate_inp.weight", [dim, E]);
    m.set(p + "ffn_gate_inp.bias", [E]);
    for (const n of ["gate", "up"]) {
      m.set(`${p}ffn_${n}_exps.weight`, [dim, ff, E]);
      m.set(`${p}ffn_${n}_exps.bias`, [ff, E]);
    }
    m.set(p + "ffn_down_exps.weight", [ff, dim, E]);
    m.set(p + "ffn_down_exps.bias", [dim, E]);
  }
  return m;
}

/** The gpt-oss forward graph for `nTokens` tokens. */
export function buildGptOssGraph(
  c: ModelConfig,
  o: GptOssOptions,
  nTokens: number,
  output: OutputMode,
): Graph {
  const T = nTokens, L = c.blockCount, dim = c.embeddingLength;
  const qDim = c.headCount * c.keyLength, kDim = c.headCountKV * c.keyLength;
  const vDim = c.headCountKV * c.valueLength;
  const globalRope = ropeParams(c);
  const localRope = { ...globalRope, freqBase: o.localFreqBase };
  const b = new GraphBuilder(T, L);
  const norm = (layer: number, x: number, rows: number, w: string) =>
    b.push({ op: "rms_norm", layer, out: b.value(rows, dim, w), x, weight: w, eps: c.rmsNormEps });
  const mm = (layer: number, x: number, rows: number, cols: number, w: string, bias?: string) =>
    b.push({
      op: "matmul",
      layer,
      out: b.value(rows, cols, w),
      x,
      weight: w,
      ...(bias ? { bias } : {}),
    });
  let x = b.push({
    op: "embed",
    layer: -1,
    out: b.value(T, dim, "inp_embd"),
    weight: "token_embd.weight",
  });
  for (let l = 0; l < L; l++) {
    const p = `blk.${l}.`;
    const local = l % o.pattern < o.pattern - 1;
    const bias = (n: string) => o.qkvBias[l] ? `${p}attn_${n}.bias` : undefined;
    let R = T;
    const h = norm(l, x, T, `${p}attn_norm.weight`);
    const q = mm(l, h, T, qDim, `${p}attn_q.weight`, bias("q"));
    const k = mm(l, h, T, kDim, `${p}attn_k.weight`, bias("k"));
    const v = mm(l, h, T, vDim, `${p}attn_v.weight`, bias("v"));
    const rope = (x: number, cols: number, nHeads: number, name: string) =>
      b.push({
        op: "rope",
        layer: l,
        out: b.value(T, cols, `${p}${name}`),
        x,
        nHeads,
        headDim: c.keyLength,
        rope: local ? localRope : globalRope,
      });
    const a = b.push({
      op: "attention",
      layer: l,
      out: b.value(T, c.headCount * c.valueLength, `${p}attn`),
      q: rope(q, qDim, c.headCount, "q_rope"),
      k: rope(k, kDim, c.headCountKV, "k_rope"),
      v,
      nHead: c.headCount,
      nHeadKV: c.headCountKV,
      headDim: c.keyLength,
      valueDim: c.valueLength,
      // build_attn's kq_scale, 1.0f/sqrtf(float(n_rot)).
      scale: headScale(c.ropeDimensionCount),
      sinks: `${p}attn_sinks.weight`,
      ...(local ? { window: o.window } : {}),
    });
    let cur = mm(l, a, T, dim, `${p}attn_output.weight`, `${p}attn_output.bias`);
    if (l === L - 1 && output === "last" && T > 1) {
      cur = b.push({ op: "last_row", layer: l, out: b.value(1, dim, `${p}last_attn`), x: cur });
      x = b.push({ op: "last_row", layer: l, out: b.value(1, dim, `${p}last_inp`), x });
      R = 1;
    }
    const ffnInp = b.push({
      op: "add",
      layer: l,
      out: b.value(R, dim, `${p}ffn_inp`),
      a: cur,
      b: x,
    });
    const h2 = norm(l, ffnInp, R, `${p}post_attention_norm.weight`);
    const e = b.push({
      op: "moe",
      layer: l,
      out: b.value(R, dim, `${p}ffn_moe`),
      x: h2,
      router: `${p}ffn_gate_inp.weight`,
      gate: `${p}ffn_gate_exps.weight`,
      up: `${p}ffn_up_exps.weight`,
      down: `${p}ffn_down_exps.weight`,
      nExpert: o.moe.nExpert,
      nUsed: o.moe.nUsed,
      normWeights: false,
      weightsScale: o.moe.weightsScale,
      gating: "softmax_weight",
      act: "swiglu_oai",
      routerBias: `${p}ffn_gate_inp.bias`,
      gateBias: `${p}ffn_gate_exps.bias`,
      upBias: `${p}ffn_up_exps.bias`,
      downBias: `${p}ffn_down_exps.bias`,
    });
    x = b.push({ op: "add", layer: l, out: b.value(R, dim, `${p}l_out`), a: e, b: ffnInp });
  }
  const rows = output === "last" ? 1 : T;
  if (output === "last" && T > 1 && L === 0) {
    x = b.push({ op: "last_row", layer: L, out: b.value(1, dim, "last_row"), x });
  }
  const n = norm(L, x, rows, "output_norm.weight");
  if (output === "hidden") return b.build(n);
  return b.build(mm(L, n, rows, c.vocabSize, "output.weight"));
}

/** The gpt-oss architecture plugin. */
export const gptOssArchitecture: Architecture = {
  apiVersion: 1,
  name: "gpt-oss",
  architectures: ["gpt-oss"],
  description: "gpt-oss: attention sinks, alternating sliding window, biases, MoE with swiglu_oai",
  ropeType: () => "neox",
  build(config, tensors, metadata) {
    const o = gptOssOptions(config, metadata, tensors);
    checkShapes(shapes(config, o), new Map([...tensors].map(([n, s]) => [n, s.dims])));
    return { graph: (nTokens, output) => buildGptOssGraph(config, o, nTokens, output) };
  },
};
