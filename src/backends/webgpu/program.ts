/**
 * A graph segment compiled for the WebGPU device: every node's dispatches with their
 * pipelines, bind groups and parameter blocks, over activation buffers reused by liveness
 * (a value's buffer returns to the pool after its last reader). Running it records one
 * command encoder with one compute pass, copies only the requested outputs to one staging
 * buffer and maps that once.
 *
 * @module
 */
import { BackendError } from "../../core/errors.ts";
import { type Graph, type GraphNode, nodeInputs } from "../../core/graph.ts";
import { OutOfMemoryError } from "../../core/errors.ts";
import type { GpuDevice } from "./device.ts";
import { Usage } from "./device.ts";
import { type DispatchSpec, encodeNode, type NodeBuffers } from "./encode_node.ts";
import {
  encodeAddNorm,
  encodeRopePair,
  encodeSplit,
  encodeSwiglu,
  fusesAddNorm,
  fusesRope,
  fusesSplit,
  fusesSwiglu,
} from "./encode_fused.ts";
import type { WebGpuKVStore } from "./kv.ts";
import { BufferPool, type KVSlot, Launches } from "./launches.ts";
import type { WeightRef } from "./weights.ts";
import { argmaxKernel } from "./wgsl/elementwise.ts";

/** Most tokens one on-device decode run picks (the size of its pick buffer). */
export const MAX_DECODE_STEPS = 4096;

/** What a program needs from its context besides the graph. */
export interface ProgramEnv {
  readonly dev: GpuDevice;
  weight(name: string): WeightRef;
  /** Positions of the KV caches the program will be bound to (sizes attention splits). */
  readonly kvCapacity: number;
  rope(node: GraphNode & { op: "rope" }): GPUBufferBinding;
  gelu(): GPUBufferBinding;
}

/** A compiled segment. */
export class Program {
  private constructor(
    private readonly dev: GpuDevice,
    readonly graph: Graph,
    private readonly launches: Launches,
    readonly inputs: ReadonlyMap<number, GPUBuffer>,
    readonly outputs: readonly { id: number; buffer: GPUBuffer; bytes: number; at: number }[],
    private readonly staging: GPUBuffer,
    readonly state: GPUBuffer,
    readonly tokens: GPUBuffer,
    private readonly owned: GPUBuffer[],
    /** Greedy programs: the picked-token buffer and its staging copy. */
    readonly picked?: { readonly buffer: GPUBuffer; readonly staging: GPUBuffer },
  ) {}

  /**
   * Compiles nodes `nodes` of `g`, returning `outputs` to the host. With `greedy`, each pass
   * ends with the argmax of the graph's logits feeding the next pass (decode.ts).
   */
  static async compile(
    env: ProgramEnv,
    g: Graph,
    nodes: readonly number[],
    outputs: readonly number[],
    greedy = false,
  ): Promise<Program> {
    const dev = env.dev;
    const owned: GPUBuffer[] = [];
    // Every buffer is created at once under one out-of-memory scope, checked at the end.
    dev.device.pushErrorScope("out-of-memory");
    let outcome: { program: Program } | { error: unknown };
    try {
      outcome = { program: await Program.build(env, g, nodes, outputs, greedy, owned) };
    } catch (error) {
      outcome = { error };
    }
    const oom = await dev.device.popErrorScope().catch(() => null);
    if (oom || "error" in outcome) { for (const b of owned) b.destroy(); }
    if (oom) {
      throw new OutOfMemoryError(`WebGPU program buffers: ${oom.message}`, {
        bytes: owned.reduce((s, b) => s + b.size, 0),
      });
    }
    if ("error" in outcome) throw outcome.error;
    return outcome.program;
  }

