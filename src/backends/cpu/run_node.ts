/**
 * One graph node on host arrays: the CPU backend's op dispatch (WebAssembly kernels where
 * they exist and hold the data, the TypeScript reference path otherwise).
 *
 * @module
 */
import type { ComputeRequest } from "../../core/backend.ts";
import { BackendError } from "../../core/errors.ts";
import { type GraphNode, nodeInputs } from "../../core/graph.ts";
import type { CpuKVStore } from "./kv.ts";
import { attention } from "./ops/attention.ts";
import { add, lastRow, rmsNorm, swiglu } from "./ops/elementwise.ts";
import { attentionFull } from "./ops/attention_full.ts";
import { attentionSoftmax } from "./ops/attention_softmax.ts";
import { isFloatRows } from "./ops/kv_rows.ts";
import { geglu, gelu } from "./ops/gelu.ts";
import { layerNorm } from "./ops/layer_norm.ts";
import { decodeRow, matmul } from "./ops/matmul.ts";
import { moe } from "./ops/moe.ts";
import { rope } from "./ops/rope.ts";
import type { WasmKernels } from "./wasm/runtime.ts";
import type { CpuWeightStore } from "./weights.ts";

/** One sequence's rows of a batched node: where they are, their position and KV cache. */
export interface CpuSequence {
  readonly row0: number;
  readonly rows: number;
  readonly pos0: number;
  readonly kv: CpuKVStore | undefined;
}

/**
 * Runs one node on host arrays. Nodes marked `batched` run once per sequence of `seqs` (the
 * request's sequence table with each sequence's cache) over that sequence's rows.
 */
export function runCpuNode(
  node: GraphNode,
  req: ComputeRequest,
  vals: Map<number, Float32Array>,
  w: CpuWeightStore,
  kernels: WasmKernels | undefined,
  kv: CpuKVStore | undefined,
  seqs: readonly CpuSequence[] = [],
): void {
  const g = req.graph;
  const outV = g.values[node.out];
  const out = new Float32Array(outV.rows * outV.cols);
  const get = (id: number) => {
    const v = vals.get(id);
    if (!v) throw new BackendError("BACKEND_CALL_FAILED", `value ${id} missing before ${node.op}`);
    return v;
  };
  if ("batched" in node && node.batched) {
    if (seqs.length !== g.sequences) {
      throw new BackendError("BACKEND_CALL_FAILED", `batched ${node.op} needs the sequence table`, {
        expected: g.sequences,
        actual: seqs.length,
      });
    }
    const inCols = nodeInputs(node).map((id) => [id, g.values[id].cols] as const);
    seqs.forEach((q, i) => {
      const part = (id: number) => {
        const c = inCols.find(([v]) => v === id)?.[1] ?? 0;
        return get(id).subarray(q.row0 * c, (q.row0 + q.rows) * c);
      };
      const o = node.op === "last_row" ? i : q.row0;
      const rows = node.op === "last_row" ? 1 : q.rows;
      const tokens = req.tokens.subarray(q.row0, q.row0 + q.rows);
      const dst = out.subarray(o * outV.cols, (o + rows) * outV.cols);
      positional(node, part, q.rows, q.pos0, tokens, q.kv, w, kernels, dst);
    });
    vals.set(node.out, out);
    return;
  }
  switch (node.op) {
    case "embed":
      if (node.index === "position" || node.index === "zero") {
        positional(node, get, outV.rows, req.pos0, req.tokens, kv, w, kernels, out);
      } else {
        embedRows(w, node.weight, req.tokens, out);
      }
      break;
    case "rms_norm": {
      // Per-group norms (groupSize < cols) are the same op over rows of groupSize values.
      const cols = node.groupSize ?? outV.cols;
      const rows = (outV.rows * outV.cols) / cols;
      if (!Number.isInteger(rows)) {
        throw new BackendError(
          "BACKEND_CALL_FAILED",
          "rms_norm group size does not divide the row",
          {
            expected: `a divisor of ${outV.cols}`,
            actual: cols,
          },
        );
      }
      const weight = w.vector(node.weight);
      if (kernels) kernels.rmsNorm(get(node.x), weight, rows, cols, node.eps, out);
      else rmsNorm(get(node.x), weight, rows, cols, node.eps, out);
      break;
    }
    case "matmul": {
      const bias = node.bias ? w.vector(node.bias) : undefined;
      if (!w.nativeMatmul(node.weight, get(node.x), outV.rows, out, bias)) {
        matmul(w.matrix(node.weight), get(node.x), outV.rows, out, bias, kernels);
      }
      break;
    }
    case "rope":
    case "attention":
      positional(node, get, outV.rows, req.pos0, req.tokens, kv, w, kernels, out);
      break;
    case "swiglu":
      if (kernels) kernels.swiglu(get(node.gate), get(node.up), out, outV.cols);
      else swiglu(get(node.gate), get(node.up), out, outV.cols);
      break;
    case "moe": {
      const m = {
        router: w.matrix(node.router),
        gate: w.matrix(node.gate),
        up: w.matrix(node.up),
        down: w.matrix(node.down),
        ...(node.routerBias ? { routerBias: w.vector(node.routerBias) } : {}),
        ...(node.gateBias ? { gateBias: w.vector(node.gateBias) } : {}),
        ...(node.upBias ? { upBias: w.vector(node.upBias) } : {}),
        ...(node.downBias ? { downBias: w.vector(node.downBias) } : {}),
      };
      moe(get(node.x), outV.rows, m, node, out, kernels);
      break;
    }
    case "geglu":
      geglu(get(node.gate), get(node.up), out, out.length);
      break;
    case "slice": {
      const x = get(node.x);
      const xc = g.values[node.x].cols;
      for (let t = 0; t < outV.rows; t++) {
        out.set(x.subarray(t * xc + node.offset, t * xc + node.offset + outV.cols), t * outV.cols);
      }
      break;
    }
    case "layer_norm": {
      const bias = node.bias ? w.vector(node.bias) : undefined;
      layerNorm(get(node.x), w.vector(node.weight), bias, outV.rows, outV.cols, node.eps, out);
      break;
    }
    case "gelu":
      gelu(get(node.x), out, out.length);
      break;
    case "tanh": {
      const x = get(node.x);
      for (let i = 0; i < out.length; i++) out[i] = Math.fround(Math.tanh(x[i]));
      break;
    }
    case "scale": {
      const x = get(node.x);
      const s = Math.fround(node.s);
      for (let i = 0; i < out.length; i++) out[i] = Math.fround(x[i] * s);
      break;
    }
    case "add":
      add(get(node.a), get(node.b), out);
      break;
    case "last_row":
      positional(node, get, g.values[node.x].rows, req.pos0, req.tokens, kv, w, kernels, out);
      break;
  }
  vals.set(node.out, out);
}

