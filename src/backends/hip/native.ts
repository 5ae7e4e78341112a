/**
 * Typed access to librocmforge_hip: finds and opens the library, checks every status and
 * turns failures into typed errors (see errors.ts). One instance per process is enough; the
 * backend shares it between models.
 *
 * @module
 */
import { BackendError } from "../../core/errors.ts";
import {
  ancestorDir,
  type FfiArg,
  type FfiLibrary,
  fileExists,
  joinPath,
  openLibrary,
} from "../../runtime/ffi_load.ts";
import { fileSource } from "../../runtime/byte_source.ts";
import { env } from "../../runtime/host.ts";
import { codeObjectTargets, libraryProcessors } from "./code_objects.ts";
import { codeObjectError, noGpuError } from "./device_notice.ts";
import { nativeError, type NativeErrorDetail } from "./errors.ts";
import { HIP_ABI_VERSION, HIP_SYMBOLS, type HipSymbols, RfStatus } from "./ffi/symbols.ts";

/** File name of the native library. */
export const HIP_LIBRARY_NAME = "librocmforge_hip.so";

/** Build targets searched, in order, under build/native/<target>/. */
export const HIP_TARGETS = ["amd", "cuda"] as const;

/** Where the library may be: env ROCMFORGE_HIP_LIB, then build/native/<target>/. */
export function libraryCandidates(root = ancestorDir(import.meta.url, 3)): string[] {
  const explicit = env("ROCMFORGE_HIP_LIB");
  if (explicit) return [explicit];
  return HIP_TARGETS.map((t) => joinPath(root, "build", "native", t, HIP_LIBRARY_NAME));
}

/** Properties of one device. */
export interface NativeDeviceProps {
  readonly name: string;
  readonly arch: string;
  readonly totalMemory: number;
  readonly freeMemory: number;
  readonly computeUnits: number;
  readonly warpSize: number;
  readonly ccMajor: number;
  readonly ccMinor: number;
  readonly memoryBusWidth: number;
  readonly memoryClockKHz: number;
  readonly l2Bytes: number;
}

const decoder = new TextDecoder();
function cstr(buf: Uint8Array): string {
  const end = buf.indexOf(0);
  return decoder.decode(end < 0 ? buf : buf.subarray(0, end));
}

/** The opened library with checked, typed calls. */
export class HipNative {
  /** 0 when built for AMD (HIP), 1 when built for NVIDIA (CUDA). */
  readonly target: "amd" | "cuda";
  private readonly out32 = new Int32Array(2);
  private readonly out64 = new BigInt64Array(16);
  private processors: readonly string[] | undefined | null = null;

  private constructor(private readonly lib: FfiLibrary<HipSymbols>) {
    const abi = new Int32Array(1);
    const target = new Int32Array(1);
    lib.symbols.rf_version(abi, target);
    if (abi[0] !== HIP_ABI_VERSION) {
      lib.close();
      throw new BackendError(
        "BACKEND_UNAVAILABLE",
        `${lib.path} has ABI version ${abi[0]}, expected ${HIP_ABI_VERSION}`,
        { expected: HIP_ABI_VERSION, actual: abi[0] },
      );
    }
    this.target = target[0] === 1 ? "cuda" : "amd";
  }

  /** Opens the library at `path`; throws BackendError(BACKEND_UNAVAILABLE) when it cannot. */
  static async open(path: string): Promise<HipNative> {
    if (!fileExists(path)) {
      throw new BackendError("BACKEND_UNAVAILABLE", `HIP library not found at ${path}`, {
        actual: path,
      });
    }
    let lib: FfiLibrary<HipSymbols>;
    try {
      lib = await openLibrary(path, HIP_SYMBOLS);
    } catch (e) {
      throw new BackendError(
        "BACKEND_UNAVAILABLE",
        `cannot load ${path}: ${e instanceof Error ? e.message : String(e)}`,
        { actual: path },
        { cause: e },
      );
    }
    return new HipNative(lib);
  }

  /** Path of the opened library. */
  get path(): string {
    return this.lib.path;
  }

