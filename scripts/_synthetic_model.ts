/**
 * Random-weight llama GGUFs of real shapes, for benchmarks and quickstarts. Quantized
 * tensors are filled with runs of blocks drawn from a pool of blocks quantized from
 * Gaussian weights (std 0.02), so writing a 4 GB model costs memory copies, not
 * quantization; each tensor is produced only when the writer asks for it.
 *
 * The tokenizer is the Llama SPM vocabulary copied from llama.cpp's vocab file when it is
 * available (32000 tokens), else a synthesized byte-level SPM vocabulary: 3 specials, 256
 * byte tokens and filler pieces.
 *
 * @module
 */
import { InvalidArgumentError } from "../src/core/errors.ts";
import { GGMLType, type GGMLTypeName, typeByName, typeTraits } from "../src/gguf/ggml_types.ts";
import { type GGUFMetaEntry, GGUFValueType } from "../src/gguf/gguf_file.ts";
import { isMixture, MIXTURES, mixtureTypes } from "../src/gguf/quants/mixture.ts";
import type { GGUFTensorInput, GGUFWriteInput } from "../src/gguf/writer.ts";
import { synthesizeBert } from "./_synthetic_bert.ts";
import { gaussian, poolFiller } from "./_synthetic_random.ts";
import { synthesizeGptOss } from "./_synthetic_gpt_oss.ts";

export { gaussian, poolFiller };

/** A llama model shape. */
export interface ModelShape {
  readonly dim: number;
  readonly layers: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly ffn: number;
  readonly vocab: number;
  readonly context: number;
}

/** Named shapes: TinyLlama 1.1B, Llama-style 7B (GQA 8), a tiny test model, an MoE bench pair. */
export const SHAPES: Readonly<Record<string, ModelShape>> = {
  tinyllama: {
    dim: 2048,
    layers: 22,
    heads: 32,
    kvHeads: 4,
    ffn: 5632,
    vocab: 32000,
    context: 2048,
  },
  llama7b: {
    dim: 4096,
    layers: 32,
    heads: 32,
    kvHeads: 8,
    ffn: 14336,
    vocab: 32000,
    context: 4096,
  },
  tiny: { dim: 256, layers: 2, heads: 4, kvHeads: 2, ffn: 512, vocab: 512, context: 512 },
  // MoE benchmark pair: --arch mixtral --shape small (4 experts of 2816, 2 used) has the
  // active parameters of the dense --shape small-wide (FFN 2 x 2816).
  small: { dim: 1024, layers: 8, heads: 16, kvHeads: 4, ffn: 2816, vocab: 32000, context: 2048 },
  "small-wide": {
    dim: 1024,
    layers: 8,
    heads: 16,
    kvHeads: 4,
    ffn: 5632,
    vocab: 32000,
    context: 2048,
  },
};

/**
 * Weight types the generator writes for matrices: one type for every matrix, or one of
 * llama.cpp's K-quant mixtures (Q4_K_M, ...: the types llama-quantize gives each tensor, see
 * src/gguf/quants/mixture.ts).
 */
export const MODEL_TYPES: readonly string[] = [
  "F32",
  "F16",
  "Q4_0",
  "Q8_0",
  "Q4_K",
  ...Object.keys(MIXTURES),
];

export function scalar(type: GGUFValueType, value: number | string | boolean): GGUFMetaEntry {
  return { type, value };
}

/** Tokenizer metadata: a synthesized byte-level SPM vocabulary of `vocab` tokens. */
export function synthesizeVocab(vocab: number): Map<string, GGUFMetaEntry> {
  if (vocab < 259) {
    throw new InvalidArgumentError("a synthesized vocabulary needs at least 259 tokens", {
      actual: vocab,
    });
  }
  const tokens: string[] = ["<unk>", "<s>", "</s>"];
  const types: number[] = [2, 3, 3];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
    types.push(6);
  }
  const letters = "etaoinshrdlucmfwypvbgkjqxz";
  for (let i = 0; tokens.length < vocab; i++) {
    let piece = "";
    let n = i;
    do {
      piece += letters[n % letters.length];
      n = Math.floor(n / letters.length);
    } while (n > 0);
    tokens.push((i % 2 === 0 ? "\u2581" : "") + piece);
    types.push(1);
  }
  const scores = tokens.map((_, i) => (i < 259 ? 0 : -(i - 259)));
  return new Map<string, GGUFMetaEntry>([
    ["tokenizer.ggml.model", scalar(GGUFValueType.STRING, "llama")],
    ["tokenizer.ggml.tokens", {
      type: GGUFValueType.ARRAY,
      itemType: GGUFValueType.STRING,
      value: tokens,
    }],
    ["tokenizer.ggml.scores", {
      type: GGUFValueType.ARRAY,
      itemType: GGUFValueType.FLOAT32,
      value: scores,
    }],
    ["tokenizer.ggml.token_type", {
      type: GGUFValueType.ARRAY,
      itemType: GGUFValueType.INT32,
      value: types,
    }],
    ["tokenizer.ggml.bos_token_id", scalar(GGUFValueType.UINT32, 1)],
    ["tokenizer.ggml.eos_token_id", scalar(GGUFValueType.UINT32, 2)],
    ["tokenizer.ggml.unknown_token_id", scalar(GGUFValueType.UINT32, 0)],
    ["tokenizer.ggml.add_bos_token", scalar(GGUFValueType.BOOL, true)],
  ]);
}

