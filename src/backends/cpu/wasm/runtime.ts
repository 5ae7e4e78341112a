/**
 * The WebAssembly kernel runtime of the CPU backend: one shared memory holding weights and
 * scratch, one kernel instance on the calling thread and `threads - 1` workers. A matrix
 * product copies the activations in, quantizes them to int8 blocks (for quantized weights),
 * splits the weight rows over all threads and copies the result out.
 *
 * @module
 */
import { BackendError, InvalidArgumentError, OutOfMemoryError } from "../../../core/errors.ts";
import { GGMLType, typeTraits } from "../../../gguf/ggml_types.ts";
import { INT8_ACT, typeKernels, typesWhere } from "../../../gguf/type_schema.ts";
import { WasmHeap } from "./heap.ts";
import { kernelModule, type KernelVariant } from "./module.ts";
import { attentionFits, type AttentionShape, runAttention } from "./attention.ts";
import { type RopeShape, RopeTableCache, runRmsNorm, runRope, runSwiglu } from "./elementwise.ts";
import type { KernelContext, KernelExports, ScratchName } from "./exports.ts";
import { runStreamRead } from "./stream.ts";
import {
  ATTN_OFFSET,
  MM_OFFSET,
  OP_MATMUL,
  POOL,
  ROWS_OFFSET,
  writeMatmul,
  writeWork,
} from "./pool_layout.ts";
import { type KernelWorker, startKernelWorker, WORKER_STACK_BYTES } from "./pool_worker.ts";

/**
 * Weight types with WebAssembly kernels (`wasm` in the type schema), and the activation
 * buffer each one uses: float rows, or int8 blocks of 32 or 256 (INT8_ACT).
 */
const ACT: ReadonlyMap<number, "f32" | "act32" | "act256"> = new Map(
  typesWhere((k) => k.wasm).map((t) => {
    const a = typeKernels(t).act;
    const int8 = a === "q8_0" || a === "q8_1" || a === "q8_k" ? INT8_ACT[a] : undefined;
    return [t, !int8 ? "f32" : int8.block === 256 ? "act256" : "act32"];
  }),
);

/** True when `type` has a WebAssembly matrix kernel. */
export function wasmSupportsType(type: GGMLType): boolean {
  return ACT.has(type);
}

/** A weight matrix resident in the kernel memory. */
export interface WasmMatrix {
  readonly type: GGMLType;
  readonly rows: number;
  readonly cols: number;
  /** Address of row 0. */
  readonly ptr: number;
  readonly rowBytes: number;
}

/** Options of WasmKernels.create. */
export interface WasmKernelOptions {
  /** Threads including the caller's (default 1). */
  readonly threads?: number;
  /**
   * Polls an idle thread makes before it sleeps (default DEFAULT_SPIN, about a
   * millisecond). Sleeping costs a futex wake-up on the next job, which adds up over a decode
   * step's ~150 jobs on a quiet machine; spinning longer steals the CPU from other work when
   * the machine is busy (measured here on TinyLlama Q4_0, 2 threads: 1e8 polls gave
   * 142 ms/token quiet but 317-468 ms/token under load, 5e4 gave 196 and 226-261).
   */
  readonly spin?: number;
  /** Kernel build to use (default: relaxed SIMD where the runtime has it, else simd128). */
  readonly variant?: KernelVariant;
  /** A kernel module to use instead of the built-in ones (same exports; for experiments). */
  readonly module?: WebAssembly.Module;
}

export { type AttentionShape, MAX_HEAD_DIM } from "./attention.ts";

/** Default polls before an idle kernel thread sleeps. */
export const DEFAULT_SPIN = 2_000_000;

class Scratch {
  ptr = 0;
  cap = 0;
}

/** The kernel runtime; create with `WasmKernels.create`, release with `dispose`. */
export class WasmKernels {
  private readonly scratch: Record<ScratchName, Scratch> = {
    x: new Scratch(),
    q: new Scratch(),
    y: new Scratch(),
    b: new Scratch(),
    k: new Scratch(),
    v: new Scratch(),
    c: new Scratch(),
    s: new Scratch(),
  };
  private readonly owned = new WeakSet<Float32Array>();
  private readonly ropeTables = new RopeTableCache();
  private disposed = false;

  private constructor(
    readonly heap: WasmHeap,
    private readonly ex: KernelExports,
    private readonly pool: number,
    private readonly workers: KernelWorker[],
    /** Threads including the caller's. */
    readonly threads: number,
    /** The kernel build in use. */
    readonly variant: KernelVariant,
  ) {}

