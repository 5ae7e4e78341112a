/**
 * The CPU backend's KV cache.
 *
 * @module
 */
import { kvBytes, type KVSpec, type KVStore } from "../../core/backend.ts";
import { InvalidArgumentError } from "../../core/errors.ts";
import type { LayerKV } from "./ops/attention.ts";
import type { WasmKernels } from "./wasm/runtime.ts";

/**
 * KV cache in host memory, one K and one V matrix per layer. With WebAssembly kernels the
 * matrices live in their memory (so the attention kernel reads them in place) while it has
 * room, else in ordinary arrays.
 */
export class CpuKVStore implements KVStore {
  readonly backend = "cpu";
  readonly bytes: number;
  readonly layers = new Map<number, LayerKV>();
  constructor(readonly spec: KVSpec, private readonly kernels?: WasmKernels) {
    this.bytes = kvBytes(spec, 4);
    const floats = (n: number) => kernels?.allocFloats(n) ?? new Float32Array(n);
    for (const l of spec.layers) {
      this.layers.set(l, {
        k: floats(spec.capacity * spec.nHeadKV * spec.headDim),
        v: floats(spec.capacity * spec.nHeadKV * spec.valueDim),
      });
    }
  }
  /** Copies the first `positions` cells of every layer from `from` (same layers and shape). */
  copyFrom(from: CpuKVStore, positions: number): void {
    const a = from.spec, b = this.spec;
    const n = Math.min(positions, a.capacity, b.capacity);
    if (
      !(Number.isInteger(positions) && positions >= 0 && positions === n) ||
      a.nHeadKV !== b.nHeadKV || a.headDim !== b.headDim || a.valueDim !== b.valueDim ||
      a.layers.length !== b.layers.length || a.layers.some((l, i) => l !== b.layers[i])
    ) {
      throw new InvalidArgumentError("KV caches differ in layout or are too small to copy", {
        expected: { layers: b.layers, capacity: b.capacity },
        actual: { layers: a.layers, capacity: a.capacity, positions },
      });
    }
    const kCols = a.nHeadKV * a.headDim, vCols = a.nHeadKV * a.valueDim;
    for (const [l, src] of from.layers) {
      const dst = this.layers.get(l)!;
      dst.k.set(src.k.subarray(0, n * kCols));
      dst.v.set(src.v.subarray(0, n * vCols));
    }
  }

  dispose(): void {
    for (const { k, v } of this.layers.values()) {
      this.kernels?.freeFloats(k);
      this.kernels?.freeFloats(v);
    }
    this.layers.clear();
  }
}
