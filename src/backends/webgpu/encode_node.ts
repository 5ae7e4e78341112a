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
import {
  productKernel,
  productShape,
  splitProductKernel,
  swigluProductKernel,
} from "./wgsl/product.ts";
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

const bind = (r: WeightRef): GPUBufferBinding => ({
  buffer: r.buffer,
  offset: r.offset,
  size: Math.ceil(r.bytes / 4) * 4,
});

/** Rows of a weight matrix (ggml dims: dims[0] is the row length). */
const rowsOf = (r: WeightRef) => r.dims.slice(1).reduce((a, b) => a * b, 1);

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

/**
 * True when `add` and the `norm` after it run as one kernel: the norm reads the sum, over
 * whole rows.
 */
export function fusesAddNorm(add: GraphNode, norm: GraphNode | undefined): boolean {
  return add.op === "add" && norm?.op === "rms_norm" && norm.x === add.out &&
    norm.groupSize === undefined;
}

/**
 * True when `gate`, `up` and the `swiglu` of their outputs run as one launch: one token, the
 * same input, weights of one type and shape, no biases.
 */
export function fusesSwiglu(
  nodes: readonly (GraphNode | undefined)[],
  g: Graph,
  weight: (name: string) => WeightRef,
): boolean {
  const [a, b, s] = nodes;
  if (a?.op !== "matmul" || b?.op !== "matmul" || s?.op !== "swiglu") return false;
  if (a.bias || b.bias || a.x !== b.x || s.gate !== a.out || s.up !== b.out) return false;
  if (g.values[a.x].rows !== 1) return false;
  const wa = weight(a.weight);
  const wb = weight(b.weight);
  return wa.type === wb.type && wa.dims.join() === wb.dims.join() &&
    actFormat(wa.type) !== "bf16";
}

/** A llama FFN's gate and up products and their SwiGLU as one launch (see fusesSwiglu). */
export function encodeSwiglu(
  gate: GraphNode,
  up: GraphNode,
  swiglu: GraphNode,
  b: NodeBuffers,
): DispatchSpec[] {
  if (gate.op !== "matmul" || up.op !== "matmul") {
    throw new BackendError("BACKEND_CALL_FAILED", "swiglu fusion of other ops");
  }
  const w = b.weight(gate.weight);
  const u = b.weight(up.weight);
  const K = w.dims[0];
  const N = rowsOf(w);
  const { specs, x, xs, shape } = productInput(gate, b, K, 1);
  const t = wgslType(w.type);
  const groups = Math.ceil(N / 4);
  const nx = Math.min(groups, 65535);
  const bindings = [bind(w), x, b.value(swiglu.out)];
  if (t.min && !shape.inline) bindings.push(xs!);
  bindings.push(bind(u));
  specs.push({
    src: swigluProductKernel(w.type, shape.inline),
    params: { K, N, T: 1, nch: K / t.chunk, rowBytes: rowBytes(w), nx },
    bindings,
    grid: [nx, Math.ceil(groups / nx), 1],
  });
  return specs;
}

/**
 * True when three products (a layer's q, k, v) run as one launch: one token, the same input,
 * weights of one type and row length, no biases, the first two weights' rows multiples of 4.
 */
export function fusesSplit(
  nodes: readonly (GraphNode | undefined)[],
  g: Graph,
  weight: (name: string) => WeightRef,
): boolean {
  const [a, b, c] = nodes;
  if (a?.op !== "matmul" || b?.op !== "matmul" || c?.op !== "matmul") return false;
  if (a.bias || b.bias || c.bias || a.x !== b.x || a.x !== c.x) return false;
  if (g.values[a.x].rows !== 1) return false;
  const w = [a, b, c].map((n) => weight(n.weight));
  return w.every((x) => x.type === w[0].type && x.dims[0] === w[0].dims[0]) &&
    rowsOf(w[0]) % 4 === 0 && rowsOf(w[1]) % 4 === 0 && actFormat(w[0].type) !== "bf16";
}