/**
 * Architectures the generator writes, with the metadata and tensor names llama.cpp's
 * converter writes for them: "llama" (Llama 2 style), "llama3" (general.architecture llama
 * with rope_freqs.weight, RoPE base 500000 and the output tied to the embedding, as Llama 3.2
 * 1B/3B), "qwen3" (per-head q/k norms, explicit key/value lengths, RoPE base 1e6, tied output),
 * "gemma3" (q/k norms, post-attention and post-FFN norms, GeGLU, a sliding window of 8 on every
 * other layer with local RoPE base 10000, tied output), "mixtral" (general.architecture llama with
 * 4 experts of the shape's FFN width, 2 used per token) and "qwen3moe" (qwen3 attention, 4
 * experts of width ffn / 4, 2 used); "gpt-oss" is written by _synthetic_gpt_oss.ts.
 */
export const MODEL_ARCHS = [
  "llama",
  "llama3",
  "qwen3",
  "gemma2",
  "gemma3",
  "mixtral",
  "qwen3moe",
  "phi3",
  "gpt-oss",
  "bert",
  "nomic-bert",
] as const;
/** One of MODEL_ARCHS. */
export type ModelArch = typeof MODEL_ARCHS[number];

/** Options of synthesizeModel. */
export interface SyntheticModelOptions {
  readonly shape: ModelShape;
  /** Default "llama". */
  readonly arch?: ModelArch;
  /** Type of every weight matrix (norms are F32), or a mixture name (MODEL_TYPES). */
  readonly type: string;
  /** tokenizer.* entries to use (their token count must equal shape.vocab); default synthesized. */
  readonly tokenizer?: Map<string, GGUFMetaEntry>;
  readonly seed?: number;
  readonly name?: string;
}

