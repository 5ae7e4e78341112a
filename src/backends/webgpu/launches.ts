/**
 * The pieces a compiled program is made of: activation buffers recycled by size, and the
 * launches of a dispatch list (pipelines, one uniform buffer of parameter blocks, bind
 * groups). Bind groups that name a KV cache are made when a cache is bound (`Launches.bind`),
 * so one program serves every session's cache of the same shape.
 *
 * @module
 */
import { BackendError } from "../../core/errors.ts";
import { type GpuDevice, Usage } from "./device.ts";
import type { DispatchSpec } from "./encode_node.ts";
import { packParams, PARAM_SLOT } from "./wgsl/params.ts";

const ROUND = 4096;

/** Activation buffers recycled by size, created at once (under the caller's error scope). */
export class BufferPool {
  readonly all: GPUBuffer[] = [];
  private readonly free: GPUBuffer[] = [];
  constructor(private readonly dev: GpuDevice) {}

  take(bytes: number): GPUBuffer {
    const need = Math.ceil(Math.max(bytes, 4) / ROUND) * ROUND;
    const i = this.free.findIndex((b) => b.size >= need && b.size <= 2 * need);
    if (i >= 0) return this.free.splice(i, 1)[0];
    const b = this.dev.bufferNow(
      need,
      Usage.STORAGE | Usage.COPY_SRC | Usage.COPY_DST,
      "activation buffer",
    );
    this.all.push(b);
    return b;
  }

  give(b: GPUBuffer): void {
    this.free.push(b);
  }
}

/** One recorded launch; `bind` is undefined until a KV cache is bound (KV launches). */
export interface Launch {
  readonly pipeline: GPUComputePipeline;
  bind: GPUBindGroup | undefined;
  readonly grid: readonly [number, number, number];
}

/** A binding filled in when a cache is bound: layer `layer`'s K or V buffer. */
export interface KVSlot {
  readonly slot: { buffer: GPUBuffer };
  readonly layer: number;
  readonly which: "k" | "v";
}

/** The launches of a program and the rebinding of its KV launches. */
export class Launches {
  private bound: object | undefined;
  private readonly cache = new Map<object, (GPUBindGroup | undefined)[]>();

  private constructor(
    private readonly dev: GpuDevice,
    readonly list: Launch[],
    private readonly specs: readonly DispatchSpec[],
    private readonly uniforms: GPUBuffer,
    private readonly kvLaunches: readonly number[],
    private readonly kvSlots: readonly KVSlot[],
  ) {}

  /** Pipelines, parameters and (for launches without a cache) bind groups of `specs`. */
  static async record(
    dev: GpuDevice,
    specs: readonly DispatchSpec[],
    kvSlots: readonly KVSlot[],
    owned: GPUBuffer[],
  ): Promise<Launches> {
    const uniforms = dev.bufferNow(
      Math.max(1, specs.length) * PARAM_SLOT,
      Usage.UNIFORM | Usage.COPY_DST,
      "kernel parameters",
    );
    owned.push(uniforms);
    const block = new Uint8Array(Math.max(1, specs.length) * PARAM_SLOT);
    specs.forEach((s, i) => block.set(packParams(s.src.fields, s.params), i * PARAM_SLOT));
    dev.write(uniforms, 0, block);
    const pipelines = await Promise.all(specs.map((s) => dev.pipeline(s.src.code)));
    const slots = new Set(kvSlots.map((k) => k.slot));
    const kvLaunches: number[] = [];
    specs.forEach((s, i) => {
      if (s.bindings.some((b) => slots.has(b as { buffer: GPUBuffer }))) kvLaunches.push(i);
    });
    const list = specs.map((s, i): Launch => ({
      pipeline: pipelines[i],
      bind: undefined,
      grid: s.grid,
    }));
    const l = new Launches(dev, list, specs, uniforms, kvLaunches, kvSlots);
    const kvSet = new Set(kvLaunches);
    list.forEach((x, i) => {
      if (!kvSet.has(i)) x.bind = l.bindGroup(i);
    });
    return l;
  }

  /** True when some launch reads a KV cache. */
  get usesKV(): boolean {
    return this.kvLaunches.length > 0;
  }

  /**
   * Points the KV launches at `kv`'s buffers (`layer(l)` gives layer l's K and V). Bind
   * groups are kept for the last few caches.
   */
  bind(kv: object, layer: (l: number) => { k: GPUBuffer; v: GPUBuffer }): void {
    if (!this.usesKV) return;
    layer(this.kvSlots[0].layer); // throws for a disposed cache
    if (this.bound === kv) return;
    let groups = this.cache.get(kv);
    if (!groups) {
      for (const s of this.kvSlots) s.slot.buffer = layer(s.layer)[s.which];
      groups = this.kvLaunches.map((i) => this.bindGroup(i));
      this.cache.set(kv, groups);
      while (this.cache.size > 4) this.cache.delete(this.cache.keys().next().value!);
    }
    this.kvLaunches.forEach((i, j) => this.list[i].bind = groups[j]);
    this.bound = kv;
  }

  /** Forgets `kv`'s bind groups (its buffers are gone). */
  unbind(kv: object): void {
    this.cache.delete(kv);
    if (this.bound === kv) {
      this.bound = undefined;
      for (const i of this.kvLaunches) this.list[i].bind = undefined;
    }
  }

  private bindGroup(i: number): GPUBindGroup {
    const s = this.specs[i];
    const p = paramIndex(s);
    const entries: GPUBindGroupEntry[] = s.bindings.map((b, j) => ({
      binding: j < p ? j : j + 1,
      resource: { ...b },
    }));
    const size = packParams(s.src.fields, s.params).byteLength;
    entries.push({
      binding: p,
      resource: { buffer: this.uniforms, offset: i * PARAM_SLOT, size },
    });
    return this.dev.device.createBindGroup({
      layout: this.list[i].pipeline.getBindGroupLayout(0),
      entries,
    });
  }
}

/** The binding number of a kernel's parameter block (from its WGSL). */
function paramIndex(s: DispatchSpec): number {
  const m = /@binding\((\d+)\) var<uniform> p: P;/.exec(s.src.code);
  if (!m) throw new BackendError("BACKEND_CALL_FAILED", "kernel without a parameter block");
  return Number(m[1]);
}