/** Three products of one input as one launch (see fusesSplit). */
export function encodeSplit(nodes: readonly GraphNode[], b: NodeBuffers) {
  const mm = nodes.map((n) => {
    if (n.op !== "matmul") throw new BackendError("BACKEND_CALL_FAILED", "split of other ops");
    return n;
  });
  const w = mm.map((n) => b.weight(n.weight));
  const K = w[0].dims[0];
  const rows = w.map(rowsOf);
  const N = rows[0] + rows[1] + rows[2];
  const { specs, x, xs, shape } = productInput(mm[0], b, K, 1);
  const t = wgslType(w[0].type);
  const groups = Math.ceil(N / 4);
  const nx = Math.min(groups, 65535);
  const bindings = [bind(w[0]), x, b.value(mm[0].out)];
  if (t.min && !shape.inline) bindings.push(xs!);
  bindings.push(bind(w[1]), b.value(mm[1].out), bind(w[2]), b.value(mm[2].out));
  specs.push({
    src: splitProductKernel(w[0].type, shape.inline),
    params: {
      K,
      N,
      T: 1,
      nch: K / t.chunk,
      rowBytes: rowBytes(w[0]),
      nx,
      N0: rows[0],
      N1: rows[1],
    },
    bindings,
    grid: [nx, Math.ceil(groups / nx), 1],
  });
  return specs;
}

/** True when two RoPE nodes (a layer's q and k) with the same parameters run as one launch. */
export function fusesRope(a: GraphNode, b: GraphNode | undefined): boolean {
  return a.op === "rope" && b?.op === "rope" && a.headDim === b.headDim &&
    a.freqFactors === b.freqFactors && JSON.stringify(a.rope) === JSON.stringify(b.rope) &&
    b.x !== a.out;
}

/** Two RoPE nodes as one launch (see fusesRope). */
export function encodeRopePair(a: GraphNode, b2: GraphNode, g: Graph, b: NodeBuffers) {
  if (a.op !== "rope" || b2.op !== "rope") {
    throw new BackendError("BACKEND_CALL_FAILED", "rope pair of other ops");
  }
  const va = g.values[a.out];
  const vb = g.values[b2.out];
  const n = va.rows * va.cols;
  const n2 = vb.rows * vb.cols;
  const src = ropeKernel(true);
  const spec: DispatchSpec = {
    src,
    params: {
      n,
      cols: va.cols,
      headDim: a.headDim,
      nRot: a.rope.nRot,
      neox: a.rope.mode === "neox" ? 1 : 0,
      n2,
      cols2: vb.cols,
    },
    bindings: [
      b.value(a.x),
      b.value(a.out),
      b.rope(a),
      b.state,
      b.value(b2.x),
      b.value(b2.out),
    ],
    grid: grid1d(n + n2, src.wg),
  };
  return [spec];
}

/** The residual add and the RMSNorm of its sum as one launch (see fusesAddNorm). */
export function encodeAddNorm(add: GraphNode, norm: GraphNode, g: Graph, b: NodeBuffers) {
  if (add.op !== "add" || norm.op !== "rms_norm") {
    throw new BackendError("BACKEND_CALL_FAILED", "add + rms_norm fusion of other ops");
  }
  const w = b.weight(norm.weight);
  const v = g.values[norm.out];
  const [x, y] = grid1d(v.rows, 1);
  const spec: DispatchSpec = {
    src: rmsNormKernel(w.type, true),
    params: { cols: v.cols, eps: norm.eps, nx: x, rows: v.rows },
    bindings: [bind(w), b.value(add.a), b.value(add.b), b.value(add.out), b.value(norm.out)],
    grid: [x, y, 1],
  };
  return [spec];
}

function rowBytes(w: WeightRef): number {
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
function productInput(
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
