/**
 * Test helper: a backend that delegates to another and counts the token rows its contexts
 * compute (for tests of what the engine evaluates, e.g. prefix reuse).
 *
 * @module
 */
import type { Backend, BackendContext } from "../src/core/backend.ts";

/** Counter shared by every context the backend opens. */
export interface RowCounter {
  rows: number;
}

/** `inner` with `overrides` (name, priority, probe, ...) whose contexts count computed rows. */
export function countingBackend(
  inner: Backend,
  counter: RowCounter,
  overrides: Partial<Pick<Backend, "name" | "priority" | "probe">> = {},
): Backend {
  return {
    ...inner,
    ...overrides,
    async createContext(tensors, opts): Promise<BackendContext> {
      const c = await inner.createContext(tensors, opts);
      return {
        backend: c.backend,
        get weightBytes() {
          return c.weightBytes;
        },
        has: (name) => c.has(name),
        createKV: (spec) => c.createKV(spec),
        compute(req) {
          counter.rows += req.tokens.length;
          return c.compute(req);
        },
        dispose: () => c.dispose(),
      };
    },
  };
}
