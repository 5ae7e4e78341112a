/**
 * The op schema: every op of the native program (the int32 word stream of native/rf_api.h)
 * declared once, with its opcode, its operand words in order, what each word is (a scratch
 * slot and the dims that size it, a weight and its type word, a positive dim, a float...) and
 * which graph node fields it comes from. scripts/gen_tables.ts generates the C headers from
 * it (opcodes, word indices, the table the native validator checks every program against);
 * the TypeScript encoder (encodeOp) and the HIP capability check read it at run time.
 *
 * Adding an op: one entry in PROGRAM_OPS (and its graph node in graph.ts), its kernels and
 * launch in native/rf_graph.cpp, its conformance test; then `deno task gen:tables`.
 *
 * @module
 */
import { InvalidArgumentError } from "./errors.ts";
import type { HipUse } from "../gguf/type_schema.ts";
import { typesWhere } from "../gguf/type_schema.ts";

/** Version of the native ABI the generated tables describe (RF_ABI_VERSION). */
export const NATIVE_ABI_VERSION = 3;

/** Largest attention head dimension (key and value) the HIP kernels handle. */
export const HIP_MAX_HEAD_DIM = 256;

/** RoPE mode codes (ggml's: 0 normal, GGML_ROPE_TYPE_NEOX = 2), for HIP and WASM alike. */
export const ROPE_MODE_CODES = { normal: 0, neox: 2 } as const;

/** Embedding row codes of the embed op's `index` word: token id, position, row 0. */
export const EMBED_INDEX_CODES = { token: 0, position: 1, zero: 2 } as const;

/** MoE op codes: the `gating` word (graph.ts moe `gating`) and the `act` word (`act`). */
export const MOE_GATING_CODES = { softmax: 0, softmax_weight: 1 } as const;
export const MOE_ACT_CODES = { swiglu: 0, swiglu_oai: 1 } as const;
/** Most experts per layer and experts per token the HIP MoE kernels handle (kernels/moe.hip). */
export const HIP_MOE_MAX_EXPERTS = 256;
export const HIP_MOE_MAX_USED = 16;

/** What an operand word is. */
export type WordKind =
  | "slot" // scratch slot of a float32 tensor of `elems` elements (product of those words)
  | "host_in" // slot in the host input of `elems` int32 values (token ids)
  | "host_out" // byte offset in the host output buffer
  | "weight" // arena slot of a weight of type word `type` and shape `shape`
  | "type" // a ggml type id that HIP reads in role `use`
  | "dim" // a positive count
  | "count" // a count >= 0
  | "int" // any int32 (checked by the op's own rules)
  | "f32"; // a float32 stored as its bits

/** One operand word. */
export interface WordSpec {
  readonly name: string;
  readonly kind: WordKind;
  /** slot / host_in: the words whose product is the element count. */
  readonly elems?: readonly string[];
  /** slot: bytes per element (default 4). */
  readonly elemBytes?: 1 | 4;
  /** weight: the word holding its type. */
  readonly type?: string;
  /** weight: [row length, rows] words (rows 1 when absent). */
  readonly shape?: readonly string[];
  /** weight: -1 means none. */
  readonly optional?: boolean;
  /** type: the role it is read in (the allowed types follow from type_schema.ts). */
  readonly use?: HipUse;
}

/** One program op. */
export interface ProgramOpSpec {
  readonly name: string;
  readonly code: number;
  readonly words: readonly WordSpec[];
  /** Graph node field holding each weight -> the type word of that weight. */
  readonly weights?: Readonly<Record<string, string>>;
}

const slot = (name: string, ...elems: string[]): WordSpec => ({ name, kind: "slot", elems });
const dim = (name: string): WordSpec => ({ name, kind: "dim" });
const int = (name: string): WordSpec => ({ name, kind: "int" });
const f32 = (name: string): WordSpec => ({ name, kind: "f32" });
const type = (name: string, use: HipUse): WordSpec => ({ name, kind: "type", use });
const weight = (name: string, t: string, shape: string[], optional = false): WordSpec => ({
  name,
  kind: "weight",
  type: t,
  shape,
  optional,
});

