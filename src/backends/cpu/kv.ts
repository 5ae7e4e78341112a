/**
 * The CPU backend's KV cache.
 *
 * @module
 */
import type { KVSpec, KVStore } from "../../core/backend.ts";
import { InvalidArgumentError } from "../../core/errors.ts";
import { checkKVShape, DEFAULT_KV_TYPES, type KVTypes } from "../../gguf/kv_type.ts";
import type { LayerKV } from "./ops/attention.ts";
import { allocRows, copyRows, isFloatRows, rowsBytes } from "./ops/kv_rows.ts";
import type { WasmKernels } from "./wasm/runtime.ts";

/**
 * KV cache in host memory, one K and one V matrix per layer in the spec's types (default
 * f16, held as float32 values). With WebAssembly kernels float matrices live in their memory
 * (so the attention kernel reads them in place) while it has room, else in ordinary arrays.
 */
export class CpuKVStore implements KVStore {
  readonly backend = "cpu";
  readonly bytes: number;
  readonly types: KVTypes;
  readonly layers = new Map<number, LayerKV>();
  constructor(readonly spec: KVSpec, private readonly kernels?: WasmKernels) {
    this.types = spec.types ?? DEFAULT_KV_TYPES;
    checkKVShape(this.types, spec.headDim, spec.valueDim);
    const floats = (n: number) => kernels?.allocFloats(n) ?? new Float32Array(n);
    let bytes = 0;
    for (const l of spec.layers) {
      const kv: LayerKV = {
        k: allocRows(this.types.k, spec.capacity * spec.nHeadKV * spec.headDim, floats),
        v: allocRows(this.types.v, spec.capacity * spec.nHeadKV * spec.valueDim, floats),
      };
      bytes += rowsBytes(kv.k) + rowsBytes(kv.v);
      this.layers.set(l, kv);
    }
    this.bytes = bytes;
  }
  /** Copies the first `positions` cells of every layer from `from` (same layers, shape, types). */
  copyFrom(from: CpuKVStore, positions: number): void {
    const a = from.spec, b = this.spec;
    const n = Math.min(positions, a.capacity, b.capacity);
    if (
      !(Number.isInteger(positions) && positions >= 0 && positions === n) ||
      a.nHeadKV !== b.nHeadKV || a.headDim !== b.headDim || a.valueDim !== b.valueDim ||
      from.types.k !== this.types.k || from.types.v !== this.types.v ||
      a.layers.length !== b.layers.length || a.layers.some((l, i) => l !== b.layers[i])
    ) {
      throw new InvalidArgumentError("KV caches differ in layout or are too small to copy", {
        expected: { layers: b.layers, capacity: b.capacity, types: this.types },
        actual: { layers: a.layers, capacity: a.capacity, positions, types: from.types },
      });
    }
    const kCols = a.nHeadKV * a.headDim, vCols = a.nHeadKV * a.valueDim;
    for (const [l, src] of from.layers) {
      const dst = this.layers.get(l)!;
      copyRows(src.k, dst.k, n * kCols);
      copyRows(src.v, dst.v, n * vCols);
    }
  }

  dispose(): void {
    for (const { k, v } of this.layers.values()) {
      if (isFloatRows(k)) this.kernels?.freeFloats(k.data);
      if (isFloatRows(v)) this.kernels?.freeFloats(v.data);
    }
    this.layers.clear();
  }
}
