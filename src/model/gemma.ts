/**
 * Gemma 2 and Gemma 3 (llama.cpp's gemma2.cpp, gemma3.cpp): embeddings scaled by sqrt(n_embd);
 * per block RMSNorm → q/k/v, per-head q/k RMSNorm (Gemma 3), NeoX RoPE (sliding-window layers
 * with their own base), q scaled by 1/sqrt(key_length), attention (sliding window on the local
 * layers: every other one for Gemma 2, 5 of every 6 for Gemma 3; logit soft-capping for
 * Gemma 2), output projection, post-attention RMSNorm, residual; RMSNorm → GeGLU FFN (tanh
 * GELU) → post-FFN RMSNorm, residual; final RMSNorm, a head tied to the embedding when the file
 * has no output.weight, and final logit soft-capping (Gemma 2). Norm weights are stored with
 * Gemma's +1 already applied by llama.cpp's converter.
 *
 * @module
 */
import type { Architecture, TensorShape } from "../core/architecture.ts";
import { ModelConfigError } from "../core/errors.ts";
import { type Graph, GraphBuilder, type OutputMode, type RopeParams } from "../core/graph.ts";
import type { MetaValue } from "../gguf/gguf_file.ts";
import type { ModelConfig } from "../gguf/model_config.ts";
import { ropeAttention } from "./_attention.ts";
import { checkShapes, ropeParams } from "./llama.ts";

/** Gemma settings beyond ModelConfig. */
export interface GemmaOptions {
  /** Per-head q/k RMSNorm (Gemma 3). */
  readonly qkNorm: boolean;
  /** Sliding window of the local layers (0: none). */
  readonly window: number;
  /** Every `pattern`-th layer (the last of each group) is global. */
  readonly pattern: number;
  /** RoPE base and scale of the local layers. */
  readonly localFreqBase: number;
  readonly localFreqScale: number;
  /** Attention logit soft-cap (0: none). */
  readonly attnSoftcap: number;
  /** Final logit soft-cap (0: none). */
  readonly finalSoftcap: number;
  /** q scale (llama.cpp's f_attention_scale). */
  readonly qScale: number;
  /** The head: output.weight, else the embedding. */
  readonly output: string;
}

function num(md: ReadonlyMap<string, MetaValue>, key: string, def: number): number {
  const v = md.get(key);
  if (v === undefined) return def;
  const n = typeof v === "bigint" ? Number(v) : v;
  if (typeof n !== "number" || !Number.isFinite(n) || n < 0) {
    throw new ModelConfigError("BAD_METADATA", `metadata ${key} must be a number >= 0`, {
      key,
      actual: String(v),
    });
  }
  return n;
}

/**
 * Gemma options from metadata, with llama.cpp's defaults per version (Gemma 2: window 4096,
 * pattern 2, local layers with the global RoPE; Gemma 3: no window unless given, pattern 6,
 * local base 10000 without scaling).
 */
export function gemmaOptions(
  version: 2 | 3,
  c: ModelConfig,
  md: ReadonlyMap<string, MetaValue>,
  tensors: ReadonlyMap<string, TensorShape>,
): GemmaOptions {
  const a = c.arch;
  const pattern = md.get(`${a}.attention.sliding_window_pattern`);
  if (pattern !== undefined && typeof pattern !== "number") {
    throw new ModelConfigError(
      "BAD_METADATA",
      "per-layer sliding_window_pattern arrays are not supported",
      { key: `${a}.attention.sliding_window_pattern` },
    );
  }
  const finalSoftcap = num(md, `${a}.final_logit_softcapping`, 0);
  const attnSoftcap = num(md, `${a}.attn_logit_softcapping`, 0);
  if (version === 3 && attnSoftcap !== 0) {
    throw new ModelConfigError(
      "BAD_METADATA",
      `${a}.attn_logit_softcapping is not used by gemma3`,
      {
        key: `${a}.attn_logit_softcapping`,
        actual: attnSoftcap,
      },
    );
  }
  const f = Math.fround;
  // llama.cpp's f_attention_scale: the 27B models scale by the embedding per head.
  const big = c.blockCount === (version === 2 ? 46 : 62);
  const qScale = f(
    1 / f(Math.sqrt(big ? Math.trunc(c.embeddingLength / c.headCount) : c.keyLength)),
  );
  const scaling = c.ropeScaling.type !== "none" && c.ropeScaling.factor > 0;
  return {
    qkNorm: version === 3,
    window: num(md, `${a}.attention.sliding_window`, version === 2 ? 4096 : 0),
    pattern: num(md, `${a}.attention.sliding_window_pattern`, version === 2 ? 2 : 6),
    localFreqBase: num(md, `${a}.rope.freq_base_swa`, version === 2 ? c.ropeFreqBase : 10000),
    localFreqScale: version === 2 && scaling ? 1 / c.ropeScaling.factor : 1,
    attnSoftcap,
    finalSoftcap,
    qScale,
    output: tensors.has("output.weight") ? "output.weight" : "token_embd.weight",
  };
}

