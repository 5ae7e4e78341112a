/**
 * Loads the WebAssembly kernel module. Two builds exist (scripts/build_wasm.ts): "relaxed"
 * uses relaxed SIMD's int8 dot product and is picked where the runtime validates it;
 * "simd128" needs only 128-bit SIMD. Both need threads (shared memory and atomics) and bulk
 * memory; `kernelModule()` returns undefined where the runtime lacks them, and the CPU
 * backend then keeps its TypeScript path.
 *
 * @module
 */
import { KERNELS_RELAXED_BASE64, KERNELS_SIMD128_BASE64 } from "./_kernels_wasm.ts";

/** A kernel build: "relaxed" (relaxed SIMD) or "simd128" (plain 128-bit SIMD). */
export type KernelVariant = "relaxed" | "simd128";

/** A compiled kernel module and the build it came from. */
export interface KernelModule {
  readonly module: WebAssembly.Module;
  readonly variant: KernelVariant;
}

const cache = new Map<KernelVariant, KernelModule | null>();

function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** True when shared WebAssembly memory can be created here. */
export function sharedMemorySupported(): boolean {
  try {
    const m = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    return m.buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

function load(variant: KernelVariant): KernelModule | undefined {
  const hit = cache.get(variant);
  if (hit !== undefined) return hit ?? undefined;
  cache.set(variant, null);
  if (typeof WebAssembly !== "object" || !sharedMemorySupported()) return undefined;
  const bytes = decodeBase64(
    variant === "relaxed" ? KERNELS_RELAXED_BASE64 : KERNELS_SIMD128_BASE64,
  );
  if (!WebAssembly.validate(bytes)) return undefined;
  const km = { module: new WebAssembly.Module(bytes), variant };
  cache.set(variant, km);
  return km;
}

/**
 * The kernel module for this runtime: `variant` when given (undefined if the runtime cannot
 * run it), else the relaxed build where supported and the plain one otherwise. Each build
 * is compiled once per process.
 */
export function kernelModule(variant?: KernelVariant): KernelModule | undefined {
  if (variant) return load(variant);
  return load("relaxed") ?? load("simd128");
}
