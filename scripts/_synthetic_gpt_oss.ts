/**
 * Random-weight gpt-oss models for make-model --arch gpt-oss, with the metadata and tensor names
 * llama.cpp's converter writes (conversion/gpt_oss.py and TextModel: attn_sinks.weight, q/k/v
 * and output biases, post_attention_norm, router and per-expert biases, explicit key/value
 * lengths, sliding_window, expert_feed_forward_length, gpt-oss's YaRN rope scaling). The
 * shape's FFN width is split over 4 experts of ffn / 2, 2 used per token; the sliding window is
 * 8 (every other layer, layer 0 first). Types: F32, Q8_0 or Q4_K (every matrix), or MXFP4
 * (llama-quantize's MXFP4_MOE: expert matrices MXFP4, the other matrices Q8_0). Norms, sinks and
 * biases are F32.
 *
 * @module
 */
import { InvalidArgumentError } from "../src/core/errors.ts";
import { GGMLType } from "../src/gguf/ggml_types.ts";
import { type GGUFMetaEntry, GGUFValueType } from "../src/gguf/gguf_file.ts";
import type { GGUFTensorInput, GGUFWriteInput } from "../src/gguf/writer.ts";
import { gaussian, type ModelShape, poolFiller, scalar } from "./_synthetic_model.ts";

/** Types --arch gpt-oss writes, and their general.file_type (llama_ftype). */
export const GPT_OSS_TYPES: Readonly<Record<string, { base: GGMLType; ftype: number }>> = {
  F32: { base: GGMLType.F32, ftype: 0 },
  Q8_0: { base: GGMLType.Q8_0, ftype: 7 },
  Q4_K: { base: GGMLType.Q4_K, ftype: 15 },
  MXFP4: { base: GGMLType.Q8_0, ftype: 38 }, // LLAMA_FTYPE_MOSTLY_MXFP4_MOE
};

/** A random-weight gpt-oss model of shape `s`. */
export function synthesizeGptOss(
  s: ModelShape,
  typeName: string,
  tok: Map<string, GGUFMetaEntry>,
  seed: number,
  name: string,
): GGUFWriteInput {
  const t = GPT_OSS_TYPES[typeName];
  if (!t) {
    throw new InvalidArgumentError(
      `--arch gpt-oss writes types ${Object.keys(GPT_OSS_TYPES).join(", ")}`,
      { actual: typeName },
    );
  }
  const nTok = (tok.get("tokenizer.ggml.tokens")?.value as unknown[] | undefined)?.length;
  if (nTok !== s.vocab) {
    throw new InvalidArgumentError("tokenizer size differs from the shape's vocabulary", {
      expected: s.vocab,
      actual: nTok,
    });
  }
  const a = "gpt-oss", E = 4, ff = s.ffn / 2, headDim = s.dim / s.heads;
  const kvDim = headDim * s.kvHeads;
  const u32 = (v: number) => scalar(GGUFValueType.UINT32, v);
  const f32 = (v: number) => scalar(GGUFValueType.FLOAT32, v);
  const metadata = new Map<string, GGUFMetaEntry>([
    ["general.architecture", scalar(GGUFValueType.STRING, a)],
    ["general.name", scalar(GGUFValueType.STRING, name)],
    ["general.file_type", u32(t.ftype)],
    [`${a}.context_length`, u32(s.context)],
    [`${a}.embedding_length`, u32(s.dim)],
    [`${a}.feed_forward_length`, u32(ff)],
    [`${a}.block_count`, u32(s.layers)],
    [`${a}.attention.head_count`, u32(s.heads)],
    [`${a}.attention.head_count_kv`, u32(s.kvHeads)],
    [`${a}.attention.key_length`, u32(headDim)],
    [`${a}.attention.value_length`, u32(headDim)],
    [`${a}.rope.dimension_count`, u32(headDim)],
    [`${a}.rope.freq_base`, f32(150000)],
    // gpt-oss's YaRN (config.json rope_scaling: factor 32 from 4096 positions, betas 32 / 1).
    [`${a}.rope.scaling.type`, scalar(GGUFValueType.STRING, "yarn")],
    [`${a}.rope.scaling.factor`, f32(32)],
    [`${a}.rope.scaling.original_context_length`, u32(4096)],
    [`${a}.rope.scaling.yarn_beta_fast`, f32(32)],
    [`${a}.rope.scaling.yarn_beta_slow`, f32(1)],
    [`${a}.attention.layer_norm_rms_epsilon`, f32(1e-5)],
    [`${a}.expert_count`, u32(E)],
    [`${a}.expert_used_count`, u32(2)],
    [`${a}.attention.sliding_window`, u32(8)],
    [`${a}.expert_feed_forward_length`, u32(ff)],
    ...tok,
  ]);
  const fills = new Map<GGMLType, (n: number) => Uint8Array>();
  const fillOf = (type: GGMLType) => {
    if (!fills.has(type)) fills.set(type, poolFiller(type, seed + type));
    return fills.get(type)!;
  };
  const tensors: GGUFTensorInput[] = [];
  const weight = (name: string, dims: number[], type = t.base) =>
    tensors.push({
      info: { name, dims, type },
      data: () => fillOf(type)(dims.reduce((x, y) => x * y, 1)),
    });
  const expertType = typeName === "MXFP4" ? GGMLType.MXFP4 : t.base;
  let vs = seed * 7919;
  // Norms 1 + N(0, 0.1); biases and sinks N(0, std).
  const vector = (name: string, dims: number[], std: number, one = 0) => {
    const sd = vs++;
    const n = dims.reduce((x, y) => x * y, 1);
    tensors.push({
      info: { name, dims, type: GGMLType.F32 },
      data: () => new Uint8Array(gaussian(n, sd, std).map((x) => one + x).buffer),
    });
  };
  weight("token_embd.weight", [s.dim, s.vocab]);
  for (let l = 0; l < s.layers; l++) {
    const p = `blk.${l}.`;
    vector(p + "attn_norm.weight", [s.dim], 0.1, 1);
    for (const [n, rows] of [["q", s.dim], ["k", kvDim], ["v", kvDim]] as const) {
      weight(`${p}attn_${n}.weight`, [s.dim, rows]);
      vector(`${p}attn_${n}.bias`, [rows], 0.02);
    }
    weight(p + "attn_output.weight", [s.dim, s.dim]);
    vector(p + "attn_output.bias", [s.dim], 0.02);
    // Sink logits on the scale of the attention scores, so that they take a real share.
    vector(p + "attn_sinks.weight", [s.heads], 0.5);
    vector(p + "post_attention_norm.weight", [s.dim], 0.1, 1);
    // The router stays F32, as llama-quantize keeps ffn_gate_inp.
    vector(p + "ffn_gate_inp.weight", [s.dim, E], 0.5);
    vector(p + "ffn_gate_inp.bias", [E], 0.1);
    weight(p + "ffn_gate_exps.weight", [s.dim, ff, E], expertType);
    // Gate and up biases large enough that swiglu_oai's clamp at 7 takes effect.
    vector(p + "ffn_gate_exps.bias", [ff, E], 4);
    weight(p + "ffn_up_exps.weight", [s.dim, ff, E], expertType);
    vector(p + "ffn_up_exps.bias", [ff, E], 4);
    weight(p + "ffn_down_exps.weight", [ff, s.dim, E], expertType);
    vector(p + "ffn_down_exps.bias", [s.dim, E], 0.02);
  }
  vector("output_norm.weight", [s.dim], 0.1, 1);
  weight("output.weight", [s.dim, s.vocab]);
  return { metadata, tensors };
}
