/**
 * Builds the llama-family forward graph (llama incl. Llama 3's rope_freqs and tied output,
 * mistral, qwen2's QKV biases, qwen3's per-head q/k norms) from a model configuration and the
 * names of the tensors present in the file.
 *
 * @module
 */
import type { Architecture } from "../core/architecture.ts";
import { type Graph, GraphBuilder, type OutputMode } from "../core/graph.ts";
import type { ModelConfig } from "../gguf/model_config.ts";
import { headScale, ropeAttention } from "./_attention.ts";
import { type LlamaTensors, resolveLlamaTensors, ropeParams } from "./llama_tensors.ts";

export {
  checkShapes,
  expectedShapes,
  type LlamaTensors,
  moeConfig,
  resolveLlamaTensors,
  ropeParams,
} from "./llama_tensors.ts";

/** Architectures this builder runs. */
export const LLAMA_FAMILY: readonly string[] = ["llama", "mistral", "qwen2"];

/** The llama-family architecture plugin. */
export const llamaArchitecture: Architecture = {
  apiVersion: 1,
  name: "llama",
  architectures: LLAMA_FAMILY,
  description: "llama, mistral, qwen2: RMSNorm, RoPE, GQA attention, SwiGLU (qwen2: QKV biases)",
  // llama.cpp's llama_model_rope_type: qwen2 uses NeoX ordering.
  ropeType: (arch) => arch === "qwen2" ? "neox" : "normal",
  build(config, tensors, metadata) {
    const dims = new Map([...tensors].map(([n, s]) => [n, s.dims]));
    const t = resolveLlamaTensors(config, dims, { metadata });
    return { graph: (nTokens, output) => buildLlamaGraph(config, t, nTokens, output) };
  },
};

/**
 * The forward graph for `nTokens` tokens; `logits` "last" computes only the last row's
 * logits (generation), "all" every row's (scoring), "hidden" every row's final normalized
 * hidden state [T, dim] (embeddings).
 */
