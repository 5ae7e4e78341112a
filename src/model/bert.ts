/**
 * BERT encoders (llama.cpp's bert.cpp): "bert" — token + token-type (row 0) + absolute
 * position embeddings, LayerNorm; per layer q/k/v with biases, non-causal attention over the
 * whole input, output projection with bias, residual, LayerNorm, GELU FFN with biases, residual,
 * LayerNorm. "nomic-bert" — no position embeddings but NeoX RoPE on q and k, one fused
 * attn_qkv product, a SwiGLU FFN. No LM head: the graphs give hidden states, pooled as the
 * file's `pooling_type` says (mean, CLS or last token).
 *
 * @module
 */
import type { Architecture } from "../core/architecture.ts";
import { ModelConfigError } from "../core/errors.ts";
import { type Graph, GraphBuilder, type OutputMode, type RopeParams } from "../core/graph.ts";
import type { MetaValue } from "../gguf/gguf_file.ts";
import type { ModelConfig } from "../gguf/model_config.ts";
import { headScale } from "./_attention.ts";
import { checkShapes, ropeParams } from "./llama_tensors.ts";

/** llama.cpp's pooling_type values. */
const POOLING = { 0: "none", 1: "mean", 2: "cls", 3: "last" } as const;

/** What a BERT-family file has. */
export interface BertOptions {
  readonly eps: number;
  readonly types: boolean;
  /** Absolute position embeddings (bert) or RoPE (nomic-bert). */
  readonly rope?: RopeParams;
  readonly positions: number;
  readonly fusedQkv: boolean;
  readonly ffn: "gelu" | "swiglu";
  /** Tensors present, for the optional biases. */
  readonly has: (name: string) => boolean;
}

/** Expected [cols, rows] of every tensor the graph reads. */
function shapes(c: ModelConfig, o: BertOptions): Map<string, number[]> {
  const d = c.embeddingLength, ff = c.feedForwardLength;
  const kv = c.headCountKV * c.keyLength;
  const m = new Map<string, number[]>([
    ["token_embd.weight", [d, c.vocabSize]],
    ["token_embd_norm.weight", [d]],
    ["token_embd_norm.bias", [d]],
  ]);
  if (!o.rope) m.set("position_embd.weight", [d, o.positions]);
  if (o.types) m.set("token_types.weight", [d, 2]);
  const withBias = (name: string, dims: number[], required: boolean) => {
    m.set(`${name}.weight`, dims);
    if (required || o.has(`${name}.bias`)) m.set(`${name}.bias`, [dims[1] ?? dims[0]]);
  };
  for (let l = 0; l < c.blockCount; l++) {
    const p = `blk.${l}.`;
    if (o.fusedQkv) withBias(`${p}attn_qkv`, [d, d + 2 * kv], false);
    else {
      withBias(`${p}attn_q`, [d, d], true);
      withBias(`${p}attn_k`, [d, kv], true);
      withBias(`${p}attn_v`, [d, kv], true);
    }
    withBias(`${p}attn_output`, [d, d], !o.rope);
    for (const n of ["attn_output_norm", "layer_output_norm"]) {
      m.set(`${p}${n}.weight`, [d]);
      m.set(`${p}${n}.bias`, [d]);
    }
    withBias(`${p}ffn_up`, [d, ff], o.ffn === "gelu");
    if (o.ffn === "swiglu") m.set(`${p}ffn_gate.weight`, [d, ff]);
    withBias(`${p}ffn_down`, [ff, d], o.ffn === "gelu");
  }
  return m;
}

