/**
 * Compiles a segment of graph nodes into a native program (the int32 op stream of
 * native/rf_api.h) plus the layout of its scratch buffer: a host-input region (token ids and
 * values produced outside the segment, copied to the device in one transfer), then every
 * value the segment produces, placed best-fit by liveness so memory is reused as soon as a
 * value's last reader ran. Requested outputs are downloaded right after they are produced.
 *
 * The result depends only on the graph, the node list, the outputs and where weights live,
 * so a backend can cache it and reuse it for every decode step. program_io.ts packs its host
 * input and unpacks its output.
 *
 * @module
 */
import { BackendError, InvalidArgumentError } from "../../core/errors.ts";
import { type Graph, type GraphNode, nodeInputs } from "../../core/graph.ts";
import {
  EMBED_INDEX_CODES,
  encodeOp,
  PROGRAM_SCHEMA,
  ROPE_MODE_CODES,
} from "../../core/op_schema.ts";
import { SLOT_BYTES } from "./ffi/symbols.ts";
import { attentionOperands } from "./program_attention.ts";
import { moeOperands } from "./program_moe.ts";
import { SlotAllocator } from "./slot_allocator.ts";

/** Where a weight tensor lives in the arena. */
export interface WeightRef {
  /** Arena offset in slots. */
  readonly slot: number;
  readonly type: number;
  /** ggml dims: dims[0] is the row length. */
  readonly dims: readonly number[];
}

/** A compiled segment. */
export interface CompiledProgram {
  readonly words: Int32Array;
  /** Bytes of the host input region (a multiple of SLOT_BYTES). */
  readonly inBytes: number;
  /** Byte offset of the token ids in the host input, -1 when the segment embeds nothing. */
  readonly tokenOffset: number;
  /** Number of token ids the segment reads. */
  readonly nTokens: number;
  /** Byte offset in the host input of each value produced outside the segment. */
  readonly inputOffsets: ReadonlyMap<number, number>;
  /** Bytes of the host output buffer. */
  readonly outBytes: number;
  /** Byte offset and float count of each requested output in the host output buffer. */
  readonly outputOffsets: ReadonlyMap<number, { offset: number; length: number }>;
  /** Scratch bytes the program addresses. */
  readonly scratchBytes: number;
  /** True when the program contains causal attention (needs a KV cache). */
  readonly usesKV: boolean;
}

const slotsFor = (bytes: number) => Math.max(1, Math.ceil(bytes / SLOT_BYTES));

function bad(message: string, facts: Record<string, unknown> = {}): never {
  throw new InvalidArgumentError(message, facts);
}