  /** The last error of this thread. */
  lastError(): NativeErrorDetail {
    const msg = new Uint8Array(1024);
    const call = new Uint8Array(256);
    const gpu = new Uint8Array(128);
    const nums = new BigInt64Array(3);
    this.lib.symbols.rf_last_error(msg, msg.length, call, call.length, gpu, gpu.length, nums);
    return {
      status: Number(nums[0]),
      message: cstr(msg),
      call: cstr(call),
      gpuError: cstr(gpu),
      gpuCode: Number(nums[1]),
      bytes: Number(nums[2]),
    };
  }

  /** Calls `fn` and throws its typed error on failure (for wrappers kept beside this file). */
  call(fn: keyof HipSymbols, ...args: FfiArg[]): void {
    this.check(fn, this.lib.symbols[fn](...args));
  }

  private check(fn: string, status: number): void {
    if (status !== RfStatus.OK) {
      const d = this.lastError();
      throw nativeError(fn, d.status === RfStatus.OK ? { ...d, status } : d);
    }
  }

  /**
   * Initializes the runtime; returns the device count. Without any usable GPU (none present,
   * no driver) the error says "no GPU found (<why>)".
   */
  init(): number {
    const status = this.lib.symbols.rf_init(this.out32);
    if (status !== RfStatus.OK) {
      const d = this.lastError();
      throw noGpuError(d) ??
        nativeError("rf_init", d.status === RfStatus.OK ? { ...d, status } : d);
    }
    return this.out32[0];
  }

  /**
   * The AMD targets this library has code objects for (empty for an NVIDIA build; undefined
   * when they cannot be read, e.g. compressed bundles).
   */
  codeObjectProcessors(): readonly string[] | undefined {
    if (this.processors === null) {
      const src = fileSource(this.path);
      try {
        const bundles = codeObjectTargets(src, this.path);
        this.processors = bundles && libraryProcessors(bundles);
      } finally {
        src.close();
      }
    }
    return this.processors;
  }

  /**
   * Throws BACKEND_UNAVAILABLE naming the chip when this AMD build has no code object for
   * device `id` ("gfx1103 not in this build: rebuild with --offload-arch gfx1103").
   */
  requireCodeObject(id: number): void {
    if (this.target !== "amd") return;
    const processors = this.codeObjectProcessors();
    if (!processors) return;
    const p = this.deviceProps(id);
    const e = codeObjectError(p.name, p.arch, processors);
    if (e) throw e;
  }

  /** Properties of device `id`. */
  deviceProps(id: number): NativeDeviceProps {
    const name = new Uint8Array(256);
    const arch = new Uint8Array(64);
    const n = this.out64;
    this.check(
      "rf_device_props",
      this.lib.symbols.rf_device_props(id, name, name.length, arch, arch.length, n),
    );
    return {
      name: cstr(name),
      arch: cstr(arch),
      totalMemory: Number(n[0]),
      freeMemory: Number(n[1]),
      computeUnits: Number(n[2]),
      warpSize: Number(n[3]),
      ccMajor: Number(n[4]),
      ccMinor: Number(n[5]),
      memoryBusWidth: Number(n[7]),
      memoryClockKHz: Number(n[8]),
      l2Bytes: Number(n[9]),
    };
  }

  /** A context (stream + scratch) on device `id`. */
  contextCreate(device: number): number {
    this.check("rf_context_create", this.lib.symbols.rf_context_create(device, this.out32));
    return this.out32[0];
  }

  contextDestroy(ctx: number): void {
    this.check("rf_context_destroy", this.lib.symbols.rf_context_destroy(ctx));
  }

  /** A weight arena of `bytes` on `ctx`'s device. */
  arenaCreate(ctx: number, bytes: number): number {
    this.check("rf_arena_create", this.lib.symbols.rf_arena_create(ctx, bytes, this.out32));
    return this.out32[0];
  }

  /** Carves `bytes` (best fit, 256-byte aligned); returns the byte offset. */
  arenaAlloc(arena: number, bytes: number): number {
    this.check("rf_arena_alloc", this.lib.symbols.rf_arena_alloc(arena, bytes, this.out64));
    return Number(this.out64[0]);
  }

  arenaFree(arena: number, offset: number): void {
    this.check("rf_arena_free", this.lib.symbols.rf_arena_free(arena, offset));
  }

  arenaUpload(arena: number, offset: number, data: Uint8Array): void {
    this.check(
      "rf_arena_upload",
      this.lib.symbols.rf_arena_upload(arena, offset, data, data.byteLength),
    );
  }