/** The BERT-family graph for `nTokens` tokens (hidden states only). */
export function buildBertGraph(c: ModelConfig, o: BertOptions, T: number): Graph {
  const L = c.blockCount, d = c.embeddingLength, ff = c.feedForwardLength;
  const kv = c.headCountKV * c.keyLength;
  const b = new GraphBuilder(T, L);
  const ln = (layer: number, x: number, name: string) =>
    b.push({
      op: "layer_norm",
      layer,
      out: b.value(T, d, name),
      x,
      weight: `${name}.weight`,
      bias: `${name}.bias`,
      eps: o.eps,
    });
  const mm = (layer: number, x: number, cols: number, name: string) =>
    b.push({
      op: "matmul",
      layer,
      out: b.value(T, cols, name),
      x,
      weight: `${name}.weight`,
      ...(o.has(`${name}.bias`) ? { bias: `${name}.bias` } : {}),
    });
  const add = (layer: number, a: number, c2: number, name: string) =>
    b.push({ op: "add", layer, out: b.value(T, d, name), a, b: c2 });
  const embed = (name: string, weight: string, index?: "zero" | "position") =>
    b.push({
      op: "embed",
      layer: -1,
      out: b.value(T, d, name),
      weight,
      ...(index ? { index } : {}),
    });
  let x = embed("inp_tok", "token_embd.weight");
  if (o.types) x = add(-1, x, embed("inp_type", "token_types.weight", "zero"), "inp_tok_type");
  if (!o.rope) x = add(-1, embed("inp_pos", "position_embd.weight", "position"), x, "inp_embd");
  x = ln(-1, x, "token_embd_norm");
  for (let l = 0; l < L; l++) {
    const p = `blk.${l}.`;
    let q: number, k: number, v: number;
    if (o.fusedQkv) {
      const qkv = mm(l, x, d + 2 * kv, `${p}attn_qkv`);
      const slice = (offset: number, cols: number, name: string) =>
        b.push({ op: "slice", layer: l, out: b.value(T, cols, `${p}${name}`), x: qkv, offset });
      [q, k, v] = [slice(0, d, "q"), slice(d, kv, "k"), slice(d + kv, kv, "v")];
    } else {
      [q, k, v] = [
        mm(l, x, d, `${p}attn_q`),
        mm(l, x, kv, `${p}attn_k`),
        mm(l, x, kv, `${p}attn_v`),
      ];
    }
    if (o.rope) {
      const rope = (v0: number, cols: number, nHeads: number, name: string) =>
        b.push({
          op: "rope",
          layer: l,
          out: b.value(T, cols, `${p}${name}`),
          x: v0,
          nHeads,
          headDim: c.keyLength,
          rope: o.rope!,
        });
      q = rope(q, d, c.headCount, "q_rope");
      k = rope(k, kv, c.headCountKV, "k_rope");
    }
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
    const h = ln(
      l,
      add(l, mm(l, a, d, `${p}attn_output`), x, `${p}attn_res`),
      `${p}attn_output_norm`,
    );
    let act: number;
    if (o.ffn === "gelu") {
      act = b.push({
        op: "gelu",
        layer: l,
        out: b.value(T, ff, `${p}ffn_act`),
        x: mm(l, h, ff, `${p}ffn_up`),
      });
    } else {
      const u = mm(l, h, ff, `${p}ffn_up`), g = mm(l, h, ff, `${p}ffn_gate`);
      act = b.push({ op: "swiglu", layer: l, out: b.value(T, ff, `${p}ffn_act`), gate: g, up: u });
    }
    x = ln(l, add(l, mm(l, act, d, `${p}ffn_down`), h, `${p}ffn_res`), `${p}layer_output_norm`);
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

function bertFamily(name: "bert" | "nomic-bert", description: string): Architecture {
  const nomic = name === "nomic-bert";
  return {
    apiVersion: 1,
    name,
    architectures: [name],
    description,
    ropeType: () => "neox",
    build(config, tensors, metadata) {
      const a = config.arch;
      const eps = metaNumber(metadata, `${a}.attention.layer_norm_epsilon`, 1e-12);
      const pooling = POOLING[metaNumber(metadata, `${a}.pooling_type`, 1) as 0 | 1 | 2 | 3];
      if (!pooling) {
        throw new ModelConfigError("BAD_METADATA", `${a}.pooling_type must be 0..3`, {
          key: `${a}.pooling_type`,
        });
      }
      const o: BertOptions = {
        eps,
        types: tensors.has("token_types.weight"),
        ...(nomic ? { rope: ropeParams(config) } : {}),
        positions: nomic
          ? config.contextLength
          : tensors.get("position_embd.weight")?.dims[1] ?? config.contextLength,
        fusedQkv: tensors.has("blk.0.attn_qkv.weight"),
        ffn: nomic ? "swiglu" : "gelu",
        has: (n) => tensors.has(n),
      };
      checkShapes(shapes(config, o), new Map([...tensors].map(([n, s]) => [n, s.dims])));
      const outputs: readonly OutputMode[] = ["hidden"];
      return {
        outputs,
        causal: false,
        pooling,
        graph: (nTokens: number, output: OutputMode) => {
          if (output !== "hidden") {
            throw new ModelConfigError("BAD_METADATA", `${name} has no ${output} output`, {
              actual: output,
            });
          }
          if (nTokens > o.positions) {
            throw new ModelConfigError(
              "BAD_METADATA",
              `${name} input of ${nTokens} tokens exceeds ${o.positions} positions`,
              { expected: o.positions, actual: nTokens },
            );
          }
          return buildBertGraph(config, o, nTokens);
        },
      };
    },
  };
}

/** The BERT architecture plugin. */
export const bertArchitecture: Architecture = bertFamily(
  "bert",
  "bert: encoder (absolute positions, LayerNorm, GELU), pooled embeddings",
);

/** The nomic-bert architecture plugin. */
export const nomicBertArchitecture: Architecture = bertFamily(
  "nomic-bert",
  "nomic-bert: encoder with RoPE, fused QKV and a SwiGLU FFN, pooled embeddings",
);
