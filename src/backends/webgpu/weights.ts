/**
 * Model weights on the WebGPU device, in their GGUF block form: tensors packed one after
 * another (each at a 256-byte offset) into buffers no larger than the device's storage
 * binding limit, so every tensor binds as one range. Tensors of a type the kernels cannot
 * read are not uploaded (`has` is false for them). Small F32 vectors (RoPE frequency
 * factors) also stay on the host, where the RoPE tables are made.
 *
 * @module
 */
import type { WeightTensor } from "../../core/backend.ts";
import { AbortError, BackendError, OutOfMemoryError } from "../../core/errors.ts";
import { GGMLType, typeTraits } from "../../gguf/ggml_types.ts";
import { type GpuDevice, Usage } from "./device.ts";
import { WEBGPU_MATRIX_TYPES } from "./wgsl/quant_types.ts";

/** Where one tensor lives. */
export interface WeightRef {
  readonly buffer: GPUBuffer;
  readonly offset: number;
  /** Bytes of the tensor (the binding covers them rounded up to 4). */
  readonly bytes: number;
  readonly type: number;
  readonly dims: readonly number[];
}

const ALIGN = 256;
const HOST_VECTOR_MAX = 4096;
const align = (n: number, a: number) => Math.ceil(n / a) * a;

/** Bytes ggml stores `dims` of `type` in. */
export function tensorBytes(type: number, dims: readonly number[]): number {
  const t = typeTraits(type);
  const n = dims.reduce((a, b) => a * b, 1);
  return (n / t.blockSize) * t.typeSize;
}

/** A model's weights on one device. */
export class WebGpuWeights {
  private readonly refs = new Map<string, WeightRef>();
  private readonly host = new Map<string, Float32Array>();
  private readonly buffers: GPUBuffer[] = [];
  private disposed = false;
  private constructor(readonly bytes: number) {}

  /** Uploads the tensors the kernels read. Throws OutOfMemoryError before reading any bytes. */
  static async load(
    dev: GpuDevice,
    tensors: readonly WeightTensor[],
    signal?: AbortSignal,
  ): Promise<WebGpuWeights> {
    const usable = tensors.filter((t) => WEBGPU_MATRIX_TYPES.has(t.info.type));
    const pools: { size: number; items: { t: WeightTensor; offset: number }[] }[] = [];
    for (const t of usable) {
      const bytes = align(tensorBytes(t.info.type, t.info.dims), 4);
      if (bytes > dev.maxBinding) {
        throw new OutOfMemoryError(
          `tensor ${t.info.name} (${bytes} bytes) exceeds the WebGPU storage binding limit`,
          { bytes, expected: dev.maxBinding, tensor: t.info.name },
        );
      }
      let pool = pools[pools.length - 1];
      if (!pool || align(pool.size, ALIGN) + bytes > dev.maxBinding) {
        pools.push(pool = { size: 0, items: [] });
      }
      const offset = align(pool.size, ALIGN);
      pool.items.push({ t, offset });
      pool.size = offset + bytes;
    }
    const total = pools.reduce((s, p) => s + p.size, 0);
    const store = new WebGpuWeights(total);
    try {
      for (const [i, pool] of pools.entries()) {
        const buf = await dev.buffer(
          pool.size,
          Usage.STORAGE | Usage.COPY_DST | Usage.COPY_SRC,
          `weight buffer ${i + 1} of ${pools.length}`,
        );
        store.buffers.push(buf);
        for (const { t, offset } of pool.items) {
          if (signal?.aborted) throw new AbortError("weight upload aborted");
          dev.assertLive();
          store.upload(dev, buf, offset, t);
          await Promise.resolve();
        }
      }
      for (const t of tensors) {
        const n = t.info.dims.reduce((a, b) => a * b, 1);
        if (t.info.type === GGMLType.F32 && t.info.dims.length === 1 && n <= HOST_VECTOR_MAX) {
          const b = t.read();
          store.host.set(t.info.name, new Float32Array(b.slice(0, n * 4).buffer));
        }
      }
    } catch (e) {
      store.dispose();
      throw e;
    }
    return store;
  }

  private upload(dev: GpuDevice, buf: GPUBuffer, offset: number, t: WeightTensor): void {
    const expected = tensorBytes(t.info.type, t.info.dims);
    const data = t.read();
    if (data.byteLength !== expected) {
      throw new BackendError(
        "BACKEND_CALL_FAILED",
        `tensor ${t.info.name} has ${data.byteLength} bytes, expected ${expected}`,
        { expected, actual: data.byteLength },
      );
    }
    const whole = expected & ~3;
    if (whole) dev.write(buf, offset, data, 0, whole);
    if (whole < expected) {
      const tail = new Uint8Array(4);
      tail.set(data.subarray(whole));
      dev.device.queue.writeBuffer(buf, offset + whole, tail);
    }
    this.refs.set(t.info.name, {
      buffer: buf,
      offset,
      bytes: expected,
      type: t.info.type,
      dims: [...t.info.dims],
    });
  }

  has(name: string): boolean {
    return this.refs.has(name);
  }

  /** Where a tensor lives; BACKEND_CALL_FAILED when it was not uploaded. */
  ref(name: string): WeightRef {
    if (this.disposed) throw new BackendError("BACKEND_DISPOSED", "weight store was disposed");
    const r = this.refs.get(name);
    if (!r) {
      throw new BackendError("BACKEND_CALL_FAILED", `weight ${name} is not on the WebGPU device`, {
        actual: name,
      });
    }
    return r;
  }

  /** A small F32 vector's values on the host (RoPE frequency factors). */
  vector(name: string): Float32Array {
    const v = this.host.get(name);
    if (!v) {
      throw new BackendError("BACKEND_CALL_FAILED", `vector ${name} is not held on the host`, {
        actual: name,
      });
    }
    return v;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.refs.clear();
    for (const b of this.buffers) b.destroy();
  }
}
