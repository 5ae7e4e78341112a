/**
 * Model hyper-parameters from GGUF metadata. Keys are architecture-prefixed
 * (`llama.embedding_length`, `qwen2.attention.head_count`, ...) as llama.cpp writes them.
 * Unsupported architectures, missing keys and nonsense values fail with a ModelConfigError
 * whose code says which (UNSUPPORTED_ARCHITECTURE, MISSING_METADATA, BAD_METADATA).
 *
 * @module
 */
import { ModelConfigError } from "../core/errors.ts";
import { type GGUFFile, type MetaValue, plainMetadata } from "./gguf_file.ts";

/** Rotary embedding layout: "normal" rotates pairs (2i, 2i+1); "neox" rotates (i, i + d/2). */
export type RopeType = "normal" | "neox";

/** RoPE context scaling as stored in the file. */
export interface RopeScaling {
  type: "none" | "linear" | "yarn";
  /** Context multiplier (1 when there is no scaling). */
  factor: number;
  /** Context length the model was trained with (defaults to contextLength). */
  originalContextLength: number;
  /** YaRN extras, set only when the file has them (see YARN_DEFAULTS for llama.cpp's). */
  yarnExtFactor?: number;
  yarnAttnFactor?: number;
  yarnBetaFast?: number;
  yarnBetaSlow?: number;
  /** {arch}.rope.scaling.attn_factor (LongRoPE), multiplying the attention factor. */
  attnFactor?: number;
}

/** llama.cpp's YaRN defaults for keys a file leaves out. */
export const YARN_DEFAULTS = { extFactor: 1, attnFactor: 1, betaFast: 32, betaSlow: 1 } as const;

/** Hyper-parameters a model builder needs. */
export interface ModelConfig {
  /** "llama" | "mistral" | "qwen2" | "qwen3" | "phi3" | "gemma" | "gemma2" | "gemma3". */
  arch: string;
  name?: string;
  contextLength: number;
  embeddingLength: number;
  blockCount: number;
  feedForwardLength: number;
  headCount: number;
  headCountKV: number;
  /** Per-head key dim: {arch}.attention.key_length or embedding/heads. */
  keyLength: number;
  /** Per-head value dim: {arch}.attention.value_length or embedding/heads. */
  valueLength: number;
  /** Dimensions rotated by RoPE (default keyLength). */
  ropeDimensionCount: number;
  /** RoPE base frequency (default 10000). */
  ropeFreqBase: number;
  ropeType: RopeType;
  ropeScaling: RopeScaling;
  /** {arch}.attention.layer_norm_rms_epsilon (default 1e-5). */
  rmsNormEps: number;
  /** {arch}.vocab_size, else the tokenizer's token count, else token_embd rows. */
  vocabSize: number;
  /** general.file_type when present. */
  fileType?: number;
}

/**
 * RoPE layout of the architectures whose configuration this reader knows (llama.cpp's
 * llama_model_rope_type). Which architectures run is up to the architecture plugins; one
 * that is not listed here passes its own RoPE type.
 */
export const SUPPORTED_ARCHITECTURES: Readonly<Record<string, RopeType>> = {
  llama: "normal",
  mistral: "normal",
  qwen2: "neox",
  qwen3: "neox",
  phi3: "neox",
  gemma: "neox",
  gemma2: "neox",
  gemma3: "neox",
};

/**
 * Upper bounds on hyper-parameters. Values past them are BAD_METADATA: no real model comes
 * near, and sizes derived from them (per-layer arrays, buffers) must stay allocatable.
 */
export const MODEL_LIMITS = {
  contextLength: 1 << 27,
  embeddingLength: 1 << 20,
  feedForwardLength: 1 << 22,
  blockCount: 4096,
  headCount: 1 << 14,
  headLength: 1 << 16,
  vocabSize: 1 << 24,
} as const;

type Meta = ReadonlyMap<string, MetaValue>;

function missing(key: string): never {
  throw new ModelConfigError("MISSING_METADATA", `required metadata key ${key} is missing`, {
    key,
  });
}

function badValue(key: string, why: string, actual: unknown, expected?: unknown): never {
  const shown = typeof actual === "bigint"
    ? actual.toString()
    : Array.isArray(actual)
    ? `[array of ${actual.length}]`
    : actual;
  throw new ModelConfigError("BAD_METADATA", `metadata ${key} ${why} (got ${String(shown)})`, {
    key,
    actual: shown,
    expected,
  });
}