  arenaDownload(arena: number, offset: number, out: Uint8Array): void {
    this.check(
      "rf_arena_download",
      this.lib.symbols.rf_arena_download(arena, offset, out, out.byteLength),
    );
  }

  /** Capacity, bytes in use and largest free block of an arena. */
  arenaStats(arena: number): { capacity: number; used: number; largestFree: number } {
    this.check("rf_arena_stats", this.lib.symbols.rf_arena_stats(arena, this.out64));
    return {
      capacity: Number(this.out64[0]),
      used: Number(this.out64[1]),
      largestFree: Number(this.out64[2]),
    };
  }

  arenaDestroy(arena: number): void {
    this.check("rf_arena_destroy", this.lib.symbols.rf_arena_destroy(arena));
  }

  /** A float32 KV cache of `layers` slots. */
  kvCreate(
    ctx: number,
    layers: number,
    capacity: number,
    nHeadKV: number,
    headDim: number,
    valueDim: number,
  ): number {
    this.check(
      "rf_kv_create",
      this.lib.symbols.rf_kv_create(ctx, layers, capacity, nHeadKV, headDim, valueDim, this.out32),
    );
    return this.out32[0];
  }

  kvDestroy(kv: number): void {
    this.check("rf_kv_destroy", this.lib.symbols.rf_kv_destroy(kv));
  }

  /** Runs a program (see program.ts) and fills `hostOut`. */
  exec(
    ctx: number,
    arena: number,
    kv: number,
    words: Int32Array,
    hostIn: Uint8Array,
    hostOut: Uint8Array,
    scratchBytes: number,
    pos0: number,
  ): void {
    this.check(
      "rf_exec",
      this.lib.symbols.rf_exec(
        ctx,
        arena,
        kv,
        words,
        words.length,
        hostIn,
        hostIn.byteLength,
        hostOut,
        hostOut.byteLength,
        scratchBytes,
        pos0,
      ),
    );
  }

  /**
   * Runs a program over a multi-sequence batch: `seqs` holds [rows, pos0, kv] per sequence
   * (native/rf_api.h rf_exec_seqs).
   */
  execSeqs(
    ctx: number,
    arena: number,
    seqs: Int32Array,
    words: Int32Array,
    hostIn: Uint8Array,
    hostOut: Uint8Array,
    scratchBytes: number,
  ): void {
    const [i, o] = [hostIn, hostOut];
    const s = this.lib.symbols;
    this.check(
      "rf_exec_seqs",
      s.rf_exec_seqs(
        ctx,
        arena,
        seqs,
        seqs.length / 3,
        words,
        words.length,
        i,
        i.byteLength,
        o,
        o.byteLength,
        scratchBytes,
      ),
    );
  }

  /** Copies the first `positions` cells of every layer of one KV cache into another. */
  kvCopy(from: number, to: number, positions: number): void {
    this.check("rf_kv_copy", this.lib.symbols.rf_kv_copy(from, to, positions));
  }

  /** Times a matmul kernel; returns median, min and max milliseconds. */
  benchMatmul(
    ctx: number,
    arena: number,
    offsets: readonly number[],
    type: number,
    k: number,
    n: number,
    t: number,
    reps: number,
  ): { median: number; min: number; max: number } {
    const offs = BigInt64Array.from(offsets.map((o) => BigInt(o)));
    const out = new Float64Array(3);
    this.check(
      "rf_bench_matmul",
      this.lib.symbols.rf_bench_matmul(ctx, arena, offs, offs.length, type, k, n, t, reps, out),
    );
    return { median: out[0], min: out[1], max: out[2] };
  }

  /** Times device-to-device copies of `bytes`; returns median and min milliseconds. */
  benchCopy(ctx: number, bytes: number, reps: number): { median: number; min: number } {
    const out = new Float64Array(2);
    this.check("rf_bench_copy", this.lib.symbols.rf_bench_copy(ctx, bytes, reps, out));
    return { median: out[0], min: out[1] };
  }

  /**
   * Test hook: the next `count` launches at fault `point` (RfFault) fail as a real launch
   * failure does; 0 disarms.
   */
  testFailLaunch(point: number, count: number): void {
    this.check("rf_test_fail_launch", this.lib.symbols.rf_test_fail_launch(point, count));
  }

  /** Unloads the library. */
  close(): void {
    this.lib.close();
  }
}

export { libraryHint, openHipNative } from "./native_open.ts";
