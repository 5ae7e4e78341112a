/**
 * Seeded test data: the same inputs on every run and runtime.
 *
 * @module
 */

/** A xorshift32 generator of uniform numbers in [-0.5, 0.5). */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296 - 0.5;
  };
}

/** n floats, each the sum of three uniform draws times `scale` (bell-shaped, |x| < 1.5 scale). */
export function randomFloats(n: number, seed: number, scale: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (r() + r() + r()) * scale;
  return out;
}