/** Every program op, in opcode order. */
export const PROGRAM_OPS: readonly ProgramOpSpec[] = [
  {
    name: "embed",
    code: 1,
    words: [
      slot("out", "T", "cols"),
      { name: "tokens", kind: "host_in", elems: ["T"] },
      dim("T"),
      weight("wSlot", "wType", ["cols", "vocab"]),
      type("wType", "matrix"),
      dim("cols"),
      dim("vocab"),
      int("index"),
    ],
    weights: { weight: "wType" },
  },
  {
    name: "rms_norm",
    code: 2,
    words: [
      slot("out", "T", "cols"),
      slot("x", "T", "cols"),
      dim("T"),
      dim("cols"),
      weight("wSlot", "wType", ["cols"]),
      type("wType", "norm"),
      f32("eps"),
    ],
    weights: { weight: "wType" },
  },
  {
    name: "matmul",
    code: 3,
    words: [
      slot("out", "T", "N"),
      slot("x", "T", "K"),
      dim("T"),
      dim("K"),
      dim("N"),
      weight("wSlot", "wType", ["K", "N"]),
      type("wType", "matrix"),
      weight("biasSlot", "biasType", ["N"], true),
      type("biasType", "bias"),
    ],
    weights: { weight: "wType", bias: "biasType" },
  },
  {
    name: "rope",
    code: 4,
    words: [
      slot("out", "T", "nHeads", "headDim"),
      slot("x", "T", "nHeads", "headDim"),
      dim("T"),
      dim("nHeads"),
      dim("headDim"),
      int("mode"),
      dim("nRot"),
      int("nCtxOrig"),
      f32("freqBase"),
      f32("freqScale"),
      f32("extFactor"),
      f32("attnFactor"),
      f32("betaFast"),
      f32("betaSlow"),
      // Frequency factors (rope_freqs): nFreq = nRot / 2 divisors of the angles, or none (-1).
      weight("ffSlot", "ffType", ["nFreq"], true),
      type("ffType", "norm"),
      dim("nFreq"),
    ],
    weights: { freqFactors: "ffType" },
  },
  {
    name: "attention",
    code: 5,
    words: [
      slot("out", "T", "nHead", "valueDim"),
      slot("q", "T", "nHead", "headDim"),
      slot("k", "T", "nHeadKV", "headDim"),
      slot("v", "T", "nHeadKV", "valueDim"),
      dim("T"),
      int("kvLayer"),
      dim("nHead"),
      dim("nHeadKV"),
      dim("headDim"),
      dim("valueDim"),
      f32("scale"),
      // Sliding window in positions (0: none), soft-cap c of the scores (0: none), per-head
      // sink logits (nHead values, or none: -1), causal 1 / non-causal 0 (kvLayer -1: no cache;
      // the batch is the whole input, from position 0).
      { name: "window", kind: "count" },
      f32("softcap"),
      weight("sinkSlot", "sinkType", ["nHead"], true),
      type("sinkType", "norm"),
      int("causal"),
    ],
    weights: { sinks: "sinkType" },
  },
  {
    name: "swiglu",
    code: 6,
    words: [slot("out", "n"), slot("gate", "n"), slot("up", "n"), dim("n")],
  },
  { name: "add", code: 7, words: [slot("out", "n"), slot("a", "n"), slot("b", "n"), dim("n")] },
  {
    name: "last_row",
    code: 8,
    words: [slot("out", "cols"), slot("x", "T", "cols"), dim("T"), dim("cols")],
  },
  {
    name: "download",
    code: 9,
    words: [
      { name: "hostOffset", kind: "host_out" },
      { name: "src", kind: "slot", elems: ["bytes"], elemBytes: 1 },
      { name: "bytes", kind: "count" },
    ],
  },
  // ggml's tanh GELU (its half-precision table's values), elementwise.
  { name: "gelu", code: 10, words: [slot("out", "n"), slot("x", "n"), dim("n")] },
  {
    name: "geglu",
    code: 11,
    words: [slot("out", "n"), slot("gate", "n"), slot("up", "n"), dim("n")],
  },
  { name: "scale", code: 12, words: [slot("out", "n"), slot("x", "n"), dim("n"), f32("s")] },
  { name: "tanh", code: 13, words: [slot("out", "n"), slot("x", "n"), dim("n")] },
  {
    // Columns offset .. offset + cols of each row of x (xCols wide).
    name: "slice",
    code: 14,
    words: [
      slot("out", "T", "cols"),
      slot("x", "T", "xCols"),
      dim("T"),
      dim("cols"),
      dim("xCols"),
      { name: "offset", kind: "count" },
    ],
  },
  {
    name: "layer_norm",
    code: 15,
    words: [
      slot("out", "T", "cols"),
      slot("x", "T", "cols"),
      dim("T"),
      dim("cols"),
      weight("wSlot", "wType", ["cols"]),
      type("wType", "norm"),
      weight("biasSlot", "biasType", ["cols"], true),
      type("biasType", "norm"),
      f32("eps"),
    ],
    weights: { weight: "wType", bias: "biasType" },
  },
  {
    // Mixture-of-experts FFN (graph.ts moe): router [dim, nExpert], gate/up [dim, ff * nExpert],
    // down [ff, dim * nExpert] (3-D tensors as rows of every expert), biases per expert.
    name: "moe",
    code: 16,
    words: [
      slot("out", "T", "dim"),
      slot("x", "T", "dim"),
      dim("T"),
      dim("dim"),
      dim("ff"),
      dim("nExpert"),
      dim("nUsed"),
      dim("ffAll"), // ff * nExpert
      dim("dimAll"), // dim * nExpert
      weight("routerSlot", "routerType", ["dim", "nExpert"]),
      type("routerType", "matrix"),
      weight("gateSlot", "gateType", ["dim", "ffAll"]),
      type("gateType", "matrix"),
      weight("upSlot", "upType", ["dim", "ffAll"]),
      type("upType", "matrix"),
      weight("downSlot", "downType", ["ff", "dimAll"]),
      type("downType", "matrix"),
      weight("routerBiasSlot", "routerBiasType", ["nExpert"], true),
      type("routerBiasType", "bias"),
      weight("gateBiasSlot", "gateBiasType", ["ffAll"], true),
      type("gateBiasType", "bias"),
      weight("upBiasSlot", "upBiasType", ["ffAll"], true),
      type("upBiasType", "bias"),
      weight("downBiasSlot", "downBiasType", ["dimAll"], true),
      type("downBiasType", "bias"),
      int("gating"), // MOE_GATING_CODES
      int("act"), // MOE_ACT_CODES
      int("normWeights"), // 0 or 1
      f32("weightsScale"),
    ],
    weights: {
      router: "routerType",
      gate: "gateType",
      up: "upType",
      down: "downType",
      routerBias: "routerBiasType",
      gateBias: "gateBiasType",
      upBias: "upBiasType",
      downBias: "downBiasType",
    },
  },
];

