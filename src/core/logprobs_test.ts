/**
 * Log-probability helper tests against direct computations.
 */
import { assertClose, assertEquals } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { logSumExp, topLogprobs } from "./logprobs.ts";

/** Plain log-softmax in float64 for reference. */
function logSoftmax(x: number[]): number[] {
  const z = Math.log(x.reduce((s, v) => s + Math.exp(v), 0));
  return x.map((v) => v - z);
}

test("logprobs: logSumExp matches the direct formula and is stable for large logits", () => {
  const x = [0.5, -1, 2, 3.25];
  assertClose(
    logSumExp(Float32Array.from(x)),
    Math.log(x.reduce((s, v) => s + Math.exp(v), 0)),
    1e-6,
  );
  // exp(1000) overflows a direct computation; the stable one does not.
  assertClose(logSumExp(Float32Array.of(1000, 1000)), 1000 + Math.LN2, 1e-4, "large");
  assertClose(logSumExp(Float32Array.of(-1000, -Infinity)), -1000, 1e-9, "with -inf");
  assertEquals(logSumExp(Float32Array.of(7)), 7);
});

test("logprobs: top-K entries are the K largest, most likely first, as log-softmax", () => {
  const x = [0.1, 2.5, -3, 2.5, 1, 0.7, 4];
  const ref = logSoftmax(x);
  const top = topLogprobs(Float32Array.from(x), 3);
  // Ties keep the lower id first.
  assertEquals(top.map(([id]) => id), [6, 1, 3]);
  top.forEach(([id, lp]) => assertClose(lp, ref[id], 1e-6, `token ${id}`));
  // Probabilities of all entries sum to 1.
  const all = topLogprobs(Float32Array.from(x), x.length);
  assertEquals(all.map(([id]) => id), [6, 1, 3, 4, 5, 0, 2]);
  assertClose(all.reduce((s, [, lp]) => s + Math.exp(lp), 0), 1, 1e-6, "sum");
});

test("logprobs: K larger than the row, and K = 0", () => {
  const x = Float32Array.of(1, 2);
  assertEquals(topLogprobs(x, 5).map(([id]) => id), [1, 0]);
  assertEquals(topLogprobs(x, 0), []);
});

test("logprobs: a random row agrees with a sort-based reference", () => {
  let s = 12345;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 20 - 10;
  const x = Array.from({ length: 1000 }, rnd);
  const row = Float32Array.from(x);
  const ref = logSoftmax(Array.from(row));
  const order = ref.map((lp, id) => [id, lp] as const).sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  const top = topLogprobs(row, 10);
  assertEquals(top.map(([id]) => id), order.slice(0, 10).map(([id]) => id));
  top.forEach(([id, lp]) => assertClose(lp, ref[id], 1e-5, `token ${id}`));
});
