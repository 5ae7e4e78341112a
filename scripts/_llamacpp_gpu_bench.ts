/**
 * llama.cpp on the GPU for scripts/bench.ts: scripts/llamacpp_gpu.sh builds llama.cpp with
 * CUDA (or HIP) once and runs `llama-bench -fa 1 -ngl 99 -o json` on the same file with the
 * same -p/-n/-d lists and reps; this module runs it and reads its JSON rows.
 *
 * @module
 */
import { writeStderr } from "../src/runtime/host.ts";
import { runCommand } from "../src/runtime/subprocess.ts";
import type { BenchOptions } from "./_bench_options.ts";

/** One llama-bench result: a pp test (n = 0) or a tg test (p = 0) at a depth. */
export interface LlamaBenchResult {
  p: number;
  n: number;
  depth: number;
  tokensPerS: number;
  stddev: number;
}

/** Reads llama-bench's `-o json` output (an array of test objects). */
export function parseLlamaBenchJson(text: string): LlamaBenchResult[] {
  const start = text.indexOf("[");
  if (start < 0) throw new Error(`llama-bench printed no JSON array: ${text.slice(0, 200)}`);
  const rows = JSON.parse(text.slice(start)) as unknown;
  if (!Array.isArray(rows)) throw new Error("llama-bench JSON is not an array");
  return rows.map((r, i) => {
    const o = r as Record<string, unknown>;
    const field = (k: string) => {
      const v = o[k] ?? (k === "n_depth" ? 0 : undefined);
      if (typeof v !== "number" || !Number.isFinite(v)) {
        throw new Error(`llama-bench row ${i}: field ${k} is ${JSON.stringify(v)}`);
      }
      return v;
    };
    return {
      p: field("n_prompt"),
      n: field("n_gen"),
      depth: field("n_depth"),
      tokensPerS: field("avg_ts"),
      stddev: field("stddev_ts"),
    };
  });
}

/** The llama-bench arguments for the options (zero lengths dropped; none left: 0). */
export function llamaBenchArgs(o: BenchOptions): string[] {
  const list = (xs: number[]) => {
    const kept = xs.filter((x) => x > 0);
    return kept.length ? kept.join(",") : "0";
  };
  return [
    ...["-m", o.model, "-p", list(o.p), "-n", list(o.n), "-d", o.depth.join(",")],
    ...["-r", String(o.reps), "-fa", "1", "-ngl", "99", "-o", "json"],
  ];
}

/** Builds llama.cpp for the GPU if needed and runs llama-bench; throws on failure. */
export async function llamaBenchGpu(o: BenchOptions): Promise<LlamaBenchResult[]> {
  const script = new URL("./llamacpp_gpu.sh", import.meta.url).pathname;
  writeStderr("bench: llama.cpp GPU build (cached after the first) and llama-bench...\n");
  const r = await runCommand("sh", [script, "bench", ...llamaBenchArgs(o)]);
  if (r.code !== 0) {
    throw new Error(`llama-bench failed (exit ${r.code}): ${r.stderr.trim().slice(-2000)}`);
  }
  return parseLlamaBenchJson(r.stdout);
}
