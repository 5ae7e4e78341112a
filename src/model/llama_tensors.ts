/**
 * The tensors of a llama-family model: which optional pieces a file has (QKV biases, per-head
 * q/k norms, RoPE frequency factors, fused QKV and gate/up, experts), their expected shapes,
 * and the shape check every architecture uses; RoPE parameters from the configuration.
 *
 * @module
 */
import { ModelConfigError } from "../core/errors.ts";
import type { RopeParams } from "../core/graph.ts";
import type { MetaValue } from "../gguf/gguf_file.ts";
import type { ModelConfig } from "../gguf/model_config.ts";

/** Mixture-of-experts settings of a model (llama.cpp's n_expert, n_expert_used, ...). */
export interface MoeConfig {
  readonly nExpert: number;
  readonly nUsed: number;
  /** FFN width of one expert. */
  readonly ff: number;
  readonly weightsScale: number;
}

/** MoE settings from `{arch}.expert_*` metadata; undefined without `expert_count`. */
export function moeConfig(
  c: ModelConfig,
  md: ReadonlyMap<string, MetaValue> | undefined,
): MoeConfig | undefined {
  const get = (k: string) => {
    const v = md?.get(`${c.arch}.${k}`);
    return typeof v === "bigint" ? Number(v) : v;
  };
  const n = get("expert_count");
  if (n === undefined || n === 0) return undefined;
  const used = get("expert_used_count");
  const ff = get("expert_feed_forward_length") ?? c.feedForwardLength;
  const scale = get("expert_weights_scale") ?? 0;
  const ok = (v: unknown, lo: number): v is number =>
    typeof v === "number" && Number.isInteger(v) && v >= lo && v <= 4096;
  if (!ok(n, 1) || !ok(used, 1) || used > n || !ok(ff, 1) || typeof scale !== "number") {
    throw new ModelConfigError("BAD_METADATA", `${c.arch}.expert_* metadata is inconsistent`, {
      key: `${c.arch}.expert_count`,
      actual: JSON.stringify({ n, used, ff, scale }),
    });
  }
  return { nExpert: n, nUsed: used, ff, weightsScale: scale };
}

/** The tensors a llama-family model reads, resolved from the file. */
export interface LlamaTensors {
  tokenEmbd: string;
  output: string;
  outputNorm: string;
  /** Per layer: whether q/k/v biases exist (qwen2). */
  qkvBias: boolean[];
  /** Per layer: whether per-head q/k RMSNorm weights exist (qwen3's attn_q_norm/attn_k_norm). */
  qkNorm: boolean[];
  /** RoPE frequency factors (Llama 3's rope_freqs.weight), shared by every layer. */
  ropeFreqs?: string;
  /** Mixture of experts (Mixtral, Qwen3-MoE): every layer's FFN is an expert FFN. */
  moe?: MoeConfig;
  /** Phi-3: q, k and v in one attn_qkv.weight [dim, qDim + 2 kvDim]. */
  fusedQkv: boolean;
  /** Phi-3: gate and up halves in one ffn_up.weight [dim, 2 ff], gate first. */
  fusedGateUp: boolean;
  /** Phi-3: q is scaled by 1/sqrt(head_dim) before attention (which then scales by 1). */
  preScaleQ: boolean;
}

/** Options of resolveLlamaTensors (what an architecture requires beyond the file). */
export interface LlamaTensorOptions {
  readonly requireQkNorm?: boolean;
  readonly requireMoe?: boolean;
  readonly preScaleQ?: boolean;
  readonly metadata?: ReadonlyMap<string, MetaValue>;
  /**
   * Context length sessions use: Phi-3's LongRoPE takes rope_factors_long past the training
   * context and rope_factors_short within it (llama.cpp's get_rope_factors).
   */
  readonly contextLength?: number;
}

/** Expected [cols, rows] (ggml dims) of every tensor the graph uses. */
export function expectedShapes(c: ModelConfig, t: LlamaTensors): Map<string, number[]> {
  const m = new Map<string, number[]>();
  const dim = c.embeddingLength;
  const qDim = c.headCount * c.keyLength;
  const kDim = c.headCountKV * c.keyLength;
  const vDim = c.headCountKV * c.valueLength;
  m.set(t.tokenEmbd, [dim, c.vocabSize]);
  m.set(t.output, [dim, c.vocabSize]);
  m.set(t.outputNorm, [dim]);
  if (t.ropeFreqs) m.set(t.ropeFreqs, [c.ropeDimensionCount / 2]);
  for (let l = 0; l < c.blockCount; l++) {
    const p = `blk.${l}.`;
    m.set(p + "attn_norm.weight", [dim]);
    if (t.fusedQkv) m.set(p + "attn_qkv.weight", [dim, qDim + kDim + vDim]);
    else {
      m.set(p + "attn_q.weight", [dim, qDim]);
      m.set(p + "attn_k.weight", [dim, kDim]);
      m.set(p + "attn_v.weight", [dim, vDim]);
    }
    m.set(p + "attn_output.weight", [c.headCount * c.valueLength, dim]);
    m.set(p + "ffn_norm.weight", [dim]);
    if (t.moe) {
      const { nExpert: e, ff } = t.moe;
      m.set(p + "ffn_gate_inp.weight", [dim, e]);
      m.set(p + "ffn_gate_exps.weight", [dim, ff, e]);
      m.set(p + "ffn_up_exps.weight", [dim, ff, e]);
      m.set(p + "ffn_down_exps.weight", [ff, dim, e]);
    } else {
      if (t.fusedGateUp) m.set(p + "ffn_up.weight", [dim, 2 * c.feedForwardLength]);
      else {
        m.set(p + "ffn_gate.weight", [dim, c.feedForwardLength]);
        m.set(p + "ffn_up.weight", [dim, c.feedForwardLength]);
      }
      m.set(p + "ffn_down.weight", [c.feedForwardLength, dim]);
    }
    if (t.qkNorm[l]) {
      m.set(p + "attn_q_norm.weight", [c.keyLength]);
      m.set(p + "attn_k_norm.weight", [c.keyLength]);
    }
    if (t.qkvBias[l]) {
      m.set(p + "attn_q.bias", [qDim]);
      m.set(p + "attn_k.bias", [kDim]);
      m.set(p + "attn_v.bias", [vDim]);
    }
  }
  return m;
}

