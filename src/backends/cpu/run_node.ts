/**
 * One graph node on host arrays: the CPU backend's op dispatch (WebAssembly kernels where
 * they exist and hold the data, the TypeScript reference path otherwise).
 *
 * @module
 */
import type { ComputeRequest } from "../../core/backend.ts";
import { BackendError } from "../../core/errors.ts";
import type { GraphNode } from "../../core/graph.ts";
import type { CpuKVStore } from "./kv.ts";
import { attention } from "./ops/attention.ts";
import { add, lastRow, rmsNorm, swiglu } from "./ops/elementwise.ts";
import { attentionFull } from "./ops/attention_full.ts";
import { attentionSoftmax } from "./ops/attention_softmax.ts";
import { geglu, gelu } from "./ops/gelu.ts";
import { layerNorm } from "./ops/layer_norm.ts";
import { decodeRow, matmul } from "./ops/matmul.ts";
import { moe } from "./ops/moe.ts";
import { rope } from "./ops/rope.ts";
import type { WasmKernels } from "./wasm/runtime.ts";
import type { CpuWeightStore } from "./weights.ts";

/** Runs one node on host arrays. */
export function runCpuNode(
  node: GraphNode,
  req: ComputeRequest,
  vals: Map<number, Float32Array>,
  w: CpuWeightStore,
  kernels: WasmKernels | undefined,
  kv: CpuKVStore | undefined,
): void {
  const g = req.graph;
  const outV = g.values[node.out];
  const out = new Float32Array(outV.rows * outV.cols);
  const get = (id: number) => {
    const v = vals.get(id);
    if (!v) throw new BackendError("BACKEND_CALL_FAILED", `value ${id} missing before ${node.op}`);
    return v;
  };
  switch (node.op) {
    case "embed": {
      const m = w.matrix(node.weight);
      for (let t = 0; t < outV.rows; t++) {
        const id = node.index === "position"
          ? req.pos0 + t
          : node.index === "zero"
          ? 0
          : req.tokens[t];
        if (!(id >= 0 && id < m.rows)) {
          throw new BackendError("BACKEND_CALL_FAILED", `token id ${id} outside vocabulary`, {
            expected: `0..${m.rows - 1}`,
            actual: id,
          });
        }
        decodeRow(m, id, out, t * m.cols);
      }
      break;
    }
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
      const m = w.matrix(node.weight);
      const bias = node.bias ? w.vector(node.bias) : undefined;
      matmul(m, get(node.x), outV.rows, out, bias, kernels);
      break;
    }
    case "rope": {
      const ff = node.freqFactors ? w.vector(node.freqFactors) : undefined;
      if (kernels) kernels.rope(get(node.x), outV.rows, node, req.pos0, out, ff);
      else rope(get(node.x), outV.rows, node.nHeads, node.headDim, node.rope, req.pos0, out, ff);
      break;
    }
    case "attention": {
      if (node.causal === false) {
        if (req.pos0 !== 0) {
          throw new BackendError(
            "BACKEND_CALL_FAILED",
            "a non-causal batch must start at position 0",
            {
              expected: 0,
              actual: req.pos0,
            },
          );
        }
        attentionFull(get(node.q), get(node.k), get(node.v), outV.rows, node, out);
        break;
      }
      const layer = kv?.layers.get(node.layer);
      if (!layer) {
        throw new BackendError("BACKEND_CALL_FAILED", `no KV cache for layer ${node.layer}`);
      }
      const kern = kernels;
      // The kernel attends over every earlier position without soft-capping: with a window
      // that excludes some, or a soft-cap, the TypeScript path runs.
      const windowed = node.window !== undefined && req.pos0 + outV.rows > node.window;
      if (
        !windowed && node.softcap === undefined && kern?.owns(layer.k) && kern.owns(layer.v) &&
        kern.supportsAttention(node)
      ) {
        kern.attention(
          layer.k,
          layer.v,
          get(node.q),
          get(node.k),
          get(node.v),
          outV.rows,
          req.pos0,
          node,
          out,
        );
      } else {
        // llama.cpp runs soft-capped models (Gemma 2) without flash attention.
        const run = node.softcap === undefined ? attention : attentionSoftmax;
        run(get(node.q), get(node.k), get(node.v), outV.rows, req.pos0, layer, node, out);
      }
      break;
    }
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
    case "last_row": {
      const x = g.values[node.x];
      lastRow(get(node.x), x.rows, x.cols, out);
      break;
    }
  }
  vals.set(node.out, out);
}
