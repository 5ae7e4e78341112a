/**
 * The operand words of the native moe op (src/core/op_schema.ts) for a graph moe node: the
 * expert tensors' shapes checked against the node (router [dim, nExpert], gate/up
 * [dim, ff, nExpert], down [ff, dim, nExpert], per-expert biases [rows, nExpert]), the gating and
 * activation as their codes. program.ts emits the op; native/rf_moe.cpp launches it.
 *
 * @module
 */
import { InvalidArgumentError } from "../../core/errors.ts";
import type { GraphNode, GraphValue } from "../../core/graph.ts";
import { MOE_ACT_CODES, MOE_GATING_CODES } from "../../core/op_schema.ts";
import type { WeightRef } from "./program.ts";

type MoeNode = Extract<GraphNode, { op: "moe" }>;

/** The moe op's operands for `node` reading x [T, dim] from `xSlot` into `outSlot` [T, dim]. */
export function moeOperands(
  node: MoeNode,
  x: GraphValue,
  out: GraphValue,
  xSlot: number,
  outSlot: number,
  weight: (name: string) => WeightRef,
): Record<string, number> {
  const nE = node.nExpert, T = out.rows, dim = out.cols;
  if (x.rows !== T || x.cols !== dim) {
    throw new InvalidArgumentError(`moe: input [${x.rows}, ${x.cols}] != output [${T}, ${dim}]`, {
      expected: [T, dim],
      actual: [x.rows, x.cols],
    });
  }
  const shaped = (name: string, want: number[], what: string): WeightRef => {
    const r = weight(name);
    const dims = [...r.dims];
    while (dims.length > want.length && dims[dims.length - 1] === 1) dims.pop();
    if (dims.length !== want.length || dims.some((d, i) => d !== want[i])) {
      throw new InvalidArgumentError(
        `moe ${what} ${name} has dims [${r.dims}], expected [${want}]`,
        { expected: want, actual: r.dims },
      );
    }
    return r;
  };
  const router = shaped(node.router, [dim, nE], "router");
  const up = weight(node.up);
  const ff = up.dims[1];
  if (!(ff > 0)) {
    throw new InvalidArgumentError(`moe up ${node.up} has dims [${up.dims}]`, {
      actual: up.dims,
    });
  }
  const gate = shaped(node.gate, [dim, ff, nE], "gate");
  shaped(node.up, [dim, ff, nE], "up");
  const down = shaped(node.down, [ff, dim, nE], "down");
  const bias = (name: string | undefined, rows: number, prefix: string) => {
    if (name === undefined) return { [`${prefix}Slot`]: -1, [`${prefix}Type`]: 0 };
    const r = shaped(name, rows === 1 ? [nE] : [rows, nE], "bias");
    return { [`${prefix}Slot`]: r.slot, [`${prefix}Type`]: r.type };
  };
  return {
    out: outSlot,
    x: xSlot,
    T,
    dim,
    ff,
    nExpert: nE,
    nUsed: node.nUsed,
    ffAll: ff * nE,
    dimAll: dim * nE,
    routerSlot: router.slot,
    routerType: router.type,
    gateSlot: gate.slot,
    gateType: gate.type,
    upSlot: up.slot,
    upType: up.type,
    downSlot: down.slot,
    downType: down.type,
    ...bias(node.routerBias, 1, "routerBias"),
    ...bias(node.gateBias, ff, "gateBias"),
    ...bias(node.upBias, ff, "upBias"),
    ...bias(node.downBias, dim, "downBias"),
    gating: MOE_GATING_CODES[node.gating ?? "softmax"],
    act: MOE_ACT_CODES[node.act ?? "swiglu"],
    normWeights: node.normWeights ? 1 : 0,
    weightsScale: node.weightsScale,
  };
}