/** A schema: program ops by name (PROGRAM_SCHEMA, or an extended copy in tests). */
export type ProgramSchema = ReadonlyMap<string, ProgramOpSpec>;

/** Builds a schema from op specs, checking codes and word references. */
export function programSchema(ops: readonly ProgramOpSpec[]): ProgramSchema {
  const m = new Map<string, ProgramOpSpec>();
  const codes = new Set<number>();
  for (const op of ops) {
    const bad = (why: string): never => {
      throw new InvalidArgumentError(`op schema: ${op.name}: ${why}`, { actual: op.name });
    };
    if (m.has(op.name) || codes.has(op.code) || !(op.code > 0)) bad("duplicate name or code");
    if (!/^[a-z][a-z0-9_]*$/.test(op.name)) bad("name must be snake_case");
    const names = new Set(op.words.map((w) => w.name));
    if (names.size !== op.words.length) bad("duplicate word names");
    for (const w of op.words) {
      const refs = [...(w.elems ?? []), ...(w.shape ?? []), ...(w.type ? [w.type] : [])];
      const missing = refs.find((r) => !names.has(r));
      if (missing) bad(`word ${w.name} refers to unknown word ${missing}`);
      if ((w.kind === "slot" || w.kind === "host_in") && !w.elems?.length) bad(`${w.name}: elems`);
      if (w.kind === "weight" && !(w.type && w.shape?.length)) bad(`${w.name}: type and shape`);
      if (w.kind === "type" && !w.use) bad(`${w.name}: use`);
    }
    for (const t of Object.values(op.weights ?? {})) {
      if (op.words.find((w) => w.name === t)?.kind !== "type") bad(`weights: ${t} is no type word`);
    }
    m.set(op.name, op);
    codes.add(op.code);
  }
  return m;
}

