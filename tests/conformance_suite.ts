/**
 * The runner of the backend conformance suites (tests/conformance_test.ts,
 * tests/conformance_arch_test.ts): every backend this machine has (the CPU always, HIP and
 * software WebGPU when their probes pass; otherwise their cases are registered as skipped with
 * the probe's reason), each case run on it and on the CPU reference backend and compared by the
 * normalized error ||out - ref|| / ||ref||.
 *
 * Set ROCMFORGE_CONFORMANCE_REPORT=<file> to write every measured error as JSON (each suite
 * merges its errors into the file).
 *
 * @module
 */
import type { Backend } from "../src/core/backend.ts";
import { createCpuBackend } from "../src/backends/cpu/backend.ts";
import { createHipBackend } from "../src/backends/hip/backend.ts";
import { createWebGpuBackend } from "../src/backends/webgpu/backend.ts";
import { env, pathExists, readTextFile, writeFile } from "../src/runtime/host.ts";
import { assert } from "./assert.ts";
import { normalizedError, type OpCase, Rng, runCase } from "./conformance_util.ts";
import { test } from "./harness.ts";

const reference = createCpuBackend();
const hip = createHipBackend();
const hipProbe = await hip.probe();
const webgpu = createWebGpuBackend({ software: true });
const webgpuProbe = await webgpu.probe();
const BACKENDS: { backend: Backend; available: boolean; reason?: string }[] = [
  { backend: createCpuBackend(), available: true },
  {
    backend: hip,
    available: hipProbe.available,
    reason: `HIP backend unavailable: ${hipProbe.reason ?? "unknown"}`,
  },
  {
    backend: webgpu,
    available: webgpuProbe.available,
    reason: `WebGPU backend unavailable: ${webgpuProbe.reason ?? "unknown"}`,
  },
];

const reportPath = env("ROCMFORGE_CONFORMANCE_REPORT");

function report(measured: Record<string, number>): void {
  if (!reportPath) return;
  const before = pathExists(reportPath) ? JSON.parse(readTextFile(reportPath)) : {};
  writeFile(reportPath, JSON.stringify({ ...before, ...measured }, null, 1));
}

/**
 * Registers one test per backend running every variant on it and on the reference; every
 * output must be within `tol`. `supported(b)` false skips backend b (a backend that declines
 * the op).
 */
export function conformance(
  name: string,
  tol: number,
  variants: { label: string; make: () => OpCase }[],
  supported: (b: Backend) => boolean = () => true,
): void {
  for (const { backend, available, reason } of BACKENDS) {
    test(`conformance[${backend.name}] ${name}`, async () => {
      if (!supported(backend)) return;
      const failures: string[] = [];
      const measured: Record<string, number> = {};
      for (const v of variants) {
        const c = v.make();
        const got = await runCase(backend, c);
        const want = await runCase(reference, c);
        got.forEach((g, i) => {
          const err = normalizedError(g, want[i]);
          const key = `${backend.name} ${name} ${v.label}${got.length > 1 ? ` step${i}` : ""}`;
          measured[key] = err;
          if (!(err <= tol)) failures.push(`${v.label} step ${i}: error ${err} > ${tol}`);
        });
      }
      report(measured);
      assert(failures.length === 0, `${name}:\n${failures.join("\n")}`);
    }, { ignore: !available, reason });
  }
}

let seed = 1;
/** A fresh generator for each case (seeds advance in registration order). */
export const rng = (): Rng => new Rng(seed++ * 7919);
