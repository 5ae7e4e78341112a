/**
 * Neighbouring nodes WebGPU runs as one dispatch (program.ts asks `fuses*` and then encodes the
 * group): a residual add and the RMSNorm of its sum, q/k/v products of one input, a one-token
 * FFN's gate/up products with their SwiGLU, and a layer's q and k ropes. Each gives the same
 * values as its nodes one by one.
 *
 * @module
 */
import { BackendError } from "../../core/errors.ts";
import type { Graph, GraphNode } from "../../core/graph.ts";
import { actFormat } from "../../gguf/type_schema.ts";
import type { WeightRef } from "./weights.ts";
import { ropeKernel } from "./wgsl/attention.ts";
import { rmsNormKernel } from "./wgsl/matmul.ts";
import { grid1d } from "./wgsl/params.ts";
import { splitProductKernel, swigluProductKernel } from "./wgsl/product.ts";
import { wgslType } from "./wgsl/quant_types.ts";
import {
  bind,
  type DispatchSpec,
  type NodeBuffers,
  productInput,
  rowBytes,
  rowsOf,
} from "./encode_node.ts";

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
