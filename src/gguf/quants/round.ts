/**
 * Integer rounding helpers with the exact semantics of the C reference quantizers.
 *
 * @module
 */

/**
 * ggml's nearest_int: round half to even (it adds 1.5 * 2^23 in float32). NaN gives NaN;
 * callers clamp with comparisons that send NaN to the lower bound.
 */
export function nearestInt(x: number): number {
  const r = Math.round(x); // half up
  return r - x === 0.5 && (r & 1) !== 0 ? r - 1 : r;
}

/** C roundf: half away from zero. */
export function roundAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** Clamps an integer to [lo, hi]; NaN becomes lo. */
export function clampInt(v: number, lo: number, hi: number): number {
  return v > hi ? hi : v >= lo ? v : lo;
}

/** GROUP_MAX_EPS of ggml-quants.c (1e-15f): groups below it quantize to all zero. */
export const GROUP_MAX_EPS: number = Math.fround(1e-15);