  private static async build(
    env: ProgramEnv,
    g: Graph,
    nodes: readonly number[],
    outputs: readonly number[],
    greedy: boolean,
    owned: GPUBuffer[],
  ): Promise<Program> {
    const dev = env.dev;
    const pool = new BufferPool(dev);
    const small = (bytes: number, what: string) => {
      const b = dev.bufferNow(bytes, Usage.STORAGE | Usage.COPY_DST | Usage.COPY_SRC, what);
      owned.push(b);
      return b;
    };
    const state = small(16, "state buffer");
    const tokens = small(g.nTokens * 4, "token buffer");
    const bytesOf = (id: number) => g.values[id].rows * g.values[id].cols * 4;
    const vals = new Map<number, GPUBuffer>();
    const produced = new Set(nodes.map((i) => g.nodes[i].out));
    const keep = new Set(greedy ? [...outputs, g.output] : outputs);
    const lastUse = new Map<number, number>();
    nodes.forEach((ni, k) => nodeInputs(g.nodes[ni]).forEach((v) => lastUse.set(v, k)));
    const inputs = new Map<number, GPUBuffer>();
    for (const v of lastUse.keys()) {
      if (produced.has(v)) continue;
      const buf = pool.take(bytesOf(v));
      vals.set(v, buf);
      inputs.set(v, buf);
      keep.add(v); // written from the host before each run: never recycled
    }
    const specs: DispatchSpec[] = [];
    const kvSlots: KVSlot[] = [];
    // Stands for buffers handed out before they exist (temporaries, KV layers).
    const placeholder = small(16, "placeholder");
    // Rounded copies of a value (one per activation format), shared by every product that
    // reads the value in that format and recycled with the value itself.
    const rounded = new Map<string, { xr: GPUBufferBinding; xs?: GPUBufferBinding }>();
    const derived = new Map<number, GPUBuffer[]>();
    const released = new Set<number>();
    const release = (v: number) => {
      if (released.has(v)) return;
      released.add(v);
      pool.give(vals.get(v)!);
      for (const b of derived.get(v) ?? []) pool.give(b);
      derived.delete(v);
      for (const key of [...rounded.keys()]) if (key.startsWith(`${v}|`)) rounded.delete(key);
    };
    for (let k = 0; k < nodes.length; k++) {
      const node = g.nodes[nodes[k]];
      const next = k + 1 < nodes.length ? g.nodes[nodes[k + 1]] : undefined;
      const ffn = nodes.slice(k, k + 3).map((i) => g.nodes[i]);
      // Fused groups: a residual add and the norm of its sum; two RoPEs of one kind (q and
      // k); a one-token q/k/v (three
      // products of one input); a one-token FFN's gate, up and swiglu (whose products
      // nothing else reads).
      const group = next && (fusesAddNorm(node, next) || fusesRope(node, next))
        ? [node, next]
        : fusesSplit(ffn, g, env.weight)
        ? ffn
        : fusesSwiglu(ffn, g, env.weight) &&
            ffn.slice(0, 2).every((n) => !keep.has(n.out) && lastUse.get(n.out) === k + 2)
        ? ffn
        : [node];
      const temps: GPUBuffer[] = [];
      for (const n of group) vals.set(n.out, pool.take(bytesOf(n.out)));
      const pending: {
        bytes: number;
        slot: GPUBufferBinding & { buffer: GPUBuffer };
        of?: number;
      }[] = [];
      const slotOf = (bytes: number, of?: number) => {
        const slot = { buffer: placeholder, size: Math.max(4, bytes) };
        pending.push({ bytes, slot, of });
        return slot;
      };
      // Temporaries are handed out synchronously to encodeNode, then backed by real buffers.
      const buffers: NodeBuffers = {
        value: (id) => {
          const b = vals.get(id);
          if (!b) throw new BackendError("BACKEND_CALL_FAILED", `value ${id} has no buffer`);
          return { buffer: b, size: bytesOf(id) };
        },
        temp: (bytes) => slotOf(bytes),
        rounded: (id, fmt, bytes, sumBytes) => {
          const key = `${id}|${fmt}`;
          const had = rounded.get(key);
          if (had) return { ...had, fresh: false };
          const r = { xr: slotOf(bytes, id), xs: sumBytes ? slotOf(sumBytes, id) : undefined };
          rounded.set(key, r);
          return { ...r, fresh: true };
        },
        weight: env.weight,
        kv: (layer) => {
          const k = { buffer: placeholder };
          const v = { buffer: placeholder };
          kvSlots.push({ slot: k, layer, which: "k" }, { slot: v, layer, which: "v" });
          return { k, v };
        },
        state: { buffer: state },
        tokens: { buffer: tokens },
        rope: env.rope,
        gelu: env.gelu,
        f16: dev.f16,
        kvCapacity: env.kvCapacity,
      };
      const nodeSpecs = group.length === 3 && group[2].op === "matmul"
        ? encodeSplit(group, buffers)
        : group.length === 3
        ? encodeSwiglu(node, group[1], group[2], buffers)
        : group.length === 2 && node.op === "rope"
        ? encodeRopePair(node, group[1], g, buffers)
        : group.length === 2
        ? encodeAddNorm(node, group[1], g, buffers)
        : encodeNode(node, g, buffers);
      for (const p of pending) {
        const b = pool.take(p.bytes);
        if (p.of === undefined) temps.push(b);
        else derived.set(p.of, [...(derived.get(p.of) ?? []), b]);
        p.slot.buffer = b;
      }
      specs.push(...nodeSpecs);
      for (const b of temps) pool.give(b);
      const last = k + group.length - 1;
      for (const n of group) {
        for (const v of nodeInputs(n)) {
          const use = lastUse.get(v)!;
          if (use >= k && use <= last && !keep.has(v)) release(v);
        }
      }
      for (const n of group) {
        if (!keep.has(n.out) && !lastUse.has(n.out)) release(n.out);
      }
      k = last;
    }
    let picked: { buffer: GPUBuffer; staging: GPUBuffer } | undefined;
    if (greedy) {
      const logits = vals.get(g.output);
      if (!logits || g.values[g.output].rows !== 1) {
        throw new BackendError("BACKEND_CALL_FAILED", "greedy decode needs one row of logits");
      }
      const bytes = MAX_DECODE_STEPS * 4;
      picked = {
        buffer: small(bytes, "picked tokens"),
        staging: dev.bufferNow(bytes, Usage.MAP_READ | Usage.COPY_DST, "picked readback"),
      };
      owned.push(picked.staging);
      specs.push({
        src: argmaxKernel(),
        params: { n: g.values[g.output].cols },
        bindings: [{ buffer: logits }, { buffer: tokens }, { buffer: picked.buffer }, {
          buffer: state,
        }],
        grid: [1, 1, 1],
      });
    }
    owned.push(...pool.all);
    const launches = await Launches.record(dev, specs, kvSlots, owned);
    let at = 0;
    const outs = outputs.map((id) => {
      const buffer = vals.get(id);
      if (!buffer) throw new BackendError("BACKEND_CALL_FAILED", `output value ${id} not computed`);
      const o = { id, buffer, bytes: bytesOf(id), at };
      at += o.bytes;
      return o;
    });
    const staging = dev.bufferNow(at, Usage.MAP_READ | Usage.COPY_DST, "readback buffer");
    owned.push(staging);
    return new Program(
      dev,
      g,
      launches,
      inputs,
      outs,
      staging,
      state,
      tokens,
      owned,
      picked,
    );
  }

