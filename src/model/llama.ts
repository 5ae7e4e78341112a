/**
 * Builds the llama-family forward graph (llama incl. Llama 3's rope_freqs and tied output,
 * mistral, qwen2's QKV biases, qwen3's per-head q/k norms) from a model configuration and the
 * names of the tensors present in the file.
 *
 * @module
 */
import type { Architecture } from "../core/architecture.ts";
import { ModelConfigError } from "../core/errors.ts";
import { type Graph, GraphBuilder, type OutputMode, type RopeParams } from "../core/graph.ts";
import type { MetaValue } from "../gguf/gguf_file.ts";
import type { ModelConfig } from "../gguf/model_config.ts";

/** Architectures this builder runs. */
export const LLAMA_FAMILY: readonly string[] = ["llama", "mistral", "qwen2"];

/** The llama-family architecture plugin. */
export const llamaArchitecture: Architecture = {
  apiVersion: 1,
  name: "llama",
  architectures: LLAMA_FAMILY,
  description: "llama, mistral, qwen2: RMSNorm, RoPE, GQA attention, SwiGLU (qwen2: QKV biases)",
  // llama.cpp's llama_model_rope_type: qwen2 uses NeoX ordering.
  ropeType: (arch) => arch === "qwen2" ? "neox" : "normal",
  build(config, tensors, metadata) {
    const dims = new Map([...tensors].map(([n, s]) => [n, s.dims]));
    const t = resolveLlamaTensors(config, dims, { metadata });
    return { graph: (nTokens, output) => buildLlamaGraph(config, t, nTokens, output) };
  },
};

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
    m.set(p + "attn_q.weight", [dim, qDim]);
    m.set(p + "attn_k.weight", [dim, kDim]);
    m.set(p + "attn_v.weight", [dim, vDim]);
    m.set(p + "attn_output.weight", [c.headCount * c.valueLength, dim]);
    m.set(p + "ffn_norm.weight", [dim]);
    if (t.moe) {
      const { nExpert: e, ff } = t.moe;
      m.set(p + "ffn_gate_inp.weight", [dim, e]);
      m.set(p + "ffn_gate_exps.weight", [dim, ff, e]);
      m.set(p + "ffn_up_exps.weight", [dim, ff, e]);
      m.set(p + "ffn_down_exps.weight", [ff, dim, e]);
    } else {
      m.set(p + "ffn_gate.weight", [dim, c.feedForwardLength]);
      m.set(p + "ffn_up.weight", [dim, c.feedForwardLength]);
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
  opts: {
    requireQkNorm?: boolean;
    requireMoe?: boolean;
    metadata?: ReadonlyMap<string, MetaValue>;
  } = {},
): LlamaTensors {
  const t: LlamaTensors = {
    tokenEmbd: "token_embd.weight",
    output: dims.has("output.weight") ? "output.weight" : "token_embd.weight",
    outputNorm: "output_norm.weight",
    qkvBias: [],
    qkNorm: [],
  };
  if (dims.has("rope_freqs.weight")) t.ropeFreqs = "rope_freqs.weight";
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
    attnFactor: s.type === "yarn" ? (s.yarnAttnFactor ?? 1) : 1,
    betaFast: s.yarnBetaFast ?? 32,
    betaSlow: s.yarnBetaSlow ?? 1,
    nCtxOrig: s.originalContextLength || c.contextLength,
  };
}

/**
 * The forward graph for `nTokens` tokens; `logits` "last" computes only the last row's
 * logits (generation), "all" every row's (scoring), "hidden" every row's final normalized
 * hidden state [T, dim] (embeddings).
 */