  /**
   * Starts the runtime, or returns undefined when this JavaScript runtime lacks WebAssembly
   * SIMD, threads or shared memory.
   */
  static async create(opts: WasmKernelOptions = {}): Promise<WasmKernels | undefined> {
    const threads = opts.threads ?? 1;
    if (!Number.isInteger(threads) || threads < 1 || threads > 256) {
      throw new InvalidArgumentError("threads must be an integer in 1..256", { actual: threads });
    }
    const km = opts.module
      ? { module: opts.module, variant: opts.variant ?? "simd128" }
      : kernelModule(opts.variant);
    if (!km) return undefined;
    const heap = new WasmHeap(0, 32);
    const inst = new WebAssembly.Instance(km.module, { env: { memory: heap.memory } });
    const ex = inst.exports as unknown as KernelExports;
    const layout = [ex.rf_pool_mm_offset(), ex.rf_pool_attn_offset(), ex.rf_pool_rows_offset()];
    if (layout.join() !== [MM_OFFSET, ATTN_OFFSET, ROWS_OFFSET].join()) {
      throw new BackendError("BACKEND_UNAVAILABLE", "kernel module layout mismatch", {
        expected: [MM_OFFSET, ATTN_OFFSET, ROWS_OFFSET],
        actual: layout,
      });
    }
    heap.alloc(ex.__heap_base.value as number, 1);
    ex.rf_init();
    const pool = heap.alloc(ex.rf_pool_size(), 64);
    const i32 = heap.i32;
    i32.fill(0, pool / 4, pool / 4 + ex.rf_pool_size() / 4);
    i32[pool / 4 + POOL.nworkers] = threads - 1;
    i32[pool / 4 + POOL.spin] = opts.spin ?? DEFAULT_SPIN;
    writeWork(i32, pool, 0, 1);
    const workers: KernelWorker[] = [];
    try {
      for (let i = 1; i < threads; i++) {
        const stack = heap.alloc(WORKER_STACK_BYTES, 16);
        workers.push(
          await startKernelWorker({
            module: km.module,
            memory: heap.memory,
            pool,
            stackTop: stack + WORKER_STACK_BYTES,
            gen: 0,
          }),
        );
      }
    } catch (e) {
      for (const w of workers) w.worker.terminate();
      throw e;
    }
    return new WasmKernels(heap, ex, pool, workers, threads, km.variant);
  }

  /** Copies `bytes` into the kernel memory; returns the address. */
  upload(bytes: Uint8Array, align = 64): number {
    const p = this.heap.alloc(bytes.byteLength, align);
    this.heap.u8.set(bytes, p);
    return p;
  }

  /** Grows a scratch buffer (contents are not kept), giving the outgrown block back. */
  private ensure(s: Scratch, bytes: number): number {
    if (s.cap < bytes) {
      const cap = Math.max(bytes, s.cap * 2, 4096);
      if (s.cap > 0) this.heap.free(s.ptr, s.cap);
      s.cap = 0;
      s.ptr = this.heap.alloc(cap, 64);
      s.cap = cap;
    }
    return s.ptr;
  }

  /**
   * y[t * w.rows + n] = dot(W row n, x row t) (+ bias[n]) for t < T, n < w.rows. x holds T
   * rows of w.cols floats. The activations are rounded as llama.cpp rounds them for the
   * weight type (Q8_0 / Q8_1 / Q8_K blocks, F16, BF16; see ops/act_quant.ts), so results
   * equal the reference path's up to float summation order.
   */
  matmul(w: WasmMatrix, x: Float32Array, T: number, y: Float32Array, bias?: Float32Array): void {
    this.live();
    const act = ACT.get(w.type);
    const K = w.cols, N = w.rows;
    const bs = typeTraits(w.type).blockSize;
    if (!act || K % bs !== 0 || w.rowBytes !== (K / bs) * typeTraits(w.type).typeSize) {
      throw new InvalidArgumentError(
        `no WebAssembly kernel for this ${typeTraits(w.type).name} matrix`,
        {
          actual: { type: w.type, cols: K, rowBytes: w.rowBytes },
        },
      );
    }
    if (!(Number.isInteger(T) && T >= 1) || x.length < T * K || y.length < T * N) {
      throw new InvalidArgumentError("matmul operands have the wrong size", {
        expected: { x: T * K, y: T * N },
        actual: { x: x.length, y: y.length },
      });
    }
    if (bias && bias.length < N) {
      throw new InvalidArgumentError("bias is shorter than the matrix rows", {
        expected: N,
        actual: bias.length,
      });
    }
    if (w.ptr < 0 || w.ptr + N * w.rowBytes > this.heap.used) {
      throw new InvalidArgumentError("matrix is not inside the kernel memory", { actual: w.ptr });
    }
    const xp = this.ensure(this.scratch.x, T * K * 4);
    const yp = this.ensure(this.scratch.y, T * N * 4);
    const bp = bias ? this.ensure(this.scratch.b, N * 4) : 0;
    let ap = xp, stride = K * 4;
    if (act !== "f32") {
      stride = this.ex.rf_act_row_bytes(w.type, K);
      ap = this.ensure(this.scratch.q, T * stride);
    }
    const f32 = this.heap.f32;
    f32.set(x.subarray(0, T * K), xp / 4);
    if (bias) f32.set(bias.subarray(0, N), bp / 4);
    if (act !== "f32") this.ex.rf_quantize_act(w.type, xp, ap, K, T);
    else if (w.type === GGMLType.F16) this.ex.rf_round_f16(xp, T * K);
    else if (w.type === GGMLType.BF16) this.ex.rf_round_bf16(xp, T * K);
    const i32 = this.heap.i32;
    // chunks of a multiple of 8 rows: the Q4_0 kernel works on groups of 4 rows
    writeWork(i32, this.pool, N, 8 * Math.ceil(N / (this.threads * 64)));
    writeMatmul(i32, this.pool, {
      type: w.type,
      w: w.ptr,
      rowBytes: w.rowBytes,
      k: K,
      n: N,
      x: ap,
      xStride: stride,
      t: T,
      y: yp,
      bias: bp,
    });
    this.ex.rf_pool_run(this.pool, OP_MATMUL);
    y.set(this.heap.f32.subarray(yp / 4, yp / 4 + T * N));
  }

