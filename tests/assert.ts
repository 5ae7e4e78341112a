/**
 * The project's one assertion module. `node:assert/strict` works under Deno and Node,
 * so every test imports from here and runs unchanged on both runtimes.
 *
 * @module
 */
export {
  deepEqual as assertEquals,
  equal as assertStrictEquals,
  match as assertMatch,
  notDeepEqual as assertNotEquals,
  ok as assert,
  rejects as assertRejects,
  throws as assertThrows,
} from "node:assert/strict";

/** Asserts |actual - expected| <= tol, with a message that gives both numbers. */
export function assertClose(actual: number, expected: number, tol: number, what = "value"): void {
  if (!(Math.abs(actual - expected) <= tol)) {
    throw new Error(`${what}: expected ${expected} ± ${tol}, got ${actual}`);
  }
}
