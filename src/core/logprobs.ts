/**
 * Log-probabilities of a logits row: log-softmax and the top-K entries.
 *
 * @module
 */

/** log-softmax normalizer: logsumexp of the row. */
export function logSumExp(logits: Float32Array): number {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  let s = 0;
  for (let i = 0; i < logits.length; i++) s += Math.exp(logits[i] - max);
  return max + Math.log(s);
}

/**
 * The K most likely tokens as [id, logprob], most likely first. Pass `lse` when the
 * row's logSumExp is already known, to skip a second pass over the vocabulary.
 */
export function topLogprobs(
  logits: Float32Array,
  k: number,
  lse: number = logSumExp(logits),
): [number, number][] {
  const top: [number, number][] = [];
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i];
    if (top.length < k) {
      top.push([i, v]);
      top.sort((a, b) => b[1] - a[1]);
    } else if (k > 0 && v > top[k - 1][1]) {
      top[k - 1] = [i, v];
      top.sort((a, b) => b[1] - a[1]);
    }
  }
  return top.map(([i, v]) => [i, v - lse]);
}
