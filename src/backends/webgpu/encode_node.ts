/**
 * One graph node as WebGPU dispatches: which generated kernel, its parameters, its buffer
 * bindings (in the kernel's binding order) and its launch grid. program.ts supplies the
 * buffers (values, temporaries, weights, KV cache, tables) through `NodeBuffers`.
 *
 * @module
 */
import { BackendError } from "../../core/errors.ts";
import type { Graph, GraphNode } from "../../core/graph.ts";
import { actFormat } from "../../gguf/type_schema.ts";
import type { WeightRef } from "./weights.ts";
import {
  attnCombineKernel,
  attnSplitKernel,
  kvWriteKernel,
  partialStride,
  ropeKernel,
} from "./wgsl/attention.ts";
import { mapKernel, type MapOp, mapUsesTable } from "./wgsl/elementwise.ts";
import { actRoundKernel, embedKernel, rmsNormKernel } from "./wgsl/matmul.ts";
import { grid1d, type KernelSource } from "./wgsl/params.ts";
import { productKernel, productShape } from "./wgsl/product.ts";
import { blockOf, wgslType } from "./wgsl/quant_types.ts";

/** One kernel launch. */
export interface DispatchSpec {
  readonly src: KernelSource;
  readonly params: Readonly<Record<string, number>>;
  readonly bindings: readonly GPUBufferBinding[];
  readonly grid: readonly [number, number, number];
}

/** The buffers a node binds. */
export interface NodeBuffers {
  value(id: number): GPUBufferBinding;
  /** A scratch buffer of `bytes` that lives until the node's dispatches ran. */
  temp(bytes: number): GPUBufferBinding;
  /**
   * The copy of value `id` rounded to activation format `fmt` (`bytes`, plus `sumBytes` of
   * block sums when nonzero); `fresh` when this node must compute it (else an earlier
   * product of the same input did).
   */
  rounded(
    id: number,
    fmt: string,
    bytes: number,
    sumBytes: number,
  ): { xr: GPUBufferBinding; xs?: GPUBufferBinding; fresh: boolean };
  weight(name: string): WeightRef;
  /** Layer `layer`'s K and V cache bindings (filled in when a cache is bound). */
  kv(layer: number): { k: GPUBufferBinding; v: GPUBufferBinding };
  readonly state: GPUBufferBinding;
  readonly tokens: GPUBufferBinding;
  rope(node: GraphNode & { op: "rope" }): GPUBufferBinding;
  gelu(): GPUBufferBinding;
  /** True when the KV cache stores f16. */
  readonly f16: boolean;
  /** Positions the KV cache holds (sizes the attention splits). */
  readonly kvCapacity: number;
}

export const bind = (r: WeightRef): GPUBufferBinding => ({
  buffer: r.buffer,
  offset: r.offset,
  size: Math.ceil(r.bytes / 4) * 4,
});

/** Rows of a weight matrix (ggml dims: dims[0] is the row length). */
export const rowsOf = (r: WeightRef) => r.dims.slice(1).reduce((a, b) => a * b, 1);

/** Cache rows per attention split: few splits for short caches, at most 32. */
export function splitCount(capacity: number): number {
  return Math.max(1, Math.min(32, Math.ceil(capacity / 256)));
}

/** The dispatches of `node`. */
export function encodeNode(node: GraphNode, g: Graph, b: NodeBuffers): DispatchSpec[] {
  const outV = g.values[node.out];
  const n = outV.rows * outV.cols;
  const out = b.value(node.out);
  const map = (op: MapOp, ins: number[], extra: Record<string, number> = {}): DispatchSpec => {
    const src = mapKernel(op);
    const bindings = [...ins.map((i) => b.value(i)), out];
    const params = { n, s: 0, cols: outV.cols, xc: 0, off: 0, ...extra };
    return {
      src,
      params,
      bindings: mapUsesTable(op) ? [...bindings, b.gelu()] : bindings,
      grid: grid1d(n, src.wg),
    };
  };
  switch (node.op) {
    case "embed": {
      const w = b.weight(node.weight);
      const { chunk } = wgslType(w.type);
      const src = embedKernel(w.type);
      const nch = outV.cols / chunk;
      const mode = node.index === "position" ? 1 : node.index === "zero" ? 2 : 0;
      return [{
        src,
        params: { n: outV.rows * nch, cols: outV.cols, nch, rowBytes: rowBytes(w), mode },
        bindings: [bind(w), b.tokens, b.state, out],
        grid: grid1d(outV.rows * nch, src.wg),
      }];
    }
    case "matmul":
      return matmul(node, g, b, out);
    case "rms_norm": {
      const w = b.weight(node.weight);
      const cols = node.groupSize ?? outV.cols;
      const rows = n / cols;
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
      const [x, y] = grid1d(rows, 1);
      return [{
        src: rmsNormKernel(w.type),
        params: { cols, eps: node.eps, nx: x, rows },
        bindings: [bind(w), b.value(node.x), out],
        grid: [x, y, 1],
      }];
    }
    case "rope": {
      const src = ropeKernel();
      return [{
        src,
        params: {
          n,
          cols: outV.cols,
          headDim: node.headDim,
          nRot: node.rope.nRot,
          neox: node.rope.mode === "neox" ? 1 : 0,
          n2: 0,
          cols2: 0,
        },
        bindings: [b.value(node.x), out, b.rope(node), b.state],
        grid: grid1d(n, src.wg),
      }];
    }
    case "attention":
      return attention(node, g, b, out);
    case "swiglu":
    case "geglu":
      return [map(node.op, [node.gate, node.up])];
    case "add":
      return [map("add", [node.a, node.b])];
    case "gelu":
    case "tanh":
      return [map(node.op, [node.x])];
    case "scale":
      return [map("scale", [node.x], { s: node.s })];
    case "slice":
      return [map("slice", [node.x], { xc: g.values[node.x].cols, off: node.offset })];
    case "last_row": {
      const x = g.values[node.x];
      return [map("slice", [node.x], { xc: 0, off: (x.rows - 1) * x.cols })];
    }
    case "moe":
    case "layer_norm":
      throw new BackendError("BACKEND_UNSUPPORTED_OP", `WebGPU has no ${node.op} kernel`, {
        actual: node.op,
      });
  }
}

