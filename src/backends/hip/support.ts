/**
 * What the HIP kernels can run, from the op schema (src/core/op_schema.ts) and the type
 * schema (src/gguf/type_schema.ts): an op the program schema has, whose weights are of types
 * HIP reads in their roles (matrix, norm, bias), and whose shape the kernels take. Anything
 * else makes supportsOp false, so the scheduler runs that op on the CPU.
 *
 * @module
 */
import type { GraphNode } from "../../core/graph.ts";
import { isDefaultKV } from "../../gguf/kv_type.ts";
import {
  HIP_MAX_HEAD_DIM,
  HIP_MOE_MAX_EXPERTS,
  HIP_MOE_MAX_USED,
  HIP_TYPES,
  PROGRAM_SCHEMA,
  type ProgramSchema,
} from "../../core/op_schema.ts";

export { HIP_MAX_HEAD_DIM };

/** Weight types the matmul and embedding kernels read. */
export const HIP_WEIGHT_TYPES: ReadonlySet<number> = HIP_TYPES.matrix;

/** Types the RMSNorm kernel reads its weight in. */
export const HIP_NORM_TYPES: ReadonlySet<number> = HIP_TYPES.norm;

/**
 * Shape rules of the kernels beyond the schema's word checks, by op. Nodes of a multi-sequence
 * batch (`batched`: positions and KV caches per row range) run as the same ops over a sequence
 * table (native/rf_seqs.cpp), under the same rules.
 */
const SHAPE_RULES: Readonly<Record<string, (node: GraphNode) => boolean>> = {
  // A per-group norm (Qwen3's q/k norm) runs as rows of groupSize values (program.ts checks
  // that it divides the row).
  rms_norm: (n) =>
    n.op === "rms_norm" &&
    (n.groupSize === undefined || Number.isInteger(n.groupSize) && n.groupSize > 0),
  rope: (n) =>
    n.op === "rope" && n.headDim % 2 === 0 && n.rope.nRot % 2 === 0 &&
    n.rope.nRot > 0 && n.rope.nRot <= n.headDim,
  // Windows, soft-caps and sinks on causal attention; a non-causal pass (an encoder) plain:
  // the CPU's non-causal attention has none of them. A multi-sequence batch's attention
  // (native/rf_seqs.cpp) takes none of these variants yet: such batches run it on the CPU. The
  // KV cache is f16 (kv.ts): attention over any other cache type (kvType) runs on the CPU too.
  attention: (n) =>
    n.op === "attention" && isDefaultKV(n.kvType) &&
    (n.causal !== false ||
      n.window === undefined && n.softcap === undefined && n.sinks === undefined) &&
    (n.window === undefined || Number.isInteger(n.window) && n.window > 0) &&
    (n.softcap === undefined || Number.isFinite(n.softcap) && n.softcap > 0) &&
    (n.batched !== true ||
      n.causal !== false && n.window === undefined && n.softcap === undefined &&
        n.sinks === undefined) &&
    n.headDim <= HIP_MAX_HEAD_DIM && n.valueDim <= HIP_MAX_HEAD_DIM &&
    n.nHead % n.nHeadKV === 0,
  slice: (n) => n.op === "slice" && Number.isInteger(n.offset) && n.offset >= 0,
  // Expert weights of a type HIP reads as a matrix (gpt-oss's MXFP4 included; Q2_K is not),
  // at most HIP_MOE_MAX_USED of HIP_MOE_MAX_EXPERTS experts (kernels/moe.hip).
  moe: (n) =>
    n.op === "moe" && Number.isInteger(n.nExpert) && Number.isInteger(n.nUsed) &&
    n.nUsed > 0 && n.nUsed <= Math.min(n.nExpert, HIP_MOE_MAX_USED) &&
    n.nExpert <= HIP_MOE_MAX_EXPERTS && Number.isFinite(n.weightsScale),
};

/**
 * True when the HIP kernels can run `node` with the given weight types: the op is in
 * `schema`, each weight the op's schema entry names is of a type HIP reads in that role
 * (optional weights may be absent), and the op's shape rule holds.
 */
export function hipSupportsOp(
  node: GraphNode,
  weightType: (name: string) => number | undefined,
  schema: ProgramSchema = PROGRAM_SCHEMA,
): boolean {
  const spec = schema.get(node.op);
  if (!spec) return false;
  const fields = node as unknown as Readonly<Record<string, unknown>>;
  for (const [field, typeWord] of Object.entries(spec.weights ?? {})) {
    const name = fields[field];
    const optional = spec.words.some((w) => w.type === typeWord && w.optional);
    if (name === undefined && optional) continue;
    const use = spec.words.find((w) => w.name === typeWord)?.use;
    const t = typeof name === "string" ? weightType(name) : undefined;
    if (!use || t === undefined || !HIP_TYPES[use].has(t)) return false;
  }
  return SHAPE_RULES[node.op]?.(node) ?? true;
}
