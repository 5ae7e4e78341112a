/**
 * What the HIP kernels can run: every op of the graph IR, with matmul and embedding weights
 * of the types below (read in GGUF block form), norm weights in F32/F16 and F32 biases.
 * Anything else makes supportsOp false, so the scheduler runs that op on the CPU.
 *
 * @module
 */
import type { GraphNode } from "../../core/graph.ts";
import { GGMLType } from "../../gguf/ggml_types.ts";

/** Weight types the matmul and embedding kernels read. */
export const HIP_WEIGHT_TYPES: ReadonlySet<number> = new Set<number>([
  GGMLType.F32,
  GGMLType.F16,
  GGMLType.BF16,
  GGMLType.Q4_0,
  GGMLType.Q4_1,
  GGMLType.Q5_0,
  GGMLType.Q5_1,
  GGMLType.Q8_0,
  GGMLType.Q4_K,
  GGMLType.Q5_K,
  GGMLType.Q6_K,
]);

/** Types the RMSNorm kernel reads its weight in. */
export const HIP_NORM_TYPES: ReadonlySet<number> = new Set<number>([GGMLType.F32, GGMLType.F16]);

/** Largest head dimension the attention kernel handles. */
export const HIP_MAX_HEAD_DIM = 256;

/** True when the HIP kernels can run `node` with the given weight types. */
export function hipSupportsOp(
  node: GraphNode,
  weightType: (name: string) => number | undefined,
): boolean {
  const has = (set: ReadonlySet<number>, name: string) => {
    const t = weightType(name);
    return t !== undefined && set.has(t);
  };
  switch (node.op) {
    case "embed":
      return has(HIP_WEIGHT_TYPES, node.weight);
    case "matmul":
      return has(HIP_WEIGHT_TYPES, node.weight) &&
        (node.bias === undefined || weightType(node.bias) === GGMLType.F32);
    case "rms_norm":
      return has(HIP_NORM_TYPES, node.weight);
    case "rope":
      return node.headDim % 2 === 0 && node.rope.nRot % 2 === 0 &&
        node.rope.nRot <= node.headDim;
    case "attention":
      return node.headDim <= HIP_MAX_HEAD_DIM && node.valueDim <= HIP_MAX_HEAD_DIM &&
        node.nHead % node.nHeadKV === 0;
    case "swiglu":
    case "add":
    case "last_row":
      return true;
  }
}