/** Bytes of one row of a weight matrix in its block form. */
export function rowBytes(w: WeightRef): number {
  const { elems, bytes } = blockOf(w.type);
  return (w.dims[0] / elems) * bytes;
}

function matmul(
  node: GraphNode & { op: "matmul" },
  g: Graph,
  b: NodeBuffers,
  out: GPUBufferBinding,
): DispatchSpec[] {
  const w = b.weight(node.weight);
  const xv = g.values[node.x];
  const K = w.dims[0];
  const N = rowsOf(w);
  const T = xv.rows;
  if (xv.cols !== K) {
    throw new BackendError("BACKEND_CALL_FAILED", `matmul ${node.weight}: input width mismatch`, {
      expected: K,
      actual: xv.cols,
    });
  }
  const { specs, x, xs, shape } = productInput(node, b, K, T);
  const t = wgslType(w.type);
  const src = productKernel(w.type, shape, node.bias !== undefined);
  const groups = Math.ceil(N / shape.rr);
  const nx = Math.min(groups, 65535);
  const bindings = [bind(w), x, out];
  if (t.min && !shape.inline) bindings.push(xs!);
  if (node.bias) bindings.push(bind(b.weight(node.bias)));
  specs.push({
    src,
    params: { K, N, T, nch: K / t.chunk, rowBytes: rowBytes(w), nx },
    bindings,
    grid: [nx, Math.ceil(groups / nx), Math.ceil(T / shape.tt)],
  });
  return specs;
}

/**
 * The input of a product of `node`'s weight: its shape class and, unless the product rounds
 * the activations itself, the rounding launch (shared by products of the same input).
 */
export function productInput(
  node: GraphNode & { op: "matmul" },
  b: NodeBuffers,
  K: number,
  T: number,
) {
  const w = b.weight(node.weight);
  const fmt = actFormat(w.type);
  const shape = productShape(T, fmt);
  const specs: DispatchSpec[] = [];
  let x = b.value(node.x);
  let xs: GPUBufferBinding | undefined;
  if (fmt !== "f32" && !shape.inline) {
    if (fmt === "bf16") {
      throw new BackendError("BACKEND_UNSUPPORTED_OP", "WebGPU has no bf16 activations");
    }
    const block = fmt === "f16" ? 1 : fmt === "q8_k" ? 256 : 32;
    const r = b.rounded(node.x, fmt, T * K * 4, fmt === "q8_1" ? (T * K / 32) * 4 : 0);
    if (r.fresh) {
      const src = actRoundKernel(fmt);
      const bindings = [x, r.xr, ...(r.xs ? [r.xs] : [])];
      const n = (T * K) / block;
      specs.push({ src, params: { n }, bindings, grid: grid1d(n, src.wg) });
    }
    x = r.xr;
    xs = r.xs;
  }
  return { specs, x, xs, shape };
}

function attention(
  node: GraphNode & { op: "attention" },
  g: Graph,
  b: NodeBuffers,
  out: GPUBufferBinding,
): DispatchSpec[] {
  const T = g.values[node.q].rows;
  const cache = b.kv(node.layer);
  const kCols = node.nHeadKV * node.headDim;
  const vCols = node.nHeadKV * node.valueDim;
  const write = kvWriteKernel(b.f16);
  const nSplit = splitCount(b.kvCapacity);
  const part = b.temp(T * node.nHead * nSplit * partialStride(node.valueDim) * 4);
  return [
    {
      src: write,
      params: { nK: T * kCols, nV: T * vCols, kCols, vCols },
      bindings: [
        b.value(node.k),
        b.value(node.v),
        cache.k,
        cache.v,
        b.state,
      ],
      grid: grid1d(T * Math.max(kCols, vCols), write.wg),
    },
    {
      src: attnSplitKernel(b.f16),
      params: {
        T,
        nHead: node.nHead,
        group: node.nHead / node.nHeadKV,
        hd: node.headDim,
        vd: node.valueDim,
        kCols,
        vCols,
        nSplit,
        scale: node.scale,
      },
      bindings: [b.value(node.q), cache.k, cache.v, part, b.state],
      grid: [nSplit, node.nHead, T],
    },
    {
      src: attnCombineKernel(),
      params: { nHead: node.nHead, vd: node.valueDim, nSplit },
      bindings: [part, out],
      grid: [node.nHead, T, 1],
    },
  ];
}
