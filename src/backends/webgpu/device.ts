/**
 * The WebGPU device of the backend: the adapter found through src/runtime/webgpu.ts, a device
 * opened with the adapter's largest storage limits and its `shader-f16` feature, the
 * compiled-pipeline cache, and loss tracking (a lost or destroyed device turns every later
 * call into a typed BACKEND_UNAVAILABLE error instead of a hang).
 *
 * @module
 */
import type { DeviceInfo } from "../../core/backend.ts";
import { BackendError, OutOfMemoryError } from "../../core/errors.ts";
import { webgpuAccess } from "../../runtime/webgpu.ts";

/** GPUBufferUsage flags (WebGPU spec values; Node's Dawn package sets no globals). */
export const Usage = {
  MAP_READ: 0x0001,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  UNIFORM: 0x0040,
  STORAGE: 0x0080,
} as const;

/** How long a failed call waits for a device loss to be reported (Deno: under 10 ms). */
const LOSS_WAIT_MS = 200;

/** GPUMapMode.READ. */
export const MAP_READ = 0x0001;

/** What the adapter says about itself. */
export interface AdapterFacts {
  readonly name: string;
  readonly vendor: string;
  readonly architecture: string;
  readonly fallback: boolean;
  readonly features: readonly string[];
  readonly maxStorageBinding: number;
  readonly maxBuffer: number;
}

/** An opened device with what the kernels need to know about it. */
export class GpuDevice {
  readonly maxBinding: number;
  readonly f16: boolean;
  private lostReason: string | undefined;
  private readonly pipelines = new Map<string, Promise<GPUComputePipeline>>();

  constructor(readonly device: GPUDevice, readonly facts: AdapterFacts) {
    this.maxBinding = Math.min(
      device.limits.maxStorageBufferBindingSize,
      device.limits.maxBufferSize,
    );
    this.f16 = device.features.has("shader-f16");
    device.lost.then((info) => {
      this.lostReason = `${info.reason}: ${info.message || "device lost"}`;
    });
  }

  /** Why the device is gone, or undefined while it works. */
  get lost(): string | undefined {
    return this.lostReason;
  }

  /** Throws BACKEND_UNAVAILABLE once the device is lost or destroyed. */
  assertLive(): void {
    if (this.lostReason !== undefined) {
      throw new BackendError("BACKEND_UNAVAILABLE", `WebGPU device lost (${this.lostReason})`, {
        actual: this.lostReason,
      });
    }
  }

  /**
   * After a failed call: waits briefly for the loss to be reported (runtimes resolve
   * `device.lost` a task or two after destroy()), then throws BACKEND_UNAVAILABLE if it was.
   */
  async assertLiveAfterFailure(): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.device.lost,
      new Promise((r) => timer = setTimeout(r, LOSS_WAIT_MS)),
    ]);
    clearTimeout(timer);
    await Promise.resolve();
    this.assertLive();
  }

  /** The compute pipeline of `code` (compiled once per device). */
  pipeline(code: string): Promise<GPUComputePipeline> {
    let p = this.pipelines.get(code);
    if (!p) {
      p = this.device.createComputePipelineAsync({
        layout: "auto",
        compute: { module: this.device.createShaderModule({ code }), entryPoint: "main" },
      }).catch((e: unknown) => {
        throw new BackendError(
          "BACKEND_CALL_FAILED",
          `WebGPU kernel failed to compile: ${e instanceof Error ? e.message : String(e)}`,
          { actual: code.slice(0, 200) },
        );
      });
      this.pipelines.set(code, p);
    }
    return p;
  }

  /**
   * A buffer of `size` bytes (rounded up to 4), created at once: the caller holds an
   * out-of-memory error scope around a batch of them. A size over the device's limit is an
   * OutOfMemoryError naming `what`.
   */
  bufferNow(size: number, usage: number, what: string): GPUBuffer {
    this.assertLive();
    const bytes = Math.max(16, Math.ceil(size / 4) * 4);
    if (bytes > this.device.limits.maxBufferSize) {
      throw new OutOfMemoryError(`${what}: ${bytes} bytes exceed the WebGPU buffer limit`, {
        bytes,
        expected: this.device.limits.maxBufferSize,
      });
    }
    return this.device.createBuffer({ size: bytes, usage });
  }

  /**
   * A buffer of `size` bytes (rounded up to 4); an allocation the device refuses is an
   * OutOfMemoryError naming `what`, and a size over the device's limit one before it is tried.
   */
  async buffer(size: number, usage: number, what: string): Promise<GPUBuffer> {
    this.assertLive();
    const bytes = Math.max(16, Math.ceil(size / 4) * 4);
    if (bytes > this.device.limits.maxBufferSize) {
      throw new OutOfMemoryError(`${what}: ${bytes} bytes exceed the WebGPU buffer limit`, {
        bytes,
        expected: this.device.limits.maxBufferSize,
      });
    }
    this.device.pushErrorScope("out-of-memory");
    this.device.pushErrorScope("validation");
    const b = this.device.createBuffer({ size: bytes, usage });
    const invalid = await this.device.popErrorScope();
    const oom = await this.device.popErrorScope();
    if (oom || invalid) {
      b.destroy();
      const msg = `${what}: the WebGPU device refused ${bytes} bytes (${
        (oom ?? invalid)?.message
      })`;
      if (oom) throw new OutOfMemoryError(msg, { bytes });
      throw new BackendError("BACKEND_CALL_FAILED", msg, { bytes });
    }
    return b;
  }

  /**
   * Queues a copy of `data` (elements `start` .. `start + count`, default all) into `buf`
   * at byte `offset`; views of shared memory are accepted too.
   */
  write(buf: GPUBuffer, offset: number, data: ArrayBufferView, start?: number, count?: number) {
    this.device.queue.writeBuffer(buf, offset, data as ArrayBufferView<ArrayBuffer>, start, count);
  }

  /**
   * The public description of the device. WebGPU reports no memory sizes: `memory` is the
   * caller's estimate (ROCMFORGE_WEBGPU_MEMORY, else the host's memory, an upper bound that
   * a software adapter really shares); an upload beyond the real size is an OutOfMemoryError.
   */
  info(id: number, memory: { total: number; free: number }): DeviceInfo {
    return {
      id,
      name: this.facts.name,
      totalMemory: memory.total,
      freeMemory: memory.free,
      arch: this.facts.architecture || undefined,
    };
  }

  destroy(): void {
    this.device.destroy();
  }
}