/** A positive safe integer from a number or bigint; per-layer arrays must be uniform. */
function intOf(key: string, v: MetaValue, min: number): number {
  if (Array.isArray(v)) {
    if (v.length === 0) badValue(key, "is an empty array", v);
    const first = intOf(key, v[0], min);
    for (const x of v) {
      if (intOf(key, x, min) !== first) badValue(key, "differs between layers (unsupported)", v);
    }
    return first;
  }
  const n = typeof v === "bigint"
    ? (v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= 0n ? Number(v) : NaN)
    : v;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < min) {
    badValue(key, `must be an integer >= ${min}`, v, `>= ${min}`);
  }
  return n;
}

function floatOf(key: string, v: MetaValue): number {
  const n = typeof v === "bigint" ? Number(v) : v;
  if (typeof n !== "number" || !Number.isFinite(n)) badValue(key, "must be a finite number", v);
  return n;
}

class Reader {
  constructor(readonly m: Meta, readonly arch: string) {}
  raw(suffix: string): MetaValue | undefined {
    return this.m.get(`${this.arch}.${suffix}`);
  }
  int(suffix: string, max: number, def?: number): number {
    const key = `${this.arch}.${suffix}`;
    const v = this.raw(suffix);
    const n = v === undefined ? def ?? missing(key) : intOf(key, v, 1);
    if (n > max) badValue(key, `exceeds the limit ${max}`, n, `<= ${max}`);
    return n;
  }
  float(suffix: string, def: number): number {
    const v = this.raw(suffix);
    return v === undefined ? def : floatOf(`${this.arch}.${suffix}`, v);
  }
}

function ropeScaling(r: Reader, contextLength: number): RopeScaling {
  const typeKey = `${r.arch}.rope.scaling.type`;
  const t = r.raw("rope.scaling.type");
  if (t !== undefined && typeof t !== "string") badValue(typeKey, "must be a string", t);
  let factor = r.raw("rope.scaling.factor") !== undefined
    ? r.float("rope.scaling.factor", 1)
    : r.float("rope.scale_linear", 1);
  if (factor === 0) factor = 1; // llama.cpp treats 0 as "not set"
  if (factor < 0) badValue(`${r.arch}.rope.scaling.factor`, "must be positive", factor);
  let type: RopeScaling["type"];
  if (t === undefined) type = factor === 1 ? "none" : "linear";
  else if (t === "none" || t === "linear" || t === "yarn") type = t;
  else badValue(typeKey, "is not a supported scaling type (none, linear, yarn)", t);
  const out: RopeScaling = {
    type,
    factor,
    originalContextLength: r.int(
      "rope.scaling.original_context_length",
      MODEL_LIMITS.contextLength,
      contextLength,
    ),
  };
  const extras = [
    ["yarnExtFactor", "rope.scaling.yarn_ext_factor"],
    ["yarnAttnFactor", "rope.scaling.yarn_attn_factor"],
    ["yarnBetaFast", "rope.scaling.yarn_beta_fast"],
    ["yarnBetaSlow", "rope.scaling.yarn_beta_slow"],
    ["attnFactor", "rope.scaling.attn_factor"],
  ] as const;
  for (const [field, suffix] of extras) {
    if (r.raw(suffix) !== undefined) out[field] = r.float(suffix, 0);
  }
  return out;
}

function vocabSize(r: Reader, m: Meta, tokenEmbdRows?: number): number {
  if (r.raw("vocab_size") !== undefined) return r.int("vocab_size", MODEL_LIMITS.vocabSize);
  const tokens = m.get("tokenizer.ggml.tokens");
  if (Array.isArray(tokens) && tokens.length > 0) {
    if (tokens.length > MODEL_LIMITS.vocabSize) {
      badValue("tokenizer.ggml.tokens", `has more than ${MODEL_LIMITS.vocabSize} tokens`, tokens);
    }
    return tokens.length;
  }
  if (tokenEmbdRows !== undefined && tokenEmbdRows > 0) {
    if (tokenEmbdRows > MODEL_LIMITS.vocabSize) {
      badValue("token_embd.weight rows", `exceed ${MODEL_LIMITS.vocabSize}`, tokenEmbdRows);
    }
    return tokenEmbdRows;
  }
  return missing(`${r.arch}.vocab_size (or tokenizer.ggml.tokens)`);
}

/** Options of the configuration readers. */
export interface ConfigOptions {
  /** RoPE layout (an architecture plugin's); default: SUPPORTED_ARCHITECTURES. */
  readonly ropeType?: RopeType;
}

