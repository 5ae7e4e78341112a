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

/**
 * Largest |ours - golden| over every golden top-K entry, teacher-forced. By default in the
 * steps llama.cpp took to make the goldens (the prompt as one batch with the last row's
 * logits, then each golden token alone), so that the same kernels run where llama.cpp picks
 * a batched or a single-row product; `oneBatch` evaluates prompt + tokens in one batch.
 */
export async function teacherForcedMaxDiff(
  row: GoldenRow,
  model: Model,
  oneBatch = false,
  /** Evaluate in this session (e.g. a context's sequence) instead of a new one; disposed. */
  session: Session = new Session(model),
): Promise<number> {
  try {
    const vocab = model.config.vocabSize;
    let worst = 0;
    const check = (l: Float32Array, top: [number, number][]) => {
      const lse = logSumExp(l);
      for (const [id, lp] of top) worst = Math.max(worst, Math.abs(l[id] - lse - lp));
    };
    if (oneBatch) {
      const logits = await session.eval([...row.prompt_tokens, ...row.tokens], "all");
      row.top_logprobs.forEach((top, i) => {
        const r = row.prompt_tokens.length - 1 + i;
        check(logits.subarray(r * vocab, (r + 1) * vocab), top);
      });
      return worst;
    }
    let logits = await session.eval(row.prompt_tokens, "last");
    for (let i = 0; i < row.top_logprobs.length; i++) {
      check(logits, row.top_logprobs[i]);
      if (i + 1 < row.top_logprobs.length) logits = await session.eval([row.tokens[i]], "last");
    }
    return worst;
  } finally {
    session.dispose();
  }
}

/** Greedy continuation of `prompt` for `n` tokens (prompt as one batch, then one at a time). */
export async function greedyTokens(model: Model, prompt: number[], n: number): Promise<number[]> {
  const s = new Session(model);
  try {
    const out: number[] = [];
    let logits = await s.eval(prompt, "last");
    while (out.length < n) {
      let best = 0;
      for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
      out.push(best);
      if (out.length < n) logits = await s.eval([best], "last");
    }
    return out;
  } finally {
    s.dispose();
  }
}