/** Rows of `tokens`' embeddings. */
function embedRows(w: CpuWeightStore, weight: string, ids: ArrayLike<number>, out: Float32Array) {
  const m = w.matrix(weight);
  for (let t = 0; t < ids.length; t++) {
    const id = ids[t];
    if (!(id >= 0 && id < m.rows)) {
      throw new BackendError("BACKEND_CALL_FAILED", `token id ${id} outside vocabulary`, {
        expected: `0..${m.rows - 1}`,
        actual: id,
      });
    }
    decodeRow(m, id, out, t * m.cols);
  }
}

/**
 * The ops that depend on where rows sit, over `rows` rows of one sequence from position
 * `pos0`: embedding by position (or row 0), rope, attention over the sequence's KV cache, and
 * the last row (of `rows`).
 */
function positional(
  node: GraphNode,
  get: (id: number) => Float32Array,
  rows: number,
  pos0: number,
  tokens: Int32Array,
  kv: CpuKVStore | undefined,
  w: CpuWeightStore,
  kernels: WasmKernels | undefined,
  out: Float32Array,
): void {
  switch (node.op) {
    case "embed": {
      if (node.index !== "position" && node.index !== "zero") {
        embedRows(w, node.weight, tokens, out);
        break;
      }
      const ids = Int32Array.from({ length: rows }, (_, t) => node.index === "zero" ? 0 : pos0 + t);
      embedRows(w, node.weight, ids, out);
      break;
    }
    case "rope": {
      const ff = node.freqFactors ? w.vector(node.freqFactors) : undefined;
      if (kernels) kernels.rope(get(node.x), rows, node, pos0, out, ff);
      else rope(get(node.x), rows, node.nHeads, node.headDim, node.rope, pos0, out, ff);
      break;
    }
    case "attention": {
      if (node.causal === false) {
        if (pos0 !== 0) {
          throw new BackendError(
            "BACKEND_CALL_FAILED",
            "a non-causal batch must start at position 0",
            { expected: 0, actual: pos0 },
          );
        }
        attentionFull(get(node.q), get(node.k), get(node.v), rows, node, out);
        break;
      }
      const layer = kv?.layers.get(node.layer);
      if (!layer) {
        throw new BackendError("BACKEND_CALL_FAILED", `no KV cache for layer ${node.layer}`);
      }
      // The kernel is llama.cpp's flash path over an F16 cache, and so an F32 one, which
      // llama.cpp casts to F16 (windows and sinks included); soft-capped attention and the
      // quantized cache types run on the TypeScript path.
      const sinks = node.sinks ? w.vector(node.sinks) : undefined;
      const { k: lk, v: lv } = layer;
      if (
        node.softcap === undefined && isFloatRows(lk) && isFloatRows(lv) &&
        kernels?.owns(lk.data) && kernels.owns(lv.data) && kernels.supportsAttention(node)
      ) {
        kernels.attention(
          lk.data,
          lv.data,
          get(node.q),
          get(node.k),
          get(node.v),
          rows,
          pos0,
          node,
          out,
          sinks,
        );
      } else {
        // llama.cpp runs soft-capped models (Gemma 2) without flash attention.
        const run = node.softcap === undefined ? attention : attentionSoftmax;
        run(get(node.q), get(node.k), get(node.v), rows, pos0, layer, node, out, sinks);
      }
      break;
    }
    case "last_row":
      lastRow(get(node.x), rows, out.length, out);
      break;
    default:
      throw new BackendError("BACKEND_CALL_FAILED", `${node.op} is not a positional op`);
  }
}