/** `general.architecture` of plain metadata (MISSING_METADATA / BAD_METADATA otherwise). */
export function architectureOf(m: ReadonlyMap<string, MetaValue>): string {
  const arch = m.get("general.architecture");
  if (arch === undefined) missing("general.architecture");
  if (typeof arch !== "string") badValue("general.architecture", "must be a string", arch);
  return arch;
}

/**
 * Model configuration from plain metadata. `tokenEmbdRows` (rows of token_embd.weight) is
 * the last fallback for the vocabulary size.
 */
export function modelConfigFromMetadata(
  m: Meta,
  tokenEmbdRows?: number,
  opts: ConfigOptions = {},
): ModelConfig {
  const arch = architectureOf(m);
  const ropeType = opts.ropeType ??
    (Object.hasOwn(SUPPORTED_ARCHITECTURES, arch) ? SUPPORTED_ARCHITECTURES[arch] : undefined);
  if (ropeType === undefined) {
    throw new ModelConfigError(
      "UNSUPPORTED_ARCHITECTURE",
      `architecture ${arch} is not supported (supported: ${
        Object.keys(SUPPORTED_ARCHITECTURES).join(", ")
      })`,
      { actual: arch, expected: Object.keys(SUPPORTED_ARCHITECTURES) },
    );
  }
  const r = new Reader(m, arch);
  const contextLength = r.int("context_length", MODEL_LIMITS.contextLength);
  const embeddingLength = r.int("embedding_length", MODEL_LIMITS.embeddingLength);
  const blockCount = r.int("block_count", MODEL_LIMITS.blockCount);
  const feedForwardLength = r.int("feed_forward_length", MODEL_LIMITS.feedForwardLength);
  const headCount = r.int("attention.head_count", MODEL_LIMITS.headCount);
  const headCountKV = r.int("attention.head_count_kv", MODEL_LIMITS.headCount, headCount);
  if (headCount % headCountKV !== 0) {
    badValue(`${arch}.attention.head_count_kv`, `must divide head_count ${headCount}`, headCountKV);
  }
  const hasKeyLength = r.raw("attention.key_length") !== undefined;
  const hasValueLength = r.raw("attention.value_length") !== undefined;
  if ((!hasKeyLength || !hasValueLength) && embeddingLength % headCount !== 0) {
    badValue(
      `${arch}.attention.head_count`,
      `must divide embedding_length ${embeddingLength} (or key_length/value_length must be set)`,
      headCount,
    );
  }
  const keyLength = r.int(
    "attention.key_length",
    MODEL_LIMITS.headLength,
    embeddingLength / headCount,
  );
  const valueLength = r.int(
    "attention.value_length",
    MODEL_LIMITS.headLength,
    embeddingLength / headCount,
  );
  const ropeDimensionCount = r.int("rope.dimension_count", MODEL_LIMITS.headLength, keyLength);
  if (ropeDimensionCount > keyLength || ropeDimensionCount % 2 !== 0) {
    badValue(
      `${arch}.rope.dimension_count`,
      `must be even and at most key_length ${keyLength}`,
      ropeDimensionCount,
    );
  }
  const ropeFreqBase = r.float("rope.freq_base", 10000);
  if (ropeFreqBase <= 0) badValue(`${arch}.rope.freq_base`, "must be positive", ropeFreqBase);
  const rmsNormEps = r.float("attention.layer_norm_rms_epsilon", 1e-5);
  if (rmsNormEps <= 0 || rmsNormEps >= 1) {
    badValue(`${arch}.attention.layer_norm_rms_epsilon`, "must be in (0, 1)", rmsNormEps);
  }
  const cfg: ModelConfig = {
    arch,
    contextLength,
    embeddingLength,
    blockCount,
    feedForwardLength,
    headCount,
    headCountKV,
    keyLength,
    valueLength,
    ropeDimensionCount,
    ropeFreqBase,
    ropeType,
    ropeScaling: ropeScaling(r, contextLength),
    rmsNormEps,
    vocabSize: vocabSize(r, m, tokenEmbdRows),
  };
  const name = m.get("general.name");
  if (typeof name === "string") cfg.name = name;
  const ft = m.get("general.file_type");
  if (ft !== undefined) cfg.fileType = intOf("general.file_type", ft, 0);
  return cfg;
}

/** Model configuration of a parsed GGUF file. */
export function modelConfigFromGGUF(file: GGUFFile, opts: ConfigOptions = {}): ModelConfig {
  const embd = file.tensors.find((t) => t.name === "token_embd.weight");
  return modelConfigFromMetadata(plainMetadata(file), embd?.dims[1], opts);
}
