/**
 * Pooling of per-token hidden states into one embedding.
 *
 * @module
 */

import { poolHidden, type Pooling } from "../core/embed.ts";

export type { Pooling };

/** Pools `rows` rows of width `dim`, then L2-normalizes (a zero vector stays zero). */
export function poolNormalize(
  hidden: Float32Array,
  rows: number,
  dim: number,
  pooling: Pooling = "mean",
): Float32Array {
  return poolHidden(hidden, rows, dim, pooling);
}
