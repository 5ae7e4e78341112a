/**
 * llama.cpp's quantization mixtures (llama-quantize's K-quant "_M" file types): which ggml
 * type each tensor of a model gets, by tensor name, layer and model shape, as
 * `llama_tensor_get_type` in llama.cpp's src/llama-quant.cpp decides it without an importance
 * matrix or manual overrides. Rules of that function that only concern other file types,
 * Falcon, 70B models (LLM_TYPE_70B) or 8-expert models are not reproduced; the shapes they need
 * are refused (`QuantError` QUANT_MIXTURE_UNSUPPORTED) rather than given a different mixture.
 *
 * @module
 */
import { GGMLType, typeTraits } from "../ggml_types.ts";
import { QuantError } from "./errors.ts";

/** A mixture: its llama_ftype id (general.file_type) and base type. */
export interface Mixture {
  readonly name: MixtureName;
  /** llama.cpp's llama_ftype (written as general.file_type). */
  readonly fileType: number;
  /** The type of every tensor no rule promotes. */
  readonly base: GGMLType;
}

/** The mixtures reproduced. */
export const MIXTURES = {
  Q3_K_M: { name: "Q3_K_M", fileType: 12, base: GGMLType.Q3_K },
  Q4_K_M: { name: "Q4_K_M", fileType: 15, base: GGMLType.Q4_K },
  Q5_K_M: { name: "Q5_K_M", fileType: 17, base: GGMLType.Q5_K },
} as const satisfies Record<string, { name: string; fileType: number; base: GGMLType }>;

/** Names of MIXTURES. */
export type MixtureName = keyof typeof MIXTURES;

/** True when `name` is a mixture name (Q4_K_M, ...). */
export function isMixture(name: string): name is MixtureName {
  return Object.hasOwn(MIXTURES, name);
}

/** A tensor of the model, in file order (the order llama-quantize counts layers in). */
export interface MixtureTensor {
  readonly name: string;
  /** ggml order: dims[0] is the row length. */
  readonly dims: readonly number[];
}

/** The model facts the rules read. */
export interface MixtureModel {
  readonly layers: number;
  /** Experts per MoE layer (0 or 1: dense). */
  readonly experts: number;
}

// llama-quant.cpp tensor_get_category, in its order of tests.
type Category =
  | "output"
  | "token_embd"
  | "attn_qkv"
  | "attn_v"
  | "attn_k"
  | "attn_q"
  | "attn_output"
  | "ffn_up"
  | "ffn_gate"
  | "ffn_down"
  | "other";

function category(name: string): Category {
  if (name === "output.weight") return "output";
  if (name === "token_embd.weight" || name === "per_layer_token_embd.weight") return "token_embd";
  for (const c of ["attn_qkv", "attn_v", "attn_k", "attn_q", "attn_output"] as const) {
    if (name.includes(`${c}.weight`)) return c;
  }
  for (const c of ["ffn_up", "ffn_gate", "ffn_down"] as const) if (name.includes(c)) return c;
  return "other";
}

// tensor_allows_quantization, for the tensors this project writes: 2-D and 3-D weights but
// norms and expert routers.
function quantizable(t: MixtureTensor): boolean {
  return t.dims.length >= 2 && t.name.endsWith("weight") && !t.name.includes("_norm.weight") &&
    !t.name.includes("ffn_gate_inp.weight");
}

// use_more_bits: the first and last eighth of the layers and every third one between.
function moreBits(i: number, n: number): boolean {
  return i < Math.trunc(n / 8) || i >= Math.trunc(7 * n / 8) ||
    (i - Math.trunc(n / 8)) % 3 === 2;
}

// tensor_type_fallback: a 256-block type on rows that are not whole super-blocks.
const FALLBACK = new Map<GGMLType, GGMLType>([
  [GGMLType.Q2_K, GGMLType.Q4_0],
  [GGMLType.Q3_K, GGMLType.Q4_0],
  [GGMLType.Q4_K, GGMLType.Q5_0],
  [GGMLType.Q5_K, GGMLType.Q5_1],
  [GGMLType.Q6_K, GGMLType.Q8_0],
]);

function fallback(t: MixtureTensor, type: GGMLType): GGMLType {
  const cols = t.dims[0];
  if (cols % typeTraits(type).blockSize === 0) return type;
  const f = FALLBACK.get(type) ?? type;
  return cols % typeTraits(f).blockSize === 0 ? f : GGMLType.F16;
}

/**
 * The type of every tensor of `tensors` (file order) under mixture `mix`: tensors that are
 * not quantized (norms, vectors, routers) get undefined (they keep their own type).
 */
export function mixtureTypes(
  mix: MixtureName,
  tensors: readonly MixtureTensor[],
  model: MixtureModel,
): (GGMLType | undefined)[] {
  if (model.experts === 8 || model.layers === 80) {
    throw new QuantError(
      "QUANT_MIXTURE_UNSUPPORTED",
      "llama.cpp's mixtures of 8-expert and 80-layer (70B) models are not reproduced",
      { actual: { experts: model.experts, layers: model.layers } },
    );
  }
  const { base } = MIXTURES[mix];
  const cats = tensors.map((t) => category(t.name));
  const nAttnV = cats.filter((c) => c === "attn_v" || c === "attn_qkv").length;
  const tied = !cats.includes("output");
  const n = model.layers;
  let iAttnV = 0, iDown = 0;
  const layerOf = (name: string, counter: number) => {
    if (model.experts <= 1) return counter;
    const m = /^blk\.(\d+)\./.exec(name);
    if (!m || Number(m[1]) >= n) {
      throw new QuantError("QUANT_MIXTURE_UNSUPPORTED", `no layer in tensor name ${name}`, {
        expected: `blk.N. with N < ${n}`,
        actual: name,
      });
    }
    return Number(m[1]);
  };
  return tensors.map((t, k) => {
    if (!quantizable(t)) return undefined;
    const c = cats[k];
    let type: GGMLType = base;
    if (c === "output" || (tied && c === "token_embd")) {
      type = t.dims[0] % typeTraits(base).blockSize !== 0 ? GGMLType.Q8_0 : GGMLType.Q6_K;
    } else if (c === "attn_v" || c === "attn_qkv") {
      // attn_qkv is attention-v-like too, so its own rule in llama.cpp is never reached
      if (mix === "Q3_K_M") type = iAttnV < 2 ? GGMLType.Q5_K : GGMLType.Q4_K;
      else if (moreBits(iAttnV, nAttnV)) type = GGMLType.Q6_K;
      iAttnV++;
    } else if (c === "ffn_down") {
      const i = layerOf(t.name, iDown);
      if (mix === "Q3_K_M") type = i < Math.trunc(n / 16) ? GGMLType.Q5_K : GGMLType.Q4_K;
      else if (moreBits(i, n)) type = GGMLType.Q6_K;
      iDown++;
    } else if (c === "attn_output" && mix === "Q3_K_M") {
      type = GGMLType.Q4_K;
    }
    return fallback(t, type);
  });
}
