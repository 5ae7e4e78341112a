/**
 * What the WebGPU kernels run: per op, the weight types they read and the shapes they take.
 * Anything else makes supportsOp false, so the scheduler runs that op on the CPU (with the
 * load notice naming how many ops moved).
 *
 * @module
 */
import type { GraphNode } from "../../core/graph.ts";
import { isDefaultKV } from "../../gguf/kv_type.ts";
import { actFormat } from "../../gguf/type_schema.ts";
import { WEBGPU_MAX_HEAD_DIM } from "./wgsl/attention.ts";
import { WEBGPU_MATRIX_TYPES, WEBGPU_VECTOR_TYPES } from "./wgsl/quant_types.ts";

/** True when the WebGPU kernels can run `node` with the given weight types. */
export function webgpuSupportsOp(
  node: GraphNode,
  weightType: (name: string) => number | undefined,
): boolean {
  const matrix = (name: string) => {
    const t = weightType(name);
    // BF16 activations have no rounding kernel here: such products stay on the CPU.
    return t !== undefined && WEBGPU_MATRIX_TYPES.has(t) && actFormat(t) !== "bf16";
  };
  const vector = (name: string) => {
    const t = weightType(name);
    return t !== undefined && WEBGPU_VECTOR_TYPES.has(t);
  };
  switch (node.op) {
    case "embed":
      return matrix(node.weight);
    case "matmul":
      return matrix(node.weight) && (node.bias === undefined || weightType(node.bias) === 0);
    case "rms_norm":
      return vector(node.weight);
    case "rope":
      return node.headDim % 2 === 0 && node.rope.nRot % 2 === 0 &&
        node.rope.nRot <= node.headDim &&
        (node.freqFactors === undefined || weightType(node.freqFactors) === 0);
    // No sliding-window, soft-capping, sink or non-causal kernel: such attention runs on the CPU;
    // so does attention over a KV cache type (kvType) other than the default f16.
    case "attention":
      return node.window === undefined && node.softcap === undefined && isDefaultKV(node.kvType) &&
        node.sinks === undefined && node.causal !== false && node.headDim <= WEBGPU_MAX_HEAD_DIM &&
        node.valueDim <= WEBGPU_MAX_HEAD_DIM && node.nHead % node.nHeadKV === 0;
    case "swiglu":
    case "geglu":
    case "gelu":
    case "add":
    case "scale":
    case "tanh":
    case "slice":
    case "last_row":
      return true;
    // No kernels for these yet: the CPU runs them.
    case "moe":
    case "layer_norm":
      return false;
  }
}