  /** True when the segment reads a KV cache. */
  get usesKV(): boolean {
    return this.launches.usesKV;
  }

  /** Points the attention launches at `kv` (a no-op when it is already bound). */
  bindKV(kv: WebGpuKVStore): void {
    this.launches.bind(kv, (l) => kv.layer(l));
  }

  /** Records the program's compute pass into `enc` (callable several times per encoder). */
  encodePass(enc: GPUCommandEncoder): void {
    const pass = enc.beginComputePass();
    let last: GPUComputePipeline | undefined;
    for (const l of this.launches.list) {
      if (!l.bind) throw new BackendError("BACKEND_CALL_FAILED", "no KV cache bound");
      if (l.pipeline !== last) pass.setPipeline(last = l.pipeline);
      pass.setBindGroup(0, l.bind);
      pass.dispatchWorkgroups(l.grid[0], l.grid[1], l.grid[2]);
    }
    pass.end();
  }

  /** Writes the host inputs, runs once, and returns the requested outputs. */
  async run(
    tokens: Int32Array,
    pos0: number,
    inputs: ReadonlyMap<number, Float32Array>,
  ): Promise<Map<number, Float32Array>> {
    const q = this.dev.device.queue;
    this.dev.write(this.state, 0, new Uint32Array([pos0, 0, 0, 0]));
    this.dev.write(this.tokens, 0, tokens);
    for (const [id, buf] of this.inputs) {
      const data = inputs.get(id);
      if (!data) throw new BackendError("BACKEND_CALL_FAILED", `input value ${id} missing`);
      this.dev.write(buf, 0, data);
    }
    const enc = this.dev.device.createCommandEncoder();
    this.encodePass(enc);
    for (const o of this.outputs) enc.copyBufferToBuffer(o.buffer, 0, this.staging, o.at, o.bytes);
    q.submit([enc.finish()]);
    const bytes = await this.read(this.staging);
    const out = new Map<number, Float32Array>();
    for (const o of this.outputs) {
      out.set(o.id, new Float32Array(bytes.slice(o.at, o.at + o.bytes)));
    }
    return out;
  }

  /** Maps `buf` and copies its bytes out; a lost device becomes BACKEND_UNAVAILABLE. */
  async read(buf: GPUBuffer): Promise<ArrayBuffer> {
    try {
      await buf.mapAsync(0x0001);
    } catch (e) {
      await this.dev.assertLiveAfterFailure();
      throw new BackendError(
        "BACKEND_CALL_FAILED",
        `WebGPU readback failed: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    const copy = buf.getMappedRange().slice(0);
    buf.unmap();
    return copy;
  }

  dispose(): void {
    for (const b of this.owned) b.destroy();
  }
}