/** Expected [cols, rows] of every tensor the Gemma 3 graph reads. */
function shapes(c: ModelConfig, o: GemmaOptions): Map<string, number[]> {
  const m = new Map<string, number[]>();
  const dim = c.embeddingLength, ff = c.feedForwardLength;
  const qDim = c.headCount * c.keyLength, kDim = c.headCountKV * c.keyLength;
  m.set("token_embd.weight", [dim, c.vocabSize]);
  m.set(o.output, [dim, c.vocabSize]);
  m.set("output_norm.weight", [dim]);
  for (let l = 0; l < c.blockCount; l++) {
    const p = `blk.${l}.`;
    for (const n of ["attn_norm", "post_attention_norm", "ffn_norm", "post_ffw_norm"]) {
      m.set(`${p}${n}.weight`, [dim]);
    }
    m.set(p + "attn_q.weight", [dim, qDim]);
    m.set(p + "attn_k.weight", [dim, kDim]);
    m.set(p + "attn_v.weight", [dim, c.headCountKV * c.valueLength]);
    if (o.qkNorm) {
      m.set(p + "attn_q_norm.weight", [c.keyLength]);
      m.set(p + "attn_k_norm.weight", [c.keyLength]);
    }
    m.set(p + "attn_output.weight", [c.headCount * c.valueLength, dim]);
    m.set(p + "ffn_gate.weight", [dim, ff]);
    m.set(p + "ffn_up.weight", [dim, ff]);
    m.set(p + "ffn_down.weight", [ff, dim]);
  }
  return m;
}

/** Whether layer `l` uses the sliding window (llama.cpp's set_swa_pattern, dense last). */
export function isLocalLayer(o: GemmaOptions, l: number): boolean {
  return o.window > 0 && (o.pattern === 0 || l % o.pattern < o.pattern - 1);
}