/** Compiles `nodes` (indices into graph.nodes) with the given weight and KV lookups. */
export function compileSegment(
  graph: Graph,
  nodes: readonly number[],
  outputs: readonly number[],
  weight: (name: string) => WeightRef,
  kvLayer: (layer: number) => number,
): CompiledProgram {
  const list: GraphNode[] = nodes.map((i) => {
    const n = graph.nodes[i];
    if (!n) bad(`node index ${i} is outside the graph`, { actual: i });
    return n;
  });
  const val = (id: number) => {
    const v = graph.values[id];
    if (!v) bad(`value ${id} is not declared in the graph`, { actual: id });
    return v;
  };
  const bytesOf = (id: number) => val(id).rows * val(id).cols * 4;

  const produced = new Set(list.map((n) => n.out));
  const external: number[] = [];
  const lastUse = new Map<number, number>();
  list.forEach((n, i) => {
    for (const v of nodeInputs(n)) {
      lastUse.set(v, i);
      if (!produced.has(v) && !external.includes(v)) external.push(v);
    }
    // The native library rotates two consecutive ropes (a layer's q and k) in one launch when
    // neither writes what the other reads (native/rf_graph.cpp plan_fusion): the first one's
    // input stays live through the second, so the second's output never takes its place.
    const prev = list[i - 1];
    if (n.op === "rope" && prev?.op === "rope") {
      lastUse.set(prev.x, Math.max(lastUse.get(prev.x)!, i));
    }
  });
  const wanted = new Set(outputs);

  // Host input region: tokens, then external values.
  let inSlots = 0;
  let tokenOffset = -1;
  let nTokens = 0;
  const embeds = list.filter((n) => n.op === "embed");
  if (embeds.length) {
    nTokens = Math.max(...embeds.map((n) => val(n.out).rows));
    tokenOffset = 0;
    inSlots = slotsFor(nTokens * 4);
  }
  const inputSlot = new Map<number, number>();
  for (const v of external) {
    inputSlot.set(v, inSlots);
    inSlots += slotsFor(bytesOf(v));
  }
  const alloc = new SlotAllocator(inSlots);
  const where = new Map<number, number>(inputSlot);
  const at = (id: number) => {
    const s = where.get(id);
    if (s === undefined) bad(`value ${id} is read before it is produced`, { actual: id });
    return s;
  };

  const w: number[] = [];
  const emit = (op: string, values: Record<string, number>) =>
    w.push(...encodeOp(PROGRAM_SCHEMA, op, values));
  let outBytes = 0;
  const outputOffsets = new Map<number, { offset: number; length: number }>();
  const download = (id: number) => {
    if (outputOffsets.has(id)) return;
    const bytes = bytesOf(id);
    outputOffsets.set(id, { offset: outBytes, length: bytes / 4 });
    emit("download", { hostOffset: outBytes, src: at(id), bytes });
    outBytes += bytes;
  };
  const matrix = (name: string, k: number, what: string) => {
    const r = weight(name);
    const n = r.dims.length > 1 ? r.dims[1] : 1;
    if (r.dims[0] !== k || r.dims.slice(2).some((d) => d !== 1)) {
      bad(`${what} weight ${name} has dims [${r.dims}], expected rows of ${k}`, {
        expected: k,
        actual: r.dims[0],
      });
    }
    return { ...r, n };
  };
  // An optional vector weight of `length` values as its slot and type words (`prefix`Slot,
  // `prefix`Type): -1 and 0 when absent.
  const vectorWeight = (name: string | undefined, length: number, what: string, prefix: string) => {
    if (name === undefined) return { [`${prefix}Slot`]: -1, [`${prefix}Type`]: 0 };
    const r = weight(name);
    if (r.dims[0] !== length || r.dims.slice(1).some((d) => d !== 1)) {
      bad(`${what} ${name} has dims [${r.dims}], expected ${length} values`, {
        expected: length,
        actual: r.dims[0],
      });
    }
    return { [`${prefix}Slot`]: r.slot, [`${prefix}Type`]: r.type };
  };
  let usesKV = false;

  list.forEach((node, i) => {
    const out = val(node.out);
    const outSlot = alloc.alloc(slotsFor(bytesOf(node.out)));
    where.set(node.out, outSlot);
    switch (node.op) {
      case "embed": {
        const m = matrix(node.weight, out.cols, "embed");
        emit("embed", {
          out: outSlot,
          tokens: 0,
          T: out.rows,
          wSlot: m.slot,
          wType: m.type,
          cols: out.cols,
          vocab: m.n,
          index: EMBED_INDEX_CODES[node.index ?? "token"],
        });
        break;
      }
      case "rms_norm": {
        // A per-group norm (groupSize) is the same op over rows of groupSize values.
        const cols = node.groupSize ?? out.cols;
        if (out.cols % cols !== 0) {
          bad(`rms_norm: group size ${cols} does not divide ${out.cols} columns`, {
            expected: `a divisor of ${out.cols}`,
            actual: cols,
          });
        }
        const m = matrix(node.weight, cols, "rms_norm");
        emit("rms_norm", {
          out: outSlot,
          x: at(node.x),
          T: (out.rows * out.cols) / cols,
          cols,
          wSlot: m.slot,
          wType: m.type,
          eps: node.eps,
        });
        break;
      }
      case "matmul": {
        const x = val(node.x);
        const m = matrix(node.weight, x.cols, "matmul");
        if (m.n !== out.cols || x.rows !== out.rows) {
          bad(`matmul ${node.weight}: output [${out.rows}, ${out.cols}] does not match`, {
            expected: m.n,
            actual: out.cols,
          });
        }
        let biasSlot = -1;
        let biasType = 0;
        if (node.bias) {
          const b = weight(node.bias);
          if (b.dims[0] !== m.n) bad(`bias ${node.bias} length ${b.dims[0]} != ${m.n}`);
          biasSlot = b.slot;
          biasType = b.type;
        }
        emit("matmul", {
          out: outSlot,
          x: at(node.x),
          T: x.rows,
          K: x.cols,
          N: m.n,
          wSlot: m.slot,
          wType: m.type,
          biasSlot,
          biasType,
        });
        break;
      }
      case "rope": {
        const r = node.rope;
        if (out.cols !== node.nHeads * node.headDim) {
          bad(`rope: ${out.cols} columns != ${node.nHeads} heads x ${node.headDim}`);
        }
        emit("rope", {
          out: outSlot,
          x: at(node.x),
          T: out.rows,
          nHeads: node.nHeads,
          headDim: node.headDim,
          mode: ROPE_MODE_CODES[r.mode],
          nRot: r.nRot,
          nCtxOrig: r.nCtxOrig,
          freqBase: r.freqBase,
          freqScale: r.freqScale,
          extFactor: r.extFactor,
          attnFactor: r.attnFactor,
          betaFast: r.betaFast,
          betaSlow: r.betaSlow,
          ...vectorWeight(node.freqFactors, r.nRot / 2, "rope frequency factors", "ff"),
          nFreq: r.nRot / 2,
        });
        break;
      }
      case "attention":
        usesKV ||= node.causal !== false;
        emit(
          "attention",
          attentionOperands(
            node,
            {
              out: outSlot,
              q: at(node.q),
              k: at(node.k),
              v: at(node.v),
              rows: out.rows,
            },
            weight,
            kvLayer,
          ),
        );
        break;
      case "swiglu":
        emit("swiglu", {
          out: outSlot,
          gate: at(node.gate),
          up: at(node.up),
          n: out.rows * out.cols,
        });
        break;
      case "add":
        emit("add", { out: outSlot, a: at(node.a), b: at(node.b), n: out.rows * out.cols });
        break;
      case "geglu":
        emit("geglu", {
          out: outSlot,
          gate: at(node.gate),
          up: at(node.up),
          n: out.rows * out.cols,
        });
        break;
      case "gelu":
      case "tanh":
        emit(node.op, { out: outSlot, x: at(node.x), n: out.rows * out.cols });
        break;
      case "scale":
        emit("scale", { out: outSlot, x: at(node.x), n: out.rows * out.cols, s: node.s });
        break;
      case "slice": {
        const x = val(node.x);
        if (x.rows !== out.rows || node.offset < 0 || node.offset + out.cols > x.cols) {
          bad(
            `slice: columns ${node.offset}..${
              node.offset + out.cols - 1
            } of [${x.rows}, ${x.cols}]`,
            {
              expected: `within ${x.cols} columns`,
              actual: node.offset,
            },
          );
        }
        emit("slice", {
          out: outSlot,
          x: at(node.x),
          T: out.rows,
          cols: out.cols,
          xCols: x.cols,
          offset: node.offset,
        });
        break;
      }
      case "layer_norm": {
        const m = matrix(node.weight, out.cols, "layer_norm");
        emit("layer_norm", {
          out: outSlot,
          x: at(node.x),
          T: out.rows,
          cols: out.cols,
          wSlot: m.slot,
          wType: m.type,
          ...vectorWeight(node.bias, out.cols, "layer_norm bias", "bias"),
          eps: node.eps,
        });
        break;
      }
      case "moe":
        emit("moe", moeOperands(node, val(node.x), out, at(node.x), outSlot, weight));
        break;
      case "last_row": {
        const x = val(node.x);
        emit("last_row", { out: outSlot, x: at(node.x), T: x.rows, cols: x.cols });
        break;
      }
    }
    if (wanted.has(node.out)) download(node.out);
    // Free what is read for the last time here, and this node's output if nothing reads it.
    for (
      const v of new Set([...nodeInputs(node), ...(list[i - 1] ? nodeInputs(list[i - 1]) : [])])
    ) {
      if (lastUse.get(v) === i && produced.has(v)) alloc.release(where.get(v)!);
    }
    if (!lastUse.has(node.out) || lastUse.get(node.out)! < i) alloc.release(outSlot);
  });
  for (const id of outputs) {
    if (!outputOffsets.has(id)) {
      if (!inputSlot.has(id)) {
        throw new BackendError("BACKEND_CALL_FAILED", `output value ${id} is not computed`, {
          actual: id,
        });
      }
      download(id);
    }
  }
  return {
    words: Int32Array.from(w),
    inBytes: inSlots * SLOT_BYTES,
    tokenOffset,
    nTokens,
    inputOffsets: new Map([...inputSlot].map(([id, s]) => [id, s * SLOT_BYTES])),
    outBytes,
    outputOffsets,
    scratchBytes: Math.max(alloc.end, 1) * SLOT_BYTES,
    usesKV,
  };
}
