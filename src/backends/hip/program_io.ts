/**
 * The host side of running a compiled program (program.ts): the host input buffer (token ids
 * and values produced outside the segment), the split of the host output buffer into the
 * requested outputs, and the bytes of a weight tensor.
 *
 * @module
 */
import { BackendError, InvalidArgumentError } from "../../core/errors.ts";
import type { Graph } from "../../core/graph.ts";
import { typeTraits } from "../../gguf/ggml_types.ts";
import type { CompiledProgram } from "./program.ts";

function bad(message: string, facts: Record<string, unknown> = {}): never {
  throw new InvalidArgumentError(message, facts);
}

/** Builds the host input buffer of `p` from token ids and external values. */
export function packInputs(
  p: CompiledProgram,
  graph: Graph,
  tokens: Int32Array,
  inputs: ReadonlyMap<number, Float32Array>,
): Uint8Array {
  const buf = new Uint8Array(p.inBytes);
  if (p.tokenOffset >= 0) {
    if (tokens.length < p.nTokens) {
      bad(`${tokens.length} token ids given, the graph embeds ${p.nTokens}`, {
        expected: p.nTokens,
        actual: tokens.length,
      });
    }
    new Int32Array(buf.buffer, p.tokenOffset, p.nTokens).set(tokens.subarray(0, p.nTokens));
  }
  for (const [id, off] of p.inputOffsets) {
    const v = inputs.get(id);
    const n = graph.values[id].rows * graph.values[id].cols;
    if (!v) {
      throw new BackendError("BACKEND_CALL_FAILED", `input value ${id} was not provided`, {
        actual: id,
      });
    }
    if (v.length !== n) {
      bad(`input value ${id} has ${v.length} floats, expected ${n}`, {
        expected: n,
        actual: v.length,
      });
    }
    new Float32Array(buf.buffer, off, n).set(v);
  }
  return buf;
}

/** Splits the host output buffer into the requested outputs (copies, so the buffer can go). */
export function unpackOutputs(
  p: CompiledProgram,
  hostOut: Uint8Array,
): Map<number, Float32Array> {
  const out = new Map<number, Float32Array>();
  for (const [id, { offset, length }] of p.outputOffsets) {
    out.set(id, new Float32Array(hostOut.buffer.slice(offset, offset + length * 4)));
  }
  return out;
}

/** Bytes of a weight tensor (validates the type id). */
export function weightBytes(type: number, dims: readonly number[]): number {
  const t = typeTraits(type);
  const n = dims.reduce((a, b) => a * b, 1);
  return (n / t.blockSize) * t.typeSize;
}
