/**
 * A session's KV cache on the WebGPU device: one K and one V buffer per layer, rows of
 * nHeadKV * dim values rounded to float16 (llama.cpp's default cache type), stored as f16
 * where the device has `shader-f16` and as f32 otherwise. `createKV` is synchronous in the
 * backend contract, so an allocation the device refuses is reported by `ready()`, which
 * every compute awaits (an OutOfMemoryError, never a silent zero cache).
 *
 * @module
 */
import { requireDefaultKV } from "../../gguf/kv_type.ts";
import { kvBytes, type KVSpec, type KVStore } from "../../core/backend.ts";
import { BackendError, InvalidArgumentError, OutOfMemoryError } from "../../core/errors.ts";
import { type GpuDevice, Usage } from "./device.ts";

let nextKvId = 1;

/** The K and V buffers of one layer. */
export interface LayerCache {
  readonly k: GPUBuffer;
  readonly v: GPUBuffer;
}

/** KV cache buffers of some layers. */
export class WebGpuKVStore implements KVStore {
  readonly backend = "webgpu";
  readonly id = nextKvId++;
  readonly bytes: number;
  private readonly layers = new Map<number, LayerCache>();
  private readonly allocated: Promise<void>;
  private disposed = false;

  constructor(dev: GpuDevice, readonly spec: KVSpec) {
    const dims = [spec.capacity, spec.nHeadKV, spec.headDim, spec.valueDim];
    if (spec.layers.length === 0 || dims.some((d) => !Number.isInteger(d) || d <= 0)) {
      throw new InvalidArgumentError("KV spec needs layers and positive dimensions", {
        actual: JSON.stringify(spec),
      });
    }
    requireDefaultKV(spec.types, "webgpu");
    dev.assertLive();
    const el = dev.f16 ? 2 : 4;
    this.bytes = kvBytes(spec, el);
    const size = (dim: number) => Math.ceil((spec.capacity * spec.nHeadKV * dim * el) / 4) * 4;
    const largest = Math.max(size(spec.headDim), size(spec.valueDim));
    if (largest > dev.maxBinding) {
      throw new OutOfMemoryError("a KV cache layer exceeds the WebGPU storage binding limit", {
        bytes: largest,
        expected: dev.maxBinding,
      });
    }
    const d = dev.device;
    d.pushErrorScope("out-of-memory");
    const usage = Usage.STORAGE | Usage.COPY_DST | Usage.COPY_SRC;
    for (const l of spec.layers) {
      this.layers.set(l, {
        k: d.createBuffer({ size: size(spec.headDim), usage }),
        v: d.createBuffer({ size: size(spec.valueDim), usage }),
      });
    }
    const bytes = this.bytes;
    this.allocated = d.popErrorScope().then((e) => {
      if (e) {
        throw new OutOfMemoryError(`KV cache of ${bytes} bytes: ${e.message}`, { bytes });
      }
    });
    // Reported through ready(); keep an unawaited rejection from being unhandled.
    this.allocated.catch(() => {});
  }

  /** Resolves once the device accepted every buffer; rejects with OutOfMemoryError if not. */
  ready(): Promise<void> {
    return this.allocated;
  }

  /** The buffers of a model layer. */
  layer(layer: number): LayerCache {
    if (this.disposed) throw new BackendError("BACKEND_DISPOSED", "KV cache was disposed");
    const c = this.layers.get(layer);
    if (!c) {
      throw new BackendError("BACKEND_CALL_FAILED", `KV cache holds no layer ${layer}`, {
        expected: this.spec.layers.join(","),
        actual: layer,
      });
    }
    return c;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const { k, v } of this.layers.values()) {
      k.destroy();
      v.destroy();
    }
    this.layers.clear();
  }
}
