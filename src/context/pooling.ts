/**
 * Pooling of per-token hidden states into one embedding.
 *
 * @module
 */

import { poolHidden } from "../core/embed.ts";

/** How token vectors become one vector: the mean over tokens, or the last token's. */
export type Pooling = "mean" | "last";

/** Pools `rows` rows of width `dim`, then L2-normalizes (a zero vector stays zero). */
export function poolNormalize(
  hidden: Float32Array,
  rows: number,
  dim: number,
  pooling: Pooling = "mean",
): Float32Array {
  return poolHidden(hidden, rows, dim, pooling);
}
