/**
 * BERT encoders (llama.cpp's bert.cpp, architecture "bert"): token + token-type (row 0) +
 * absolute position embeddings, LayerNorm; per layer q/k/v with biases, non-causal attention
 * over the whole input, output projection with bias, residual, LayerNorm, GELU FFN with
 * biases, residual, LayerNorm. No LM head: the graphs give hidden states, pooled as the file's
 * `pooling_type` says (mean, CLS or last token).
 *
 * @module
 */
import type { Architecture } from "../core/architecture.ts";
import { ModelConfigError } from "../core/errors.ts";
import { type Graph, GraphBuilder, type OutputMode } from "../core/graph.ts";
import type { MetaValue } from "../gguf/gguf_file.ts";
import type { ModelConfig } from "../gguf/model_config.ts";
import { headScale } from "./_attention.ts";
import { checkShapes } from "./llama_tensors.ts";

/** llama.cpp's pooling_type values. */
const POOLING = { 0: "none", 1: "mean", 2: "cls", 3: "last" } as const;

/** Expected [cols, rows] of every tensor the BERT graph reads. */
function shapes(c: ModelConfig, types: boolean, positions: number): Map<string, number[]> {
  const d = c.embeddingLength, ff = c.feedForwardLength;
  const m = new Map<string, number[]>([
    ["token_embd.weight", [d, c.vocabSize]],
    ["position_embd.weight", [d, positions]],
    ["token_embd_norm.weight", [d]],
    ["token_embd_norm.bias", [d]],
  ]);
  if (types) m.set("token_types.weight", [d, 2]);
  for (let l = 0; l < c.blockCount; l++) {
    const p = `blk.${l}.`;
    for (const n of ["attn_q", "attn_k", "attn_v", "attn_output"]) {
      m.set(`${p}${n}.weight`, [d, d]);
      m.set(`${p}${n}.bias`, [d]);
    }
    for (const n of ["attn_output_norm", "layer_output_norm"]) {
      m.set(`${p}${n}.weight`, [d]);
      m.set(`${p}${n}.bias`, [d]);
    }
    m.set(p + "ffn_up.weight", [d, ff]);
    m.set(p + "ffn_up.bias", [ff]);
    m.set(p + "ffn_down.weight", [ff, d]);
    m.set(p + "ffn_down.bias", [d]);
  }
  return m;
}

/** The BERT graph for `nTokens` tokens (hidden states only). */
export function buildBertGraph(c: ModelConfig, eps: number, types: boolean, T: number): Graph {
  const L = c.blockCount, d = c.embeddingLength, ff = c.feedForwardLength;
  const b = new GraphBuilder(T, L);
  const ln = (layer: number, x: number, rows: number, name: string) =>
    b.push({
      op: "layer_norm",
      layer,
      out: b.value(rows, d, name),
      x,
      weight: `${name}.weight`,
      bias: `${name}.bias`,
      eps,
    });
  const mm = (layer: number, x: number, rows: number, cols: number, name: string) =>
    b.push({
      op: "matmul",
      layer,
      out: b.value(rows, cols, name),
      x,
      weight: `${name}.weight`,
      bias: `${name}.bias`,
    });
  const add = (layer: number, a: number, c2: number, rows: number, name: string) =>
    b.push({ op: "add", layer, out: b.value(rows, d, name), a, b: c2 });
  let x = b.push({
    op: "embed",
    layer: -1,
    out: b.value(T, d, "inp_tok"),
    weight: "token_embd.weight",
  });
  if (types) {
    const t = b.push({
      op: "embed",
      layer: -1,
      out: b.value(T, d, "inp_type"),
      weight: "token_types.weight",
      index: "zero",
    });
    x = add(-1, x, t, T, "inp_tok_type");
  }
  const pos = b.push({
    op: "embed",
    layer: -1,
    out: b.value(T, d, "inp_pos"),
    weight: "position_embd.weight",
    index: "position",
  });
  x = add(-1, pos, x, T, "inp_embd");
  x = ln(-1, x, T, "token_embd_norm");
  for (let l = 0; l < L; l++) {
    const p = `blk.${l}.`;
    const q = mm(l, x, T, d, `${p}attn_q`);
    const k = mm(l, x, T, d, `${p}attn_k`);
    const v = mm(l, x, T, d, `${p}attn_v`);
    const a = b.push({
      op: "attention",
      layer: l,
      out: b.value(T, d, `${p}attn`),
      q,
      k,
      v,
      nHead: c.headCount,
      nHeadKV: c.headCountKV,
      headDim: c.keyLength,
      valueDim: c.valueLength,
      scale: headScale(c.keyLength),
      causal: false,
    });
    const o = add(l, mm(l, a, T, d, `${p}attn_output`), x, T, `${p}attn_res`);
    const h = ln(l, o, T, `${p}attn_output_norm`);
    const u = b.push({
      op: "gelu",
      layer: l,
      out: b.value(T, ff, `${p}ffn_act`),
      x: mm(l, h, T, ff, `${p}ffn_up`),
    });
    const f = add(l, mm(l, u, T, d, `${p}ffn_down`), h, T, `${p}ffn_res`);
    x = ln(l, f, T, `${p}layer_output_norm`);
  }
  return b.build(x);
}

function metaNumber(md: ReadonlyMap<string, MetaValue>, key: string, def: number): number {
  const v = md.get(key);
  const n = typeof v === "bigint" ? Number(v) : v ?? def;
  if (typeof n !== "number" || !Number.isFinite(n)) {
    throw new ModelConfigError("BAD_METADATA", `metadata ${key} must be a number`, { key });
  }
  return n;
}

/** The BERT architecture plugin. */
export const bertArchitecture: Architecture = {
  apiVersion: 1,
  name: "bert",
  architectures: ["bert"],
  description: "bert: encoder (absolute positions, LayerNorm, GELU), pooled embeddings",
  build(config, tensors, metadata) {
    const a = config.arch;
    const eps = metaNumber(metadata, `${a}.attention.layer_norm_epsilon`, 1e-12);
    const pooling = POOLING[metaNumber(metadata, `${a}.pooling_type`, 1) as 0 | 1 | 2 | 3];
    if (!pooling) {
      throw new ModelConfigError("BAD_METADATA", `${a}.pooling_type must be 0..3`, {
        key: `${a}.pooling_type`,
      });
    }
    const positions = tensors.get("position_embd.weight")?.dims[1] ?? config.contextLength;
    const types = tensors.has("token_types.weight");
    checkShapes(
      shapes(config, types, positions),
      new Map([...tensors].map(([n, s]) => [n, s.dims])),
    );
    const outputs: readonly OutputMode[] = ["hidden"];
    return {
      outputs,
      causal: false,
      pooling,
      graph: (nTokens: number, output: OutputMode) => {
        if (output !== "hidden") {
          throw new ModelConfigError("BAD_METADATA", `bert has no ${output} output`, {
            actual: output,
          });
        }
        if (nTokens > positions) {
          throw new ModelConfigError(
            "BAD_METADATA",
            `bert input of ${nTokens} tokens exceeds ${positions} positions`,
            {
              expected: positions,
              actual: nTokens,
            },
          );
        }
        return buildBertGraph(config, eps, types, nTokens);
      },
    };
  },
};
