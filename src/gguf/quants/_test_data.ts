/**
 * Test helpers for the quantizer tests: a seeded normal generator and the error measure.
 *
 * @module
 */

/** Deterministic standard-normal samples (xorshift32 + Box-Muller), scaled by `sigma`. */
export function seededNormal(n: number, seed: number, sigma = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const uniform = (): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s + 0.5) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(uniform()));
    const t = 2 * Math.PI * uniform();
    out[i] = sigma * r * Math.cos(t);
    if (i + 1 < n) out[i + 1] = sigma * r * Math.sin(t);
  }
  return out;
}

/** Root mean square error of `got` against `want`, divided by the RMS of `want`. */
export function relativeRmse(got: Float32Array, want: Float32Array): number {
  let err = 0;
  let ref = 0;
  for (let i = 0; i < want.length; i++) {
    err += (got[i] - want[i]) ** 2;
    ref += want[i] ** 2;
  }
  return Math.sqrt(err / ref);
}

/** Largest |got - want|. */
export function maxAbsError(got: Float32Array, want: Float32Array): number {
  let m = 0;
  for (let i = 0; i < want.length; i++) m = Math.max(m, Math.abs(got[i] - want[i]));
  return m;
}

/**
 * Asserts element-wise identity as float32 values (Object.is: -0 differs from 0, NaN equals
 * NaN), reporting the first mismatch. Independent of how a runtime's deepEqual treats -0.
 */
export function assertSameFloats(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  what = "values",
): void {
  if (got.length !== want.length) {
    throw new Error(`${what}: length ${got.length}, expected ${want.length}`);
  }
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], Math.fround(want[i]))) {
      throw new Error(`${what}: first mismatch at ${i}: got ${got[i]}, expected ${want[i]}`);
    }
  }
}
