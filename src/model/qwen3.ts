/**
 * Qwen3 dense (llama.cpp's qwen3.cpp): the llama block with per-head RMSNorm of q and k
 * (`attn_q_norm`, `attn_k_norm`, one weight of key_length values each) before NeoX RoPE, no
 * QKV biases, explicit key/value lengths, and an output head tied to the embedding when the
 * file has no output.weight.
 *
 * @module
 */
import type { Architecture } from "../core/architecture.ts";
import { buildLlamaGraph, resolveLlamaTensors } from "./llama.ts";

/** The Qwen3 architecture plugin. */
export const qwen3Architecture: Architecture = {
  apiVersion: 1,
  name: "qwen3",
  architectures: ["qwen3"],
  description: "qwen3: llama block with per-head q/k RMSNorm, NeoX RoPE",
  ropeType: () => "neox",
  build(config, tensors) {
    const dims = new Map([...tensors].map(([n, s]) => [n, s.dims]));
    const t = resolveLlamaTensors(config, dims, { requireQkNorm: true });
    return { graph: (nTokens, output) => buildLlamaGraph(config, t, nTokens, output) };
  },
};

/** Qwen3-MoE: the Qwen3 block with an expert FFN (softmax gating, normalized top-k). */
export const qwen3MoeArchitecture: Architecture = {
  ...qwen3Architecture,
  name: "qwen3moe",
  architectures: ["qwen3moe"],
  description: "qwen3moe: qwen3 attention, mixture-of-experts FFN",
  build(config, tensors, metadata) {
    const dims = new Map([...tensors].map(([n, s]) => [n, s.dims]));
    const t = resolveLlamaTensors(config, dims, {
      requireQkNorm: true,
      requireMoe: true,
      metadata,
    });
    return { graph: (nTokens, output) => buildLlamaGraph(config, t, nTokens, output) };
  },
};
