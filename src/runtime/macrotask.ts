/**
 * Yielding to the host's macrotask queue, so timers, signals, I/O and other requests run
 * while a long computation (generation, prompt evaluation) loops on `await`s that would
 * otherwise only ever resume as microtasks. `setImmediate` (node:timers, in Deno and Node)
 * is the cheapest macrotask; a {@link YieldClock} spends it at most once per interval.
 *
 * @module
 */
import { setImmediate } from "node:timers";

/** Resolves on a fresh macrotask (after pending timers and I/O callbacks have had a turn). */
export function macrotask(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Yields to the macrotask queue when at least `intervalMs` passed since the last yield. */
export class YieldClock {
  #last = performance.now();
  constructor(readonly intervalMs = 10) {}

  /** Yields if the interval has passed; otherwise returns at once. */
  async tick(): Promise<void> {
    const t = performance.now();
    if (t - this.#last < this.intervalMs) return;
    await macrotask();
    this.#last = performance.now();
  }
}
