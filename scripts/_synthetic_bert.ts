/**
 * Random-weight BERT encoders for make-model --arch bert (llama.cpp's tensor names and metadata),
 * from the shared pieces of _synthetic_model.ts.
 *
 * @module
 */
import { GGMLType } from "../src/gguf/ggml_types.ts";
import { type GGUFMetaEntry, GGUFValueType } from "../src/gguf/gguf_file.ts";
import type { GGUFTensorInput, GGUFWriteInput } from "../src/gguf/writer.ts";
import { gaussian, type ModelShape, poolFiller, scalar } from "./_synthetic_model.ts";

/** A random-weight BERT encoder (llama.cpp's bert tensor names and metadata). */
export function synthesizeBert(
  s: ModelShape,
  type: GGMLType,
  base: Map<string, GGUFMetaEntry>,
  seed: number,
  arch: "bert" | "nomic-bert" = "bert",
): GGUFWriteInput {
  const nomic = arch === "nomic-bert";
  const metadata = new Map<string, GGUFMetaEntry>(
    [...base].filter(([k]) =>
      !k.endsWith(".attention.layer_norm_rms_epsilon") && (nomic || !k.startsWith(`${arch}.rope`))
    ),
  );
  metadata.set(`${arch}.attention.layer_norm_epsilon`, scalar(GGUFValueType.FLOAT32, 1e-12));
  metadata.set(`${arch}.attention.causal`, scalar(GGUFValueType.BOOL, false));
  metadata.set(`${arch}.pooling_type`, scalar(GGUFValueType.UINT32, 1));
  // BERT attends with as many key/value heads as query heads.
  metadata.set(`${arch}.attention.head_count_kv`, scalar(GGUFValueType.UINT32, s.heads));
  const fill = poolFiller(type, seed);
  let n = seed * 7919;
  const tensors: GGUFTensorInput[] = [];
  const matrix = (name: string, cols: number, rows: number) =>
    tensors.push({ info: { name, dims: [cols, rows], type }, data: () => fill(cols * rows) });
  const f32 = (name: string, dims: number[], values: () => Float32Array) =>
    tensors.push({
      info: { name, dims, type: GGMLType.F32 },
      data: () => new Uint8Array(values().buffer),
    });
  const vec = (name: string, len: number, mean: number) => {
    const sd = n++;
    f32(name, [len], () => gaussian(len, sd, 0.1).map((x) => mean + x));
  };
  matrix("token_embd.weight", s.dim, s.vocab);
  const sd = n++;
  f32("token_types.weight", [s.dim, 2], () => gaussian(2 * s.dim, sd, 0.02));
  if (!nomic) {
    const sp = n++;
    f32("position_embd.weight", [s.dim, s.context], () => gaussian(s.dim * s.context, sp, 0.02));
  }
  vec("token_embd_norm.weight", s.dim, 1);
  vec("token_embd_norm.bias", s.dim, 0);
  for (let l = 0; l < s.layers; l++) {
    const p = `blk.${l}.`;
    if (nomic) {
      matrix(`${p}attn_qkv.weight`, s.dim, 3 * s.dim);
      matrix(`${p}attn_output.weight`, s.dim, s.dim);
    } else {
      for (const name of ["attn_q", "attn_k", "attn_v", "attn_output"]) {
        matrix(`${p}${name}.weight`, s.dim, s.dim);
        vec(`${p}${name}.bias`, s.dim, 0);
      }
    }
    vec(`${p}attn_output_norm.weight`, s.dim, 1);
    vec(`${p}attn_output_norm.bias`, s.dim, 0);
    matrix(`${p}ffn_up.weight`, s.dim, s.ffn);
    if (nomic) matrix(`${p}ffn_gate.weight`, s.dim, s.ffn);
    else vec(`${p}ffn_up.bias`, s.ffn, 0);
    matrix(`${p}ffn_down.weight`, s.ffn, s.dim);
    if (!nomic) vec(`${p}ffn_down.bias`, s.dim, 0);
    vec(`${p}layer_output_norm.weight`, s.dim, 1);
    vec(`${p}layer_output_norm.bias`, s.dim, 0);
  }
  return { metadata, tensors };
}