/**
 * Resolves tensor names against the file's tensor dims and checks every shape.
 * A missing tensor or a wrong shape is a ModelConfigError naming it.
 */
export function resolveLlamaTensors(
  c: ModelConfig,
  dims: ReadonlyMap<string, readonly number[]>,
  opts: LlamaTensorOptions = {},
): LlamaTensors {
  const t: LlamaTensors = {
    tokenEmbd: "token_embd.weight",
    output: dims.has("output.weight") ? "output.weight" : "token_embd.weight",
    outputNorm: "output_norm.weight",
    qkvBias: [],
    qkNorm: [],
    fusedQkv: dims.has("blk.0.attn_qkv.weight"),
    fusedGateUp: !dims.has("blk.0.ffn_gate.weight") && dims.has("blk.0.ffn_up.weight"),
    preScaleQ: opts.preScaleQ === true,
  };
  if (dims.has("rope_freqs.weight")) t.ropeFreqs = "rope_freqs.weight";
  else if (dims.has("rope_factors_short.weight") || dims.has("rope_factors_long.weight")) {
    const orig = c.ropeScaling.originalContextLength;
    const ctx = opts.contextLength ?? c.contextLength;
    t.ropeFreqs = ctx > orig ? "rope_factors_long.weight" : "rope_factors_short.weight";
  }
  const moe = moeConfig(c, opts.metadata);
  if (moe) t.moe = moe;
  else if (opts.requireMoe || dims.has("blk.0.ffn_gate_inp.weight")) {
    throw new ModelConfigError("MISSING_METADATA", `${c.arch}.expert_count is missing`, {
      key: `${c.arch}.expert_count`,
    });
  }
  for (let l = 0; l < c.blockCount; l++) {
    t.qkvBias.push(dims.has(`blk.${l}.attn_q.bias`));
    t.qkNorm.push(opts.requireQkNorm === true || dims.has(`blk.${l}.attn_q_norm.weight`));
  }
  checkShapes(expectedShapes(c, t), dims);
  return t;
}

/**
 * Checks that every tensor of `expected` ([cols, rows] in ggml order) is in `dims` with that
 * shape (trailing 1s allowed); MISSING_TENSOR / BAD_TENSOR_SHAPE name the first that is not.
 */
export function checkShapes(
  expected: ReadonlyMap<string, readonly number[]>,
  dims: ReadonlyMap<string, readonly number[]>,
): void {
  for (const [name, want] of expected) {
    const have = dims.get(name);
    if (!have) {
      throw new ModelConfigError("MISSING_TENSOR", `tensor ${name} is missing`, { expected: name });
    }
    const h = [...have];
    while (h.length > want.length && h[h.length - 1] === 1) h.pop();
    if (h.length !== want.length || h.some((d, i) => d !== want[i])) {
      throw new ModelConfigError(
        "BAD_TENSOR_SHAPE",
        `tensor ${name} has shape [${have}], expected [${want}]`,
        {
          expected: want,
          actual: [...have],
        },
      );
    }
  }
}

/** RoPE parameters from the configuration. */
export function ropeParams(c: ModelConfig): RopeParams {
  const s = c.ropeScaling;
  const scaled = s.type !== "none" && s.factor > 0;
  return {
    mode: c.ropeType,
    nRot: c.ropeDimensionCount,
    freqBase: c.ropeFreqBase,
    freqScale: scaled ? 1 / s.factor : 1,
    extFactor: s.type === "yarn" ? (s.yarnExtFactor ?? 1) : 0,
    // llama.cpp: cparams.yarn_attn_factor *= hparams.rope_attn_factor.
    attnFactor: Math.fround(
      (s.type === "yarn" ? (s.yarnAttnFactor ?? 1) : 1) * (s.attnFactor ?? 1),
    ),
    betaFast: s.yarnBetaFast ?? 32,
    betaSlow: s.yarnBetaSlow ?? 1,
    nCtxOrig: s.originalContextLength || c.contextLength,
  };
}