/** The Gemma 2 / Gemma 3 forward graph for `nTokens` tokens. */
export function buildGemmaGraph(
  c: ModelConfig,
  o: GemmaOptions,
  nTokens: number,
  output: OutputMode,
): Graph {
  const T = nTokens, L = c.blockCount, dim = c.embeddingLength;
  const qDim = c.headCount * c.keyLength, kDim = c.headCountKV * c.keyLength;
  const vDim = c.headCountKV * c.valueLength;
  const f = Math.fround;
  const globalRope = ropeParams(c);
  const localRope: RopeParams = {
    ...globalRope,
    freqBase: o.localFreqBase,
    freqScale: o.localFreqScale,
  };
  const b = new GraphBuilder(T, L);
  const norm = (layer: number, x: number, rows: number, cols: number, w: string, g?: number) =>
    b.push({
      op: "rms_norm",
      layer,
      out: b.value(rows, cols, w),
      x,
      weight: w,
      eps: c.rmsNormEps,
      ...(g === undefined ? {} : { groupSize: g }),
    });
  const mm = (layer: number, x: number, rows: number, cols: number, w: string) =>
    b.push({ op: "matmul", layer, out: b.value(rows, cols, w), x, weight: w });
  const e = b.push({
    op: "embed",
    layer: -1,
    out: b.value(T, dim, "inp_embd"),
    weight: "token_embd.weight",
  });
  // ggml_scale(inpL, sqrtf(n_embd)).
  let x = b.push({
    op: "scale",
    layer: -1,
    out: b.value(T, dim, "inp_scaled"),
    x: e,
    s: f(Math.sqrt(f(dim))),
  });
  for (let l = 0; l < L; l++) {
    const p = `blk.${l}.`;
    const local = isLocalLayer(o, l);
    const rope = local ? localRope : globalRope;
    let R = T;
    const h = norm(l, x, T, dim, `${p}attn_norm.weight`);
    const headNorm = (x: number, cols: number, which: "q" | "k") =>
      o.qkNorm ? norm(l, x, T, cols, `${p}attn_${which}_norm.weight`, c.keyLength) : x;
    const q0 = headNorm(mm(l, h, T, qDim, `${p}attn_q.weight`), qDim, "q");
    const k0 = headNorm(mm(l, h, T, kDim, `${p}attn_k.weight`), kDim, "k");
    const v = mm(l, h, T, vDim, `${p}attn_v.weight`);
    // Qcur = ggml_scale(Qcur, f_attention_scale), then attention with scale 1.
    const a = ropeAttention(b, c, l, { q: q0, k: k0, v }, {
      rope,
      qScale: o.qScale,
      ...(local ? { window: o.window } : {}),
      ...(o.attnSoftcap ? { softcap: o.attnSoftcap } : {}),
    });
    let cur = mm(l, a, T, dim, `${p}attn_output.weight`);
    if (l === L - 1 && output === "last" && T > 1) {
      cur = b.push({ op: "last_row", layer: l, out: b.value(1, dim, `${p}last_attn`), x: cur });
      x = b.push({ op: "last_row", layer: l, out: b.value(1, dim, `${p}last_inp`), x });
      R = 1;
    }
    cur = norm(l, cur, R, dim, `${p}post_attention_norm.weight`);
    const sa = b.push({ op: "add", layer: l, out: b.value(R, dim, `${p}sa_out`), a: cur, b: x });
    const h2 = norm(l, sa, R, dim, `${p}ffn_norm.weight`);
    const g = mm(l, h2, R, c.feedForwardLength, `${p}ffn_gate.weight`);
    const u = mm(l, h2, R, c.feedForwardLength, `${p}ffn_up.weight`);
    const act = b.push({
      op: "geglu",
      layer: l,
      out: b.value(R, c.feedForwardLength, `${p}ffn_act`),
      gate: g,
      up: u,
    });
    const d = norm(
      l,
      mm(l, act, R, dim, `${p}ffn_down.weight`),
      R,
      dim,
      `${p}post_ffw_norm.weight`,
    );
    x = b.push({ op: "add", layer: l, out: b.value(R, dim, `${p}l_out`), a: d, b: sa });
  }
  const rows = output === "last" ? 1 : T;
  if (output === "last" && T > 1 && L === 0) {
    x = b.push({ op: "last_row", layer: L, out: b.value(1, dim, "last_row"), x });
  }
  const n = norm(L, x, rows, dim, "output_norm.weight");
  if (output === "hidden") return b.build(n);
  let logits = mm(L, n, rows, c.vocabSize, o.output);
  if (o.finalSoftcap) {
    // ggml_scale(1/cap), ggml_tanh, ggml_scale(cap).
    const cap = f(o.finalSoftcap);
    const v = (name: string) => b.value(rows, c.vocabSize, name);
    const sc = b.push({ op: "scale", layer: L, out: v("logits_scaled"), x: logits, s: f(1 / cap) });
    const th = b.push({ op: "tanh", layer: L, out: v("logits_tanh"), x: sc });
    logits = b.push({ op: "scale", layer: L, out: v("logits_capped"), x: th, s: cap });
  }
  return b.build(logits);
}

function gemmaArchitecture(version: 2 | 3, description: string): Architecture {
  return {
    apiVersion: 1,
    name: `gemma${version}`,
    architectures: [`gemma${version}`],
    description,
    ropeType: () => "neox",
    build(config, tensors, metadata) {
      const o = gemmaOptions(version, config, metadata, tensors);
      checkShapes(shapes(config, o), new Map([...tensors].map(([n, s]) => [n, s.dims])));
      return { graph: (nTokens, output) => buildGemmaGraph(config, o, nTokens, output) };
    },
  };
}

/** The Gemma 2 architecture plugin. */
export const gemma2Architecture: Architecture = gemmaArchitecture(
  2,
  "gemma2: scaled embeddings, post norms, GeGLU, alternating sliding window, logit soft-caps",
);

/** The Gemma 3 architecture plugin. */
export const gemma3Architecture: Architecture = gemmaArchitecture(
  3,
  "gemma3: scaled embeddings, q/k norms, post norms, GeGLU, 5:1 sliding window",
);