/** Facts of an adapter. */
export function adapterFacts(a: GPUAdapter): AdapterFacts {
  const i = a.info;
  return {
    name: i.description || i.device || i.vendor || "WebGPU adapter",
    vendor: i.vendor,
    architecture: i.architecture,
    fallback: Boolean((i as { isFallbackAdapter?: boolean }).isFallbackAdapter),
    features: [...a.features].sort(),
    maxStorageBinding: a.limits.maxStorageBufferBindingSize,
    maxBuffer: a.limits.maxBufferSize,
  };
}

/** True for a CPU-emulated adapter (Mesa's llvmpipe/lavapipe, SwiftShader, WARP). */
export function isSoftware(f: AdapterFacts): boolean {
  return f.fallback || /llvmpipe|lavapipe|swiftshader|warp|software/i.test(f.name);
}

/** The environment variable that lets the backend use a software adapter. */
export const SOFTWARE_ENV = "ROCMFORGE_WEBGPU_SOFTWARE";

/** The runtime's adapter, or BACKEND_UNAVAILABLE with the reason. */
export async function requestAdapter(): Promise<GPUAdapter> {
  const access = await webgpuAccess();
  if (!access.gpu) throw new BackendError("BACKEND_UNAVAILABLE", access.reason);
  const a = await access.gpu.requestAdapter({ powerPreference: "high-performance" });
  if (!a) {
    throw new BackendError("BACKEND_UNAVAILABLE", `no WebGPU adapter found (${access.source})`);
  }
  return a;
}

/**
 * Opens a device on the runtime's adapter with its largest storage limits. A software
 * adapter is refused (BACKEND_UNAVAILABLE: the CPU backend is faster) unless `software`.
 */
export async function openDevice(software: boolean): Promise<GpuDevice> {
  const a = await requestAdapter();
  const facts = adapterFacts(a);
  if (isSoftware(facts) && !software) {
    throw new BackendError(
      "BACKEND_UNAVAILABLE",
      `only a software WebGPU adapter was found (${facts.name}); the CPU backend is faster ` +
        `(set ${SOFTWARE_ENV}=1 to use it anyway)`,
      { actual: facts.name },
    );
  }
  const l = a.limits;
  const want = [
    "maxStorageBufferBindingSize",
    "maxBufferSize",
    "maxStorageBuffersPerShaderStage",
    "maxComputeWorkgroupStorageSize",
    "maxComputeWorkgroupsPerDimension",
  ] as const;
  const requiredLimits: Record<string, number> = {};
  for (const k of want) requiredLimits[k] = l[k];
  const features: GPUFeatureName[] = a.features.has("shader-f16") ? ["shader-f16"] : [];
  try {
    const d = await a.requestDevice({ requiredLimits, requiredFeatures: features });
    return new GpuDevice(d, facts);
  } catch (e) {
    throw new BackendError(
      "BACKEND_UNAVAILABLE",
      `WebGPU device could not be opened: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}
