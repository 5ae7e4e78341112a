/**
 * The project's one assertion module. `node:assert` works under Deno and Node; only its
 * strict comparisons are exported (Deno's `node:assert/strict` aliases are loose),
 * so every test imports from here and runs unchanged on both runtimes.
 *
 * @module
 */
export {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  notDeepStrictEqual as assertNotEquals,
  ok as assert,
  rejects as assertRejects,
  strictEqual as assertStrictEquals,
  throws as assertThrows,
} from "node:assert";

/** Asserts |actual - expected| <= tol, with a message that gives both numbers. */
export function assertClose(actual: number, expected: number, tol: number, what = "value"): void {
  if (!(Math.abs(actual - expected) <= tol)) {
    throw new Error(`${what}: expected ${expected} ± ${tol}, got ${actual}`);
  }
}
