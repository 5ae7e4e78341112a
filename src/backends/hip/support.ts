/**
 * What the HIP kernels can run, from the op schema (src/core/op_schema.ts) and the type
 * schema (src/gguf/type_schema.ts): an op the program schema has, whose weights are of types
 * HIP reads in their roles (matrix, norm, bias), and whose shape the kernels take. Anything
 * else makes supportsOp false, so the scheduler runs that op on the CPU.
 *
 * @module
 */
import type { GraphNode } from "../../core/graph.ts";
import {
  HIP_MAX_HEAD_DIM,
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
 * batch (`batched`: positions and KV caches per row range) have no HIP kernels: the scheduler
 * keeps them off backends that do not claim `multiSequence`, and these rules decline them too.
 */
const SHAPE_RULES: Readonly<Record<string, (node: GraphNode) => boolean>> = {
  embed: (n) => n.op === "embed" && n.batched !== true,
  // A per-group norm (Qwen3's q/k norm) runs as rows of groupSize values (program.ts checks
  // that it divides the row).
  rms_norm: (n) =>
    n.op === "rms_norm" &&
    (n.groupSize === undefined || Number.isInteger(n.groupSize) && n.groupSize > 0),
  rope: (n) =>
    n.op === "rope" && n.headDim % 2 === 0 && n.rope.nRot % 2 === 0 &&
    n.rope.nRot > 0 && n.rope.nRot <= n.headDim && n.batched !== true,
  // Windows, soft-caps and sinks on causal attention; a non-causal pass (an encoder) plain:
  // the CPU's non-causal attention has none of them.
  attention: (n) =>
    n.op === "attention" &&
    (n.causal !== false ||
      n.window === undefined && n.softcap === undefined && n.sinks === undefined) &&
    (n.window === undefined || Number.isInteger(n.window) && n.window > 0) &&
    (n.softcap === undefined || Number.isFinite(n.softcap) && n.softcap > 0) &&
    n.headDim <= HIP_MAX_HEAD_DIM && n.valueDim <= HIP_MAX_HEAD_DIM &&
    n.nHead % n.nHeadKV === 0 && n.batched !== true,
  last_row: (n) => n.op === "last_row" && n.batched !== true,
  slice: (n) => n.op === "slice" && Number.isInteger(n.offset) && n.offset >= 0,
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
