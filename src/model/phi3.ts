/**
 * Phi-3 (llama.cpp's phi3.cpp): the llama block with q, k and v in one `attn_qkv` product and
 * gate and up in one `ffn_up` product (gate first), q scaled by 1/sqrt(head_dim) before
 * attention, NeoX RoPE with LongRoPE frequency factors (`rope_factors_short` within the
 * training context, `rope_factors_long` past it) and `rope.scaling.attn_factor`.
 *
 * @module
 */
import type { Architecture } from "../core/architecture.ts";
import { buildLlamaGraph } from "./llama.ts";
import { resolveLlamaTensors } from "./llama_tensors.ts";

/** The Phi-3 architecture plugin. */
export const phi3Architecture: Architecture = {
  apiVersion: 1,
  name: "phi3",
  architectures: ["phi3"],
  description: "phi3: fused QKV and gate/up, pre-scaled q, LongRoPE factors",
  ropeType: () => "neox",
  build(config, tensors, metadata, { contextLength }) {
    const dims = new Map([...tensors].map(([n, s]) => [n, s.dims]));
    const t = resolveLlamaTensors(config, dims, { preScaleQ: true, metadata, contextLength });
    return { graph: (nTokens, output) => buildLlamaGraph(config, t, nTokens, output) };
  },
};
