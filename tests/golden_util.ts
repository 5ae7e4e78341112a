/**
 * Shared pieces of the golden suites (CPU and HIP): llama.cpp's rows from ../shared/golden,
 * model paths, and the teacher-forced comparison.
 *
 * @module
 */
import { logSumExp } from "../src/core/logprobs.ts";
import type { Model } from "../src/core/model.ts";
import { Session } from "../src/core/session.ts";
import { readTextFile } from "../src/runtime/host.ts";
import { HAVE_SHARED, sharedPath } from "./shared_data.ts";

/** One llama.cpp reference row (see ../shared/models/SOURCES.md). */
export interface GoldenRow {
  model: string;
  prompt: string;
  prompt_tokens: number[];
  tokens: number[];
  top_logprobs: [number, number][][];
}

/** Rows of a golden .jsonl file; empty when the shared data is absent. */
export function goldenRows(file: string): GoldenRow[] {
  return HAVE_SHARED
    ? readTextFile(sharedPath("golden", file)).trim().split("\n").map((l) => JSON.parse(l))
    : [];
}

/** Path of a golden row's model file. */
export function goldenModelPath(name: string): string {
  return name.startsWith("tiny256") || name.startsWith("qwen2")
    ? sharedPath("models", "synthetic", name)
    : sharedPath("models", name);
}

/** Largest |ours - golden| over every golden top-K entry, teacher-forced in one batch. */
export async function teacherForcedMaxDiff(row: GoldenRow, model: Model): Promise<number> {
  const session = new Session(model);
  try {
    const seq = [...row.prompt_tokens, ...row.tokens];
    const vocab = model.config.vocabSize;
    const logits = await session.eval(seq, "all");
    let worst = 0;
    row.top_logprobs.forEach((top, i) => {
      const r = row.prompt_tokens.length - 1 + i;
      const l = logits.subarray(r * vocab, (r + 1) * vocab);
      const lse = logSumExp(l);
      for (const [id, lp] of top) worst = Math.max(worst, Math.abs(l[id] - lse - lp));
    });
    return worst;
  } finally {
    session.dispose();
  }
}