/** The schema of this build. */
export const PROGRAM_SCHEMA: ProgramSchema = programSchema(PROGRAM_OPS);

/** HIP type ids readable in each role, from type_schema.ts. */
export const HIP_TYPES: Readonly<Record<HipUse, ReadonlySet<number>>> = {
  matrix: new Set(typesWhere((k) => k.hip.includes("matrix"))),
  norm: new Set(typesWhere((k) => k.hip.includes("norm"))),
  bias: new Set(typesWhere((k) => k.hip.includes("bias"))),
};

const INT32_MIN = -(2 ** 31), INT32_MAX = 2 ** 31 - 1;
const f32v = new Float32Array(1);
const i32v = new Int32Array(f32v.buffer);

/** The bits of a float32, as float operands are stored in a program. */
export function floatBits(x: number): number {
  f32v[0] = x;
  return i32v[0];
}

/**
 * The words of op `name` (opcode first) from named operand values: every word must be given
 * and hold a value of its kind (an int32; dims positive, counts and slots non-negative, a
 * type HIP reads in that role; weights -1 only when optional); floats are stored as bits.
 */
export function encodeOp(
  schema: ProgramSchema,
  name: string,
  values: Readonly<Record<string, number>>,
): number[] {
  const op = schema.get(name);
  if (!op) throw new InvalidArgumentError(`unknown program op ${name}`, { actual: name });
  const extra = Object.keys(values).find((k) => !op.words.some((w) => w.name === k));
  if (extra) throw new InvalidArgumentError(`${name}: unknown operand ${extra}`, { actual: extra });
  const out = [op.code];
  for (const w of op.words) {
    const v = values[w.name];
    const bad = (why: string): never => {
      throw new InvalidArgumentError(`${name}: operand ${w.name} ${why}`, { actual: v });
    };
    if (v === undefined) bad("is missing");
    if (w.kind === "f32") {
      out.push(floatBits(v));
      continue;
    }
    if (!Number.isInteger(v) || v < INT32_MIN || v > INT32_MAX) bad("is not an int32");
    if (w.kind === "dim" && v <= 0) bad("must be positive");
    if ((w.kind === "slot" || w.kind === "host_in" || w.kind === "host_out") && v < 0) {
      bad("must not be negative");
    }
    if (w.kind === "count" && v < 0) bad("must not be negative");
    if (w.kind === "weight" && v < (w.optional ? -1 : 0)) bad("must be an arena slot");
    const optionalNone = op.words.some((o) => o.type === w.name && o.optional) &&
      values[op.words.find((o) => o.type === w.name)!.name] === -1;
    if (w.kind === "type" && !optionalNone && !HIP_TYPES[w.use!].has(v)) {
      bad(`: type ${v} is not read by the HIP kernels as ${w.use}`);
    }
    out.push(v);
  }
  return out;
}
