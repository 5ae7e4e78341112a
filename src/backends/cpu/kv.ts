/**
 * The CPU backend's KV cache.
 *
 * @module
 */
import { kvBytes, type KVSpec, type KVStore } from "../../core/backend.ts";
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
  dispose(): void {
    for (const { k, v } of this.layers.values()) {
      this.kernels?.freeFloats(k);
      this.kernels?.freeFloats(v);
    }
    this.layers.clear();
  }
}
