/**
 * A session's KV cache on the device: K and V rows per layer slot, stored in half precision
 * (llama.cpp's default cache type; attention math is float32).
 *
 * @module
 */
import { requireDefaultKV } from "../../gguf/kv_type.ts";
import { kvBytes, type KVSpec, type KVStore } from "../../core/backend.ts";
import { BackendError, InvalidArgumentError } from "../../core/errors.ts";
import type { HipNative } from "./native.ts";

let nextKvId = 1;

/** KV cache buffers of some layers. */
export class HipKVStore implements KVStore {
  readonly backend = "hip";
  readonly id = nextKvId++;
  readonly bytes: number;
  readonly handle: number;
  private readonly slots = new Map<number, number>();
  private disposed = false;

  constructor(private readonly native: HipNative, readonly ctx: number, readonly spec: KVSpec) {
    const dims = [spec.capacity, spec.nHeadKV, spec.headDim, spec.valueDim];
    if (spec.layers.length === 0 || dims.some((d) => !Number.isInteger(d) || d <= 0)) {
      throw new InvalidArgumentError("KV spec needs layers and positive dimensions", {
        actual: JSON.stringify(spec),
      });
    }
    requireDefaultKV(spec.types, "hip");
    spec.layers.forEach((l, i) => this.slots.set(l, i));
    this.bytes = kvBytes(spec, 2);
    this.handle = native.kvCreate(
      ctx,
      spec.layers.length,
      spec.capacity,
      spec.nHeadKV,
      spec.headDim,
      spec.valueDim,
    );
  }

  /** The cache slot of a model layer. */
  slot(layer: number): number {
    if (this.disposed) throw new BackendError("BACKEND_DISPOSED", "KV cache was disposed");
    const s = this.slots.get(layer);
    if (s === undefined) {
      throw new BackendError("BACKEND_CALL_FAILED", `KV cache holds no layer ${layer}`, {
        expected: this.spec.layers.join(","),
        actual: layer,
      });
    }
    return s;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.native.kvDestroy(this.handle);
  }
}
