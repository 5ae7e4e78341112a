/**
 * The native x86-64 kernel provider of the CPU backend: librocmforge_cpu (native/cpu/, built
 * by `deno task build:native --target cpu`) opened through the runtime's FFI layer (Deno.dlopen
 * or koffi). It multiplies quantized weights (Q4_0, Q8_0, Q4_K, Q5_K, Q6_K) with AVX2 or
 * AVX512-VNNI code on a pthread pool inside the library, in llama.cpp's x86 float32
 * arithmetic; the other ops stay on the WebAssembly kernels. The weights stay in JavaScript
 * memory (Q4_0, Q8_0 and Q4_K with a multiple of 8 rows rewritten once into groups of 8
 * rows), and every call passes them, the activations and the output as buffers: no copies.
 *
 * @module
 */
import { BackendError, InvalidArgumentError } from "../../../core/errors.ts";
import { type GGMLType, typeTraits } from "../../../gguf/ggml_types.ts";
import {
  ancestorDir,
  type FfiLibrary,
  fileExists,
  joinPath,
  openLibrary,
} from "../../../runtime/ffi_load.ts";
import { env } from "../../../runtime/host.ts";
import { hostPlatform, prebuiltLibrary } from "../../../runtime/prebuilt.ts";
import {
  CPU_ABI_VERSION,
  CPU_SYMBOLS,
  CpuFeature,
  CpuStatus,
  type CpuSymbols,
  CpuVariant,
} from "./symbols.ts";

/** File name of the library. */
export const CPU_LIBRARY_NAME = "librocmforge_cpu.so";

/** A native kernel build: AVX2 (+FMA, F16C) or AVX512-VNNI. */
export type NativeVariant = "avx2" | "avx512vnni";

/** Platforms the npm package ships the library for (scripts/build_npm.ts). */
export const CPU_PREBUILT_PLATFORMS: readonly string[] = ["linux-x64"];

/**
 * Where the library may be: env ROCMFORGE_CPU_LIB alone when set; else build/native/cpu/ of a
 * checkout, then the npm package's prebuilt/linux-x64/ (on x86-64 Linux). `root`: the
 * repository or package root.
 */
export function nativeLibraryCandidates(root = ancestorDir(import.meta.url, 4)): string[] {
  const explicit = env("ROCMFORGE_CPU_LIB");
  if (explicit) return [explicit];
  const out = [joinPath(root, "build", "native", "cpu", CPU_LIBRARY_NAME)];
  const prebuilt = prebuiltLibrary(root, CPU_LIBRARY_NAME, CPU_PREBUILT_PLATFORMS);
  if (prebuilt) out.push(prebuilt);
  return out;
}

/** A weight matrix in the layout the native kernels read. */
export interface NativeMatrix {
  readonly type: GGMLType;
  readonly rows: number;
  readonly cols: number;
  /** GGUF bytes, or (repacked) Q4_0 / Q8_0 / Q4_K in groups of 8 rows. */
  readonly data: Uint8Array;
  readonly repacked: boolean;
}

/** Options of NativeKernels.open. */
export interface NativeKernelOptions {
  /** Threads including the caller's (default 1). */
  readonly threads?: number;
  /** Polls an idle thread makes before it sleeps (default DEFAULT_NATIVE_SPIN). */
  readonly spin?: number;
  /** Kernel build (default: the best this CPU runs). */
  readonly variant?: NativeVariant;
  /** Library path (default: nativeLibraryCandidates()). */
  readonly path?: string;
}

/**
 * Default polls (each one x86 `pause`) before an idle kernel thread sleeps on a futex, about
 * 20-50 µs: enough to bridge the gaps between the products of one decode step, short enough
 * not to take the core from the WebAssembly ops and other processes. Measured with
 * `deno task bench:threads` (TinyLlama Q4_0, 2 threads, a loaded 2-core machine): tg16 6.3 t/s
 * polling 20000 times, 17.9 polling 2000, 12.6 sleeping at once.
 */
export const DEFAULT_NATIVE_SPIN = 2_000;

const STATUS_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(CpuStatus).map(([k, v]) => [v, k]),
);

/** An open library with one context (thread pool); release with `dispose`. */
export class NativeKernels {
  private readonly i32 = new Int32Array(4);
  private disposed = false;

  private constructor(
    private readonly lib: FfiLibrary<CpuSymbols>,
    private readonly handle: number,
    /** The kernel build in use. */
    readonly variant: NativeVariant,
    /** Threads including the caller's. */
    readonly threads: number,
  ) {}

