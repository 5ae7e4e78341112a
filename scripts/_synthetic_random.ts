/**
 * Seeded random weights for the synthetic models: Gaussian values, and quantized tensors made
 * of runs of blocks drawn from one pool of quantized Gaussian blocks (so a 4 GB model costs
 * memory copies, not quantization).
 *
 * @module
 */
import { type GGMLType, typeTraits } from "../src/gguf/ggml_types.ts";
import { quantize } from "../src/gguf/quants/mod.ts";

function xorshift(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

/** `n` Gaussian values of standard deviation `std`, from `seed` (Box-Muller over xorshift). */
export function gaussian(n: number, seed: number, std: number): Float32Array {
  const r = xorshift(seed);
  const u = () => (r() + 0.5) / 4294967296;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const m = std * Math.sqrt(-2 * Math.log(u()));
    const t = 2 * Math.PI * u();
    out[i] = m * Math.cos(t);
    if (i + 1 < n) out[i + 1] = m * Math.sin(t);
  }
  return out;
}

const POOL_BLOCKS = 4096;
const RUN_BLOCKS = 64;

/** Bytes of a [rows, cols] tensor of `type`, filled from a pool of quantized blocks. */
export function poolFiller(type: GGMLType, seed: number): (nElements: number) => Uint8Array {
  const tr = typeTraits(type);
  const pool = quantize(type, gaussian(POOL_BLOCKS * tr.blockSize, seed, 0.02));
  const r = xorshift(seed ^ 0x9e3779b9);
  return (nElements) => {
    const nb = nElements / tr.blockSize;
    const out = new Uint8Array(nb * tr.typeSize);
    for (let b = 0; b < nb; b += RUN_BLOCKS) {
      const len = Math.min(RUN_BLOCKS, nb - b);
      const from = r() % (POOL_BLOCKS - len + 1);
      out.set(pool.subarray(from * tr.typeSize, (from + len) * tr.typeSize), b * tr.typeSize);
    }
    return out;
  };
}