export function buildLlamaGraph(
  c: ModelConfig,
  t: LlamaTensors,
  nTokens: number,
  logits: OutputMode,
): Graph {
  const T = nTokens;
  const L = c.blockCount;
  const dim = c.embeddingLength;
  const qDim = c.headCount * c.keyLength;
  const kDim = c.headCountKV * c.keyLength;
  const vDim = c.headCountKV * c.valueLength;
  const aDim = c.headCount * c.valueLength;
  const rope = ropeParams(c);
  const b = new GraphBuilder(T, L);
  let x = b.push({ op: "embed", layer: -1, out: b.value(T, dim, "inp_embd"), weight: t.tokenEmbd });
  for (let l = 0; l < L; l++) {
    const p = `blk.${l}.`;
    let R = T; // rows from here on in this layer
    const mm = (x: number, name: string, cols: number, bias: boolean) =>
      b.push({
        op: "matmul",
        layer: l,
        out: b.value(R, cols, `${p}${name}`),
        x,
        weight: `${p}${name}.weight`,
        bias: bias ? `${p}${name}.bias` : undefined,
      });
    const h = b.push({
      op: "rms_norm",
      layer: l,
      out: b.value(T, dim, `${p}attn_norm`),
      x,
      weight: `${p}attn_norm.weight`,
      eps: c.rmsNormEps,
    });
    const bias = t.qkvBias[l];
    // Per-head RMSNorm of q and k before RoPE (qwen3).
    const headNorm = (x: number, which: "q" | "k", cols: number) =>
      t.qkNorm[l]
        ? b.push({
          op: "rms_norm",
          layer: l,
          out: b.value(T, cols, `${p}${which}_norm`),
          x,
          weight: `${p}attn_${which}_norm.weight`,
          eps: c.rmsNormEps,
          groupSize: c.keyLength,
        })
        : x;
    const q0 = headNorm(mm(h, "attn_q", qDim, bias), "q", qDim);
    const k0 = headNorm(mm(h, "attn_k", kDim, bias), "k", kDim);
    const v = mm(h, "attn_v", vDim, bias);
    const freq = t.ropeFreqs ? { freqFactors: t.ropeFreqs } : {};
    const q = b.push({
      op: "rope",
      layer: l,
      out: b.value(T, qDim, `${p}q_rope`),
      x: q0,
      nHeads: c.headCount,
      headDim: c.keyLength,
      rope,
      ...freq,
    });
    const k = b.push({
      op: "rope",
      layer: l,
      out: b.value(T, kDim, `${p}k_rope`),
      x: k0,
      nHeads: c.headCountKV,
      headDim: c.keyLength,
      rope,
      ...freq,
    });
    const a = b.push({
      op: "attention",
      layer: l,
      out: b.value(T, aDim, `${p}attn`),
      q,
      k,
      v,
      nHead: c.headCount,
      nHeadKV: c.headCountKV,
      headDim: c.keyLength,
      valueDim: c.valueLength,
      // llama.cpp: 1.0f / sqrtf(float(n_embd_head)), two float32 roundings
      scale: Math.fround(1 / Math.fround(Math.sqrt(c.keyLength))),
    });
    let o = mm(a, "attn_output", dim, false);
    if (l === L - 1 && logits === "last" && T > 1) {
      // As llama.cpp's inp_out_ids: the last layer's FFN runs on the output row only.
      x = b.push({ op: "last_row", layer: l, out: b.value(1, dim, `${p}last_inp`), x });
      o = b.push({ op: "last_row", layer: l, out: b.value(1, dim, `${p}last_attn`), x: o });
      R = 1;
    }
    x = b.push({ op: "add", layer: l, out: b.value(R, dim, `${p}attn_res`), a: x, b: o });
    const h2 = b.push({
      op: "rms_norm",
      layer: l,
      out: b.value(R, dim, `${p}ffn_norm`),
      x,
      weight: `${p}ffn_norm.weight`,
      eps: c.rmsNormEps,
    });
    let d: number;
    if (t.moe) {
      d = b.push({
        op: "moe",
        layer: l,
        out: b.value(R, dim, `${p}ffn_moe`),
        x: h2,
        router: `${p}ffn_gate_inp.weight`,
        gate: `${p}ffn_gate_exps.weight`,
        up: `${p}ffn_up_exps.weight`,
        down: `${p}ffn_down_exps.weight`,
        nExpert: t.moe.nExpert,
        nUsed: t.moe.nUsed,
        normWeights: true,
        weightsScale: t.moe.weightsScale,
      });
    } else {
      const g = mm(h2, "ffn_gate", c.feedForwardLength, false);
      const u = mm(h2, "ffn_up", c.feedForwardLength, false);
      const s = b.push({
        op: "swiglu",
        layer: l,
        out: b.value(R, c.feedForwardLength, `${p}ffn_act`),
        gate: g,
        up: u,
      });
      d = mm(s, "ffn_down", dim, false);
    }
    x = b.push({ op: "add", layer: l, out: b.value(R, dim, `${p}ffn_res`), a: x, b: d });
  }
  const rows = logits === "last" ? 1 : T;
  if (logits === "last" && T > 1 && L === 0) {
    x = b.push({ op: "last_row", layer: L, out: b.value(1, dim, "last_row"), x });
  }
  const n = b.push({
    op: "rms_norm",
    layer: L,
    out: b.value(rows, dim, "output_norm"),
    x,
    weight: t.outputNorm,
    eps: c.rmsNormEps,
  });
  if (logits === "hidden") return b.build(n);
  const out = b.push({
    op: "matmul",
    layer: L,
    out: b.value(rows, c.vocabSize, "logits"),
    x: n,
    weight: t.output,
  });
  return b.build(out);
}