/** The writer input of a random-weight llama model (tensor bytes are made on demand). */
export function synthesizeModel(opts: SyntheticModelOptions): GGUFWriteInput {
  const { shape: s } = opts;
  if (opts.arch === "gpt-oss") {
    const tok = opts.tokenizer ?? synthesizeVocab(s.vocab);
    return synthesizeGptOss(s, opts.type, tok, opts.seed ?? 1, opts.name ?? "synthetic");
  }
  if (!MODEL_TYPES.includes(opts.type)) {
    throw new InvalidArgumentError(`type must be one of ${MODEL_TYPES.join(", ")}`, {
      actual: opts.type,
    });
  }
  const mix = isMixture(opts.type) ? MIXTURES[opts.type] : undefined;
  const type = mix ? mix.base : typeByName(opts.type as GGMLTypeName).id as GGMLType;
  const bs = typeTraits(type).blockSize;
  if (s.dim % bs !== 0 || s.ffn % bs !== 0 || s.dim % s.heads !== 0 || s.heads % s.kvHeads !== 0) {
    throw new InvalidArgumentError(
      `shape dim ${s.dim} / ffn ${s.ffn} / heads ${s.heads}/${s.kvHeads} does not fit ${opts.type} blocks of ${bs}`,
      { expected: bs, actual: { dim: s.dim, ffn: s.ffn } },
    );
  }
  const tok = opts.tokenizer ?? synthesizeVocab(s.vocab);
  const nTok = (tok.get("tokenizer.ggml.tokens")?.value as unknown[] | undefined)?.length;
  if (nTok !== s.vocab) {
    throw new InvalidArgumentError("tokenizer size differs from the shape's vocabulary", {
      expected: s.vocab,
      actual: nTok,
    });
  }
  const arch = opts.arch ?? "llama";
  const headDim = s.dim / s.heads;
  const kvDim = headDim * s.kvHeads;
  const fileType: Record<string, number> = {
    F32: 0,
    F16: 1,
    Q4_0: 2,
    Q8_0: 7,
    Q4_K: 15,
    ...Object.fromEntries(Object.values(MIXTURES).map((m) => [m.name, m.fileType])),
  };
  const u32 = (v: number) => scalar(GGUFValueType.UINT32, v);
  const a = arch === "llama3" || arch === "mixtral" ? "llama" : arch;
  const base = {
    llama: 10000,
    llama3: 500000,
    qwen3: 1000000,
    gemma2: 10000,
    gemma3: 1000000,
    mixtral: 1000000,
    qwen3moe: 1000000,
    phi3: 10000,
    bert: 10000,
    "nomic-bert": 1000,
  }[arch];
  const qkNorm = arch === "qwen3" || arch === "gemma3" || arch === "qwen3moe";
  const nExpert = arch === "mixtral" || arch === "qwen3moe" ? 4 : 0;
  const expertFf = arch === "qwen3moe" ? s.ffn / 2 : s.ffn;
  const metadata = new Map<string, GGUFMetaEntry>([
    ["general.architecture", scalar(GGUFValueType.STRING, a)],
    ["general.name", scalar(GGUFValueType.STRING, opts.name ?? "synthetic")],
    ["general.file_type", u32(fileType[opts.type])],
    [`${a}.context_length`, u32(s.context)],
    [`${a}.embedding_length`, u32(s.dim)],
    [`${a}.block_count`, u32(s.layers)],
    [`${a}.feed_forward_length`, u32(s.ffn)],
    [`${a}.attention.head_count`, u32(s.heads)],
    [`${a}.attention.head_count_kv`, u32(s.kvHeads)],
    ...(qkNorm
      ? [
        [`${a}.attention.key_length`, u32(headDim)],
        [`${a}.attention.value_length`, u32(headDim)],
      ] as const
      : []),
    ...(nExpert
      ? [
        [`${a}.expert_count`, u32(nExpert)],
        [`${a}.expert_used_count`, u32(2)],
        ...(arch === "qwen3moe"
          ? [[`${a}.expert_feed_forward_length`, u32(expertFf)] as const]
          : []),
      ] as const
      : []),
    ...(arch === "phi3"
      ? [
        [`${a}.rope.scaling.original_context_length`, u32(s.context / 2)],
        [`${a}.rope.scaling.attn_factor`, scalar(GGUFValueType.FLOAT32, 1.19)],
      ] as const
      : []),
    ...(arch === "gemma2"
      ? [
        [`${a}.attention.sliding_window`, u32(8)],
        [`${a}.attn_logit_softcapping`, scalar(GGUFValueType.FLOAT32, 0.5)],
        [`${a}.final_logit_softcapping`, scalar(GGUFValueType.FLOAT32, 0.5)],
        [`${a}.attention.key_length`, u32(headDim)],
        [`${a}.attention.value_length`, u32(headDim)],
      ] as const
      : []),
    ...(arch === "gemma3"
      ? [
        [`${a}.attention.sliding_window`, u32(8)],
        [`${a}.attention.sliding_window_pattern`, u32(2)],
        [`${a}.rope.freq_base_swa`, scalar(GGUFValueType.FLOAT32, 10000)],
      ] as const
      : []),
    [`${a}.rope.dimension_count`, u32(headDim)],
    [`${a}.rope.freq_base`, scalar(GGUFValueType.FLOAT32, base)],
    [
      `${a}.attention.layer_norm_rms_epsilon`,
      scalar(GGUFValueType.FLOAT32, arch === "llama" ? 1e-5 : 1e-6),
    ],
    [`${a}.vocab_size`, u32(s.vocab)],
    ...tok,
  ]);
  if (arch === "bert" || arch === "nomic-bert") {
    if (mix) {
      throw new InvalidArgumentError(`${mix.name} files are written for decoder models only`, {
        actual: arch,
      });
    }
    return synthesizeBert(opts.shape, type, metadata, opts.seed ?? 1, arch);
  }
  const seed = opts.seed ?? 1;
  const fill = poolFiller(type, seed);
  const tensors: GGUFTensorInput[] = [];
  const matrix = (name: string, cols: number, rows: number) =>
    tensors.push({ info: { name, dims: [cols, rows], type }, data: () => fill(cols * rows) });
  const experts = (name: string, cols: number, rows: number, n: number) =>
    tensors.push({
      info: { name, dims: [cols, rows, n], type },
      data: () => fill(cols * rows * n),
    });
  // Norm weights: ones for "llama" (as before), 1 + N(0, 0.1) for the others so that the
  // weight multiply is exercised.
  let normSeed = seed * 7919;
  const vector = (name: string, n: number, values: () => Float32Array) =>
    tensors.push({
      info: { name, dims: [n], type: GGMLType.F32 },
      data: () => new Uint8Array(values().buffer),
    });
  const norm = (name: string, n = s.dim) => {
    const sd = normSeed++;
    vector(
      name,
      n,
      () => arch === "llama" ? new Float32Array(n).fill(1) : gaussian(n, sd, 0.1).map((x) => 1 + x),
    );
  };
  matrix("token_embd.weight", s.dim, s.vocab);
  if (arch === "phi3") {
    const half = headDim / 2;
    const f = (k: number) => () => Float32Array.from({ length: half }, (_, i) => 1 + k * i / half);
    vector("rope_factors_long.weight", half, f(3));
    vector("rope_factors_short.weight", half, f(0.5));
  }
  if (arch === "llama3") {
    // Llama 3 rope scaling: factor 1 for high frequencies rising to 8 for the lowest.
    const half = headDim / 2;
    vector(
      "rope_freqs.weight",
      half,
      () => Float32Array.from({ length: half }, (_, i) => 1 + 7 * (i / Math.max(1, half - 1)) ** 2),
    );
  }
  for (let l = 0; l < s.layers; l++) {
    norm(`blk.${l}.attn_norm.weight`);
    if (qkNorm) {
      norm(`blk.${l}.attn_q_norm.weight`, headDim);
      norm(`blk.${l}.attn_k_norm.weight`, headDim);
    }
    if (arch === "phi3") matrix(`blk.${l}.attn_qkv.weight`, s.dim, s.dim + 2 * kvDim);
    else {
      matrix(`blk.${l}.attn_q.weight`, s.dim, s.dim);
      matrix(`blk.${l}.attn_k.weight`, s.dim, kvDim);
      matrix(`blk.${l}.attn_v.weight`, s.dim, kvDim);
    }
    matrix(`blk.${l}.attn_output.weight`, s.dim, s.dim);
    const gemma = arch === "gemma2" || arch === "gemma3";
    if (gemma) norm(`blk.${l}.post_attention_norm.weight`);
    norm(`blk.${l}.ffn_norm.weight`);
    if (nExpert) {
      // The router stays F32, as llama-quantize keeps ffn_gate_inp.
      tensors.push({
        info: { name: `blk.${l}.ffn_gate_inp.weight`, dims: [s.dim, nExpert], type: GGMLType.F32 },
        data: () => new Uint8Array(gaussian(s.dim * nExpert, seed + 1000 + l, 0.5).buffer),
      });
      experts(`blk.${l}.ffn_gate_exps.weight`, s.dim, expertFf, nExpert);
      experts(`blk.${l}.ffn_up_exps.weight`, s.dim, expertFf, nExpert);
      experts(`blk.${l}.ffn_down_exps.weight`, expertFf, s.dim, nExpert);
    } else if (arch === "phi3") {
      matrix(`blk.${l}.ffn_up.weight`, s.dim, 2 * s.ffn);
      matrix(`blk.${l}.ffn_down.weight`, s.ffn, s.dim);
    } else {
      matrix(`blk.${l}.ffn_gate.weight`, s.dim, s.ffn);
      matrix(`blk.${l}.ffn_up.weight`, s.dim, s.ffn);
      matrix(`blk.${l}.ffn_down.weight`, s.ffn, s.dim);
    }
    if (gemma) norm(`blk.${l}.post_ffw_norm.weight`);
  }
  norm("output_norm.weight");
  if (arch === "llama" || arch === "mixtral" || arch === "phi3") {
    matrix("output.weight", s.dim, s.vocab);
  }
  if (!mix) return { metadata, tensors };
  // Each tensor in the type llama-quantize gives it, from a block pool of that type.
  const fills = new Map<GGMLType, (n: number) => Uint8Array>([[type, fill]]);
  const fillOf = (t: GGMLType) => {
    if (!fills.has(t)) fills.set(t, poolFiller(t, seed + t));
    return fills.get(t)!;
  };
  const types = mixtureTypes(mix.name, tensors.map((t) => t.info), {
    layers: s.layers,
    experts: nExpert,
  });
  return {
    metadata,
    tensors: tensors.map((t, k) => {
      const to = types[k];
      if (to === undefined || to === t.info.type) return t;
      const n = t.info.dims.reduce((a, b) => a * b, 1);
      return { info: { ...t.info, type: to }, data: () => fillOf(to)(n) };
    }),
  };
}
