/**
 * The attention part every built-in block shares: RoPE on q and k, an optional ggml_scale of q
 * (architectures that pre-scale q and attend with scale 1), and the attention node.
 *
 * @module
 */
import type { GraphBuilder, RopeParams } from "../core/graph.ts";
import type { ModelConfig } from "../gguf/model_config.ts";

/** How one layer attends. */
export interface AttentionOptions {
  readonly rope: RopeParams;
  /** RoPE frequency-factor weight. */
  readonly freqFactors?: string;
  /** ggml_scale(q, qScale) before attention, which then uses scale 1. */
  readonly qScale?: number;
  readonly window?: number;
  readonly softcap?: number;
}

/** llama.cpp's 1.0f / sqrtf(float(n_embd_head)): two float32 roundings. */
export function headScale(headDim: number): number {
  return Math.fround(1 / Math.fround(Math.sqrt(headDim)));
}

/** Pushes rope(q), rope(k), the optional q scale and attention for layer `l`; returns its output. */
export function ropeAttention(
  b: GraphBuilder,
  c: ModelConfig,
  l: number,
  x: { q: number; k: number; v: number },
  o: AttentionOptions,
): number {
  const p = `blk.${l}.`;
  const T = b.nTokens;
  const qDim = c.headCount * c.keyLength, kDim = c.headCountKV * c.keyLength;
  const ff = o.freqFactors ? { freqFactors: o.freqFactors } : {};
  const rope = (v: number, cols: number, nHeads: number, name: string) =>
    b.push({
      op: "rope",
      layer: l,
      out: b.value(T, cols, `${p}${name}`),
      x: v,
      nHeads,
      headDim: c.keyLength,
      rope: o.rope,
      ...ff,
    });
  const qr = rope(x.q, qDim, c.headCount, "q_rope");
  const k = rope(x.k, kDim, c.headCountKV, "k_rope");
  const q = o.qScale === undefined
    ? qr
    : b.push({ op: "scale", layer: l, out: b.value(T, qDim, `${p}q_scaled`), x: qr, s: o.qScale });
  return b.push({
    op: "attention",
    layer: l,
    out: b.value(T, c.headCount * c.valueLength, `${p}attn`),
    q,
    k,
    v: x.v,
    nHead: c.headCount,
    nHeadKV: c.headCountKV,
    headDim: c.keyLength,
    valueDim: c.valueLength,
    scale: o.qScale === undefined ? headScale(c.keyLength) : 1,
    ...(o.window === undefined ? {} : { window: o.window }),
    ...(o.softcap === undefined ? {} : { softcap: o.softcap }),
  });
}
