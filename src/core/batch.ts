/**
 * What goes into one multi-sequence forward pass: given the tokens each waiting evaluation
 * still has, how many of them the next pass takes (llama.cpp server's policy: every decoding
 * sequence's next token first, then chunks of pending prompts, up to a token budget).
 *
 * @module
 */

/**
 * Tokens each job gets in the next pass (0: not in it), for jobs with `remaining[i]` tokens
 * left, in arrival order. Jobs with the fewest tokens left (decoding sequences) come first;
 * the rest of the `budget` goes to prompts in arrival order as chunks, and at most
 * `maxSequences` jobs take part; even a budget below 1 moves one token.
 */
export function planStep(
  remaining: readonly number[],
  budget: number,
  maxSequences: number,
): number[] {
  const take = remaining.map(() => 0);
  const order = remaining.map((_, i) => i).sort((a, b) =>
    Math.min(remaining[a], 2) - Math.min(remaining[b], 2) || a - b
  );
  let left = Math.max(1, budget);
  let used = 0;
  for (const i of order) {
    if (left <= 0 || used >= maxSequences) break;
    if (remaining[i] <= 0) continue;
    take[i] = Math.min(remaining[i], left);
    left -= take[i];
    used++;
  }
  return take;
}
