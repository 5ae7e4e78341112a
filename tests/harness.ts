/**
 * Runtime-neutral test registration: `Deno.test` under Deno, `node:test` under Node, so
 * the same test files run on both runtimes (the npm build runs them under Node).
 *
 * @module
 */
import process from "node:process";

/** Options for one test. */
export interface TestOptions {
  /** Skip the test; `reason` says why and is printed. */
  ignore?: boolean;
  /** Printed when the test is skipped. */
  reason?: string;
}

type Fn = () => void | Promise<void>;

interface DenoTestApi {
  test(
    def: {
      name: string;
      fn: Fn;
      ignore?: boolean;
      sanitizeResources?: boolean;
      sanitizeOps?: boolean;
    },
  ): void;
}

const denoNs = (globalThis as { Deno?: DenoTestApi }).Deno;
const nodeTest = denoNs ? undefined : await import("node:test");
const skipped = new Set<string>();

/** Registers a test. A skipped test prints its reason once so a skip never passes silently. */
export function test(name: string, fn: Fn, opts: TestOptions = {}): void {
  const label = opts.ignore && opts.reason ? `${name} [skipped: ${opts.reason}]` : name;
  if (opts.ignore && opts.reason && !skipped.has(opts.reason)) {
    skipped.add(opts.reason);
    process.stderr.write(`skip: ${opts.reason}\n`);
  }
  if (denoNs) {
    denoNs.test({
      name: label,
      fn,
      ignore: opts.ignore,
      sanitizeResources: false,
      sanitizeOps: false,
    });
  } else {
    nodeTest!.test(label, { skip: opts.ignore ? (opts.reason ?? true) : false }, fn);
  }
}
