/**
 * The operand words of an attention node (src/core/op_schema.ts's attention entry): the shape,
 * and the variants of graph.ts's node as the kernels take them: a sliding window (0: none), a
 * soft-cap (0: none), per-head sink logits (an arena weight of nHead values, -1: none) and
 * causal 1 / 0 (a non-causal pass reads no KV cache: kvLayer -1).
 *
 * @module
 */
import { InvalidArgumentError } from "../../core/errors.ts";
import type { GraphNode } from "../../core/graph.ts";
import type { WeightRef } from "./program.ts";

type AttentionNode = Extract<GraphNode, { op: "attention" }>;

/** Slots of the node's operands, looked up by the compiler. */
export interface AttentionSlots {
  readonly out: number;
  readonly q: number;
  readonly k: number;
  readonly v: number;
  readonly rows: number;
}

/** Named operand values of `node` for encodeOp("attention", ...). */
export function attentionOperands(
  node: AttentionNode,
  slots: AttentionSlots,
  weight: (name: string) => WeightRef,
  kvLayer: (layer: number) => number,
): Record<string, number> {
  const causal = node.causal !== false;
  const window = node.window ?? 0;
  if (!Number.isInteger(window) || window < 0 || (!causal && window > 0)) {
    throw new InvalidArgumentError(
      `attention: window ${window} must be a positive integer, on causal attention only`,
      { expected: "a positive integer (causal)", actual: window },
    );
  }
  const softcap = node.softcap ?? 0;
  if (!(softcap >= 0) || !Number.isFinite(softcap)) {
    throw new InvalidArgumentError(`attention: softcap ${softcap} must be finite and >= 0`, {
      expected: ">= 0",
      actual: softcap,
    });
  }
  let sinkSlot = -1, sinkType = 0;
  if (node.sinks !== undefined) {
    const r = weight(node.sinks);
    if (r.dims[0] !== node.nHead || r.dims.slice(1).some((d) => d !== 1)) {
      throw new InvalidArgumentError(
        `attention sinks ${node.sinks} have dims [${r.dims}], expected ${node.nHead} values`,
        { expected: node.nHead, actual: r.dims[0] },
      );
    }
    sinkSlot = r.slot;
    sinkType = r.type;
  }
  return {
    out: slots.out,
    q: slots.q,
    k: slots.k,
    v: slots.v,
    T: slots.rows,
    kvLayer: causal ? kvLayer(node.layer) : -1,
    nHead: node.nHead,
    nHeadKV: node.nHeadKV,
    headDim: node.headDim,
    valueDim: node.valueDim,
    scale: node.scale,
    window,
    softcap,
    sinkSlot,
    sinkType,
    causal: causal ? 1 : 0,
  };
}