  /**
   * Opens the library and starts its thread pool. Throws BACKEND_UNAVAILABLE (with the
   * reason: not built, wrong ABI, CPU without AVX2/FMA/F16C, or without the requested build).
   */
  static async open(opts: NativeKernelOptions = {}): Promise<NativeKernels> {
    const threads = opts.threads ?? 1;
    if (!Number.isInteger(threads) || threads < 1 || threads > 256) {
      throw new InvalidArgumentError("threads must be an integer in 1..256", { actual: threads });
    }
    const spin = opts.spin ?? DEFAULT_NATIVE_SPIN;
    if (!Number.isInteger(spin) || spin < 0 || spin > 2 ** 31 - 1) {
      throw new InvalidArgumentError("spin must be a non-negative integer", { actual: spin });
    }
    if (opts.variant !== undefined && opts.variant !== "avx2" && opts.variant !== "avx512vnni") {
      throw new InvalidArgumentError("variant must be avx2 or avx512vnni", {
        actual: opts.variant,
      });
    }
    const paths = opts.path ? [opts.path] : nativeLibraryCandidates();
    const path = paths.find(fileExists);
    if (!path) {
      const platform = hostPlatform();
      const why = opts.path || CPU_PREBUILT_PLATFORMS.includes(platform)
        ? ""
        : ` (x86-64 Linux only; this is ${platform})`;
      throw new BackendError("BACKEND_UNAVAILABLE", `${CPU_LIBRARY_NAME} not found${why}`, {
        expected: paths,
        platform,
      });
    }
    let lib: FfiLibrary<CpuSymbols>;
    try {
      lib = await openLibrary(path, CPU_SYMBOLS);
    } catch (e) {
      throw new BackendError("BACKEND_UNAVAILABLE", `cannot open ${path}: ${String(e)}`);
    }
    const out = new Int32Array(4);
    lib.symbols.rf_cpu_version(out);
    const fail = (msg: string, facts: Record<string, unknown> = {}): never => {
      lib.close();
      throw new BackendError("BACKEND_UNAVAILABLE", msg, facts);
    };
    if (out[0] !== CPU_ABI_VERSION) {
      fail(`${path} has ABI ${out[0]}`, { expected: CPU_ABI_VERSION, actual: out[0] });
    }
    const feats = out[1];
    if (!(feats & CpuFeature.AVX2)) fail("the CPU lacks AVX2, FMA or F16C");
    if (opts.variant === "avx512vnni" && !(feats & CpuFeature.AVX512VNNI)) {
      fail("the CPU lacks AVX512BW/VL and AVX512-VNNI");
    }
    const st = lib.symbols.rf_cpu_create(threads, spin, CpuVariant[opts.variant ?? "auto"], out);
    if (st !== CpuStatus.OK) fail(`rf_cpu_create failed (${STATUS_NAMES[st] ?? st})`);
    const variant: NativeVariant = out[1] === CpuVariant.avx512vnni ? "avx512vnni" : "avx2";
    return new NativeKernels(lib, out[0], variant, out[2]);
  }

  /** True when the kernels multiply a `rows` x `cols` matrix of `type`. */
  supports(type: GGMLType, rows: number, cols: number): boolean {
    this.live();
    this.lib.symbols.rf_cpu_layout(type, rows, cols, this.i32);
    return this.i32[0] === 1;
  }

  /** The matrix in the kernels' layout (`data`: its GGUF bytes, kept when no rewrite is due). */
  prepare(type: GGMLType, rows: number, cols: number, data: Uint8Array): NativeMatrix {
    this.live();
    this.lib.symbols.rf_cpu_layout(type, rows, cols, this.i32);
    if (this.i32[0] !== 1) {
      throw new InvalidArgumentError(
        `no native kernel for this ${typeTraits(type).name} matrix`,
        { actual: { type, rows, cols } },
      );
    }
    const tr = typeTraits(type);
    const bytes = rows * (cols / tr.blockSize) * tr.typeSize;
    const packed = this.i32[2];
    if (data.byteLength < bytes) {
      throw new InvalidArgumentError("matrix data is shorter than its shape", {
        expected: bytes,
        actual: data.byteLength,
      });
    }
    if (this.i32[1] !== 1) return { type, rows, cols, data, repacked: false };
    const out = new Uint8Array(packed);
    this.check("rf_cpu_repack", this.lib.symbols.rf_cpu_repack(type, rows, cols, data, out));
    return { type, rows, cols, data: out, repacked: true };
  }

  /**
   * y[t * m.rows + n] = dot(W row n, x row t) (+ bias[n]) for t < T: x holds T rows of m.cols
   * floats, rounded to int8 blocks as llama.cpp rounds activations for the weight type.
   */
  matmul(m: NativeMatrix, x: Float32Array, T: number, y: Float32Array, bias?: Float32Array): void {
    this.live();
    if (!(Number.isInteger(T) && T >= 1) || x.length < T * m.cols || y.length < T * m.rows) {
      throw new InvalidArgumentError("matmul operands have the wrong size", {
        expected: { x: T * m.cols, y: T * m.rows },
        actual: { x: x.length, y: y.length },
      });
    }
    if (bias && bias.length < m.rows) {
      throw new InvalidArgumentError("bias is shorter than the matrix rows", {
        expected: m.rows,
        actual: bias.length,
      });
    }
    const st = this.lib.symbols.rf_cpu_matmul(
      this.handle,
      m.type,
      m.repacked ? 1 : 0,
      m.data,
      m.rows,
      m.cols,
      x,
      T,
      y,
      bias ?? null,
    );
    this.check("rf_cpu_matmul", st);
  }

  /** The GGUF bytes of a matrix from prepare (a copy when it was repacked). */
  unpack(m: NativeMatrix): Uint8Array {
    this.live();
    if (!m.repacked) return m.data;
    const tr = typeTraits(m.type);
    const out = new Uint8Array(m.rows * (m.cols / tr.blockSize) * tr.typeSize);
    this.check(
      "rf_cpu_unpack",
      this.lib.symbols.rf_cpu_unpack(m.type, m.rows, m.cols, m.data, out),
    );
    return out;
  }

  private check(call: string, st: number): void {
    if (st !== CpuStatus.OK) {
      throw new BackendError("BACKEND_CALL_FAILED", `${call} failed (${STATUS_NAMES[st] ?? st})`, {
        call,
        actual: st,
      });
    }
  }

  private live(): void {
    if (this.disposed) {
      throw new BackendError("BACKEND_DISPOSED", "native CPU kernels were disposed");
    }
  }

  /** Stops the thread pool and unloads the library. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.lib.symbols.rf_cpu_destroy(this.handle);
    this.lib.close();
  }
}
