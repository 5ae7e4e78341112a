/**
 * CPU weight store: tensors stay in their GGUF bytes. With WebAssembly kernels, matrices of
 * the types they support are copied into the kernels' shared memory (the TypeScript path
 * reads the same bytes through a view); other matrices and 1-D tensors stay in host memory
 * (1-D tensors decoded to float32, F32 matrices given a float view). With native kernels,
 * the 2-D matrices of their types stay in JavaScript memory in the layout they read
 * (NativeMatrix) and skip the kernel memory.
 *
 * @module
 */
import type { WeightTensor } from "../../core/backend.ts";
import { OutOfMemoryError } from "../../core/errors.ts";
import { GGMLType, typeTraits } from "../../gguf/ggml_types.ts";
import { dequantize } from "../../gguf/quants/mod.ts";
import type { QuantMatrix } from "./ops/matmul.ts";
import { type WasmKernels, wasmSupportsType } from "./wasm/runtime.ts";
import type { NativeKernels, NativeMatrix } from "./native/native_kernels.ts";

/** 1-D tensors, and biases of any shape (gpt-oss's per-expert [rows, nExpert] ones). */
function isVector(t: WeightTensor): boolean {
  const d = t.info.dims;
  return d.length === 1 || d.slice(1).every((x) => x === 1) || t.info.name.endsWith(".bias");
}

/** Weights held in host memory and, for the kernels' types, in the kernel memory. */
export class CpuWeightStore {
  readonly backend = "cpu";
  private readonly mats = new Map<string, QuantMatrix>();
  private readonly vecs = new Map<string, Float32Array>();
  private readonly natives = new Map<string, NativeMatrix>();
  /** Kernel memory this store allocated: [address, bytes]. */
  private readonly regions: [number, number][] = [];
  bytes = 0;

  /**
   * `kernels`: the WebAssembly kernels whose memory holds the matrices they can multiply;
   * `native`: the native kernels, which take the 2-D matrices of their types.
   */
  constructor(readonly kernels?: WasmKernels, readonly native?: NativeKernels) {}

  /** True when `t` is a matrix of 2 dimensions the native kernels multiply. */
  private onNative(t: WeightTensor): boolean {
    const d = t.info.dims;
    return this.native !== undefined && !isVector(t) && d.slice(2).every((x) => x === 1) &&
      this.native.supports(t.info.type, t.info.nElements / d[0], d[0]);
  }

  /** True when `t` will be placed in the kernel memory. */
  private inKernels(t: WeightTensor): boolean {
    return this.kernels !== undefined && !isVector(t) && wasmSupportsType(t.info.type) &&
      !this.onNative(t);
  }

  /**
   * Adds every tensor. Matrices bound for the kernel memory are placed in one region
   * reserved up front; when that memory (4 GiB at most) cannot hold them all, each one that
   * still fits is placed on its own and the rest stay in host memory on the TypeScript path.
   */
  addAll(tensors: readonly WeightTensor[]): void {
    let total = 0;
    for (const t of tensors) if (this.inKernels(t)) total += Math.ceil(t.info.nBytes / 64) * 64;
    let next = -1;
    if (this.kernels && total > 0) {
      try {
        next = this.kernels.heap.alloc(total, 64);
        this.regions.push([next, total]);
      } catch (e) {
        if (!(e instanceof OutOfMemoryError)) throw e;
      }
    }
    for (const t of tensors) {
      if (!this.inKernels(t)) {
        this.add(t);
      } else if (next >= 0) {
        this.add(t, next);
        next += Math.ceil(t.info.nBytes / 64) * 64;
      } else {
        let ptr: number | undefined;
        try {
          ptr = this.kernels!.heap.alloc(t.info.nBytes, 64);
          this.regions.push([ptr, t.info.nBytes]);
        } catch (e) {
          if (!(e instanceof OutOfMemoryError)) throw e;
        }
        this.add(t, ptr);
      }
    }
  }

  /**
   * Adds a tensor: 1-D tensors (norms, biases) are decoded to float32, matrices stay as-is,
   * copied to kernel address `ptr` when given.
   */
  add(t: WeightTensor, ptr?: number): void {
    const { info } = t;
    let raw = t.read();
    this.bytes += raw.byteLength;
    if (isVector(t)) {
      this.vecs.set(info.name, dequantize(info.type, raw, info.nElements));
      return;
    }
    const cols = info.dims[0];
    const rows = info.nElements / cols;
    const tr = typeTraits(info.type);
    if (this.onNative(t)) {
      const nm = this.native!.prepare(info.type, rows, cols, raw);
      this.natives.set(info.name, nm);
      // a repacked matrix gets its GGUF form back only if another op asks (matrix())
      if (nm.repacked) return;
    }
    if (ptr !== undefined && this.kernels) {
      const u8 = this.kernels.heap.u8;
      u8.set(raw, ptr);
      raw = u8.subarray(ptr, ptr + raw.byteLength);
    }
    const m: QuantMatrix = {
      type: info.type,
      rows,
      cols,
      data: raw,
      rowBytes: (cols / tr.blockSize) * tr.typeSize,
      ptr,
    };
    if (info.type === GGMLType.F32) {
      const aligned = raw.byteOffset % 4 === 0 ? raw : raw.slice();
      m.f32 = new Float32Array(aligned.buffer, aligned.byteOffset, rows * cols);
    }
    this.mats.set(info.name, m);
  }

  has(name: string): boolean {
    return this.mats.has(name) || this.vecs.has(name) || this.natives.has(name);
  }

  /**
   * A weight matrix in GGUF form; throws when absent. A matrix the native kernels hold
   * repacked is unpacked once (embeddings tied to the output, MoE routers).
   */
  matrix(name: string): QuantMatrix {
    const m = this.mats.get(name) ?? this.unpacked(name);
    if (!m) throw new Error(`CPU weight store has no matrix ${name}`);
    return m;
  }

  private unpacked(name: string): QuantMatrix | undefined {
    const nm = this.natives.get(name);
    if (!nm) return undefined;
    const tr = typeTraits(nm.type);
    const rowBytes = (nm.cols / tr.blockSize) * tr.typeSize;
    const data = this.native!.unpack(nm);
    const m: QuantMatrix = { type: nm.type, rows: nm.rows, cols: nm.cols, data, rowBytes };
    this.mats.set(name, m);
    return m;
  }

  /**
   * y = x W^T (+ bias) through the native kernels when they hold `name`; false (nothing
   * done) when they do not.
   */
  nativeMatmul(
    name: string,
    x: Float32Array,
    T: number,
    y: Float32Array,
    bias?: Float32Array,
  ): boolean {
    const nm = this.natives.get(name);
    if (!nm) return false;
    this.native!.matmul(nm, x, T, y, bias);
    return true;
  }

  /** A 1-D weight decoded to float32; throws when absent. */
  vector(name: string): Float32Array {
    const v = this.vecs.get(name);
    if (!v) throw new Error(`CPU weight store has no vector ${name}`);
    return v;
  }

  dispose(): void {
    this.mats.clear();
    this.vecs.clear();
    this.natives.clear();
    if (this.kernels) {
      for (const [p, n] of this.regions) this.kernels.heap.free(p, n);
    }
    this.regions.length = 0;
  }
}