export function buildLlamaGraph(
  c: ModelConfig,
  t: LlamaTensors,
  nTokens: number,
  logits: OutputMode,
): Graph {
  const T = nTokens;
  const L = c.blockCount;
  const dim = c.embeddingLength;
  const qDim = c.headCount * c.keyLength;
  const kDim = c.headCountKV * c.keyLength;
  const vDim = c.headCountKV * c.valueLength;
  const rope = ropeParams(c);
  const b = new GraphBuilder(T, L);
  let x = b.push({ op: "embed", layer: -1, out: b.value(T, dim, "inp_embd"), weight: t.tokenEmbd });
  for (let l = 0; l < L; l++) {
    const p = `blk.${l}.`;
    let R = T; // rows from here on in this layer
    const mm = (x: number, name: string, cols: number, bias: boolean) =>
      b.push({
        op: "matmul",
        layer: l,
        out: b.value(R, cols, `${p}${name}`),
        x,
        weight: `${p}${name}.weight`,
        bias: bias ? `${p}${name}.bias` : undefined,
      });
    const h = b.push({
      op: "rms_norm",
      layer: l,
      out: b.value(T, dim, `${p}attn_norm`),
      x,
      weight: `${p}attn_norm.weight`,
      eps: c.rmsNormEps,
    });
    const bias = t.qkvBias[l];
    // Per-head RMSNorm of q and k before RoPE (qwen3).
    const headNorm = (x: number, which: "q" | "k", cols: number) =>
      t.qkNorm[l]
        ? b.push({
          op: "rms_norm",
          layer: l,
          out: b.value(T, cols, `${p}${which}_norm`),
          x,
          weight: `${p}attn_${which}_norm.weight`,
          eps: c.rmsNormEps,
          groupSize: c.keyLength,
        })
        : x;
    // Column ranges of a fused product (Phi-3's attn_qkv and ffn_up).
    const slice = (x: number, rows: number, offset: number, cols: number, name: string) =>
      b.push({ op: "slice", layer: l, out: b.value(rows, cols, `${p}${name}`), x, offset });
    let q1: number, k1: number, v: number;
    if (t.fusedQkv) {
      const qkv = mm(h, "attn_qkv", qDim + kDim + vDim, false);
      q1 = slice(qkv, T, 0, qDim, "q");
      k1 = slice(qkv, T, qDim, kDim, "k");
      v = slice(qkv, T, qDim + kDim, vDim, "v");
    } else {
      q1 = mm(h, "attn_q", qDim, bias);
      k1 = mm(h, "attn_k", kDim, bias);
      v = mm(h, "attn_v", vDim, bias);
    }
    const q0 = headNorm(q1, "q", qDim);
    const k0 = headNorm(k1, "k", kDim);
    const a = ropeAttention(b, c, l, { q: q0, k: k0, v }, {
      rope,
      ...(t.ropeFreqs ? { freqFactors: t.ropeFreqs } : {}),
      // Phi-3 applies the head scale to q (ggml_scale) and attends with scale 1.
      ...(t.preScaleQ ? { qScale: headScale(c.keyLength) } : {}),
    });
    let o = mm(a, "attn_output", dim, false);
    if (l === L - 1 && logits === "last" && T > 1) {
      // As llama.cpp's inp_out_ids: the last layer's FFN runs on the output row only.
      x = b.push({ op: "last_row", layer: l, out: b.value(1, dim, `${p}last_inp`), x });
      o = b.push({ op: "last_row", layer: l, out: b.value(1, dim, `${p}last_attn`), x: o });
      R = 1;
    }
    x = b.push({ op: "add", layer: l, out: b.value(R, dim, `${p}attn_res`), a: x, b: o });
    const h2 = b.push({
      op: "rms_norm",
      layer: l,
      out: b.value(R, dim, `${p}ffn_norm`),
      x,
      weight: `${p}ffn_norm.weight`,
      eps: c.rmsNormEps,
    });
    let d: number;
    if (t.moe) {
      d = b.push({
        op: "moe",
        layer: l,
        out: b.value(R, dim, `${p}ffn_moe`),
        x: h2,
        router: `${p}ffn_gate_inp.weight`,
        gate: `${p}ffn_gate_exps.weight`,
        up: `${p}ffn_up_exps.weight`,
        down: `${p}ffn_down_exps.weight`,
        nExpert: t.moe.nExpert,
        nUsed: t.moe.nUsed,
        normWeights: true,
        weightsScale: t.moe.weightsScale,
      });
    } else {
      const ff = c.feedForwardLength;
      let g: number, u: number;
      if (t.fusedGateUp) {
        const gu = mm(h2, "ffn_up", 2 * ff, false);
        g = slice(gu, R, 0, ff, "ffn_gate_half");
        u = slice(gu, R, ff, ff, "ffn_up_half");
      } else {
        g = mm(h2, "ffn_gate", ff, false);
        u = mm(h2, "ffn_up", ff, false);
      }
      const s = b.push({
        op: "swiglu",
        layer: l,
        out: b.value(R, c.feedForwardLength, `${p}ffn_act`),
        gate: g,
        up: u,
      });
      d = mm(s, "ffn_down", dim, false);
    }
    x = b.push({ op: "add", layer: l, out: b.value(R, dim, `${p}ffn_res`), a: x, b: d });
  }
  const rows = logits === "last" ? 1 : T;
  if (logits === "last" && T > 1 && L === 0) {
    x = b.push({ op: "last_row", layer: L, out: b.value(1, dim, "last_row"), x });
  }
  const n = b.push({
    op: "rms_norm",
    layer: L,
    out: b.value(rows, dim, "output_norm"),
    x,
    weight: t.outputNorm,
    eps: c.rmsNormEps,
  });
  if (logits === "hidden") return b.build(n);
  const out = b.push({
    op: "matmul",
    layer: L,
    out: b.value(rows, c.vocabSize, "logits"),
    x: n,
    weight: t.output,
  });
  return b.build(out);
}