  /**
   * out = silu(gate) * up over rows of `cols` values, in the float32 steps of
   * ops/elementwise.ts `swiglu` (llama.cpp's).
   */
  swiglu(gate: Float32Array, up: Float32Array, out: Float32Array, cols: number): void {
    this.live();
    runSwiglu(this.context, gate, up, out, cols);
  }

  /** Row-wise RMSNorm times w, in the float32 steps of ops/elementwise.ts `rmsNorm`. */
  rmsNorm(
    x: Float32Array,
    w: Float32Array,
    rows: number,
    cols: number,
    eps: number,
    out: Float32Array,
  ): void {
    this.live();
    runRmsNorm(this.context, x, w, rows, cols, eps, out);
  }

  /** RoPE, in the float32 steps of ops/rope.ts `rope` (x and out: [rows, nHeads * headDim]). */
  rope(
    x: Float32Array,
    rows: number,
    shape: RopeShape,
    pos0: number,
    out: Float32Array,
    freqFactors?: Float32Array,
  ): void {
    this.live();
    runRope(this.context, this.ropeTables, x, rows, shape, pos0, out, freqFactors);
  }

  /**
   * Reads [ptr, ptr + bytes) of the kernel memory once on every thread, as a matrix product
   * reads its weights (the bandwidth microbenchmark, see stream.ts); returns the xor of the
   * data read.
   */
  streamRead(ptr: number, bytes: number): number {
    this.live();
    return runStreamRead(this.context, ptr, bytes);
  }

  private live(): void {
    if (this.disposed) throw new BackendError("BACKEND_DISPOSED", "CPU kernels were disposed");
  }

  /**
   * A float32 array of n elements inside the kernel memory (zeroed), e.g. a KV cache the
   * attention kernel can read; undefined when the memory cannot hold it.
   */
  allocFloats(n: number): Float32Array | undefined {
    let p: number;
    try {
      p = this.heap.alloc(n * 4, 64);
    } catch (e) {
      if (e instanceof OutOfMemoryError) return undefined;
      throw e;
    }
    const view = this.heap.f32.subarray(p / 4, p / 4 + n);
    view.fill(0);
    this.owned.add(view);
    return view;
  }

  /** Gives back an array from allocFloats (it must not be used afterwards). */
  freeFloats(a: Float32Array): void {
    if (!this.owned.delete(a)) return;
    this.heap.free(a.byteOffset, a.byteLength);
  }

  /** True when `a` came from allocFloats of this runtime. */
  owns(a: Float32Array): boolean {
    return this.owned.has(a);
  }

  /** True when the attention kernel takes this shape. */
  supportsAttention(s: AttentionShape): boolean {
    return attentionFits(s);
  }

  /**
   * Causal attention with llama.cpp's CPU numerics (see ops/attention.ts, which it mirrors):
   * writes the `rows` new k/v rows (rounded to half) into the caches at pos0, then out[t]
   * attends over positions [0, pos0 + t] (the last `s.window` of them with a window), with
   * the per-head `sinks` logits (gpt-oss) joining the softmax. kCache and vCache come from
   * allocFloats and hold [capacity, nHeadKV * dim] rows.
   */
  attention(
    kCache: Float32Array,
    vCache: Float32Array,
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    rows: number,
    pos0: number,
    s: AttentionShape,
    out: Float32Array,
    sinks?: Float32Array,
  ): void {
    this.live();
    if (!this.owns(kCache) || !this.owns(vCache)) {
      throw new InvalidArgumentError("attention caches must come from allocFloats");
    }
    runAttention(this.context, { kCache, vCache, q, k, v, rows, pos0, shape: s, out, sinks });
  }

  private get context(): KernelContext {
    return {
      heap: this.heap,
      ex: this.ex,
      pool: this.pool,
      threads: this.threads,
      scratch: (name, bytes) => this.ensure(this.scratch[name], bytes),
    };
  }

  /** Stops the workers. The memory is dropped with the object. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (const w of this.workers) w.worker.keepAlive(true);
    this.ex.rf_pool_exit(this.pool);
    await Promise.all(this.workers.map((w) => w.exited));
    for (const w of this.workers) w.worker.terminate();
  }
}
