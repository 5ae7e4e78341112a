/**
 * Running generations in a slot: `startGeneration` takes one slot (waiting in the queue if
 * needed: 429 when it is full) and streams the events of one or more choices generated in it
 * (the prompts of a list one after another; the `n` choices of a prompt at once on forks of the
 * slot's sequence that copy its prompt KV, see slot_choices.ts — or one after another, reusing
 * it, where the backend cannot copy caches). Before each prompt it takes the longest cached prefix (the
 * prompt cache, prompt_cache.ts). It updates the metrics, reports each choice's cached prompt
 * tokens, and always frees the slot. A generation stopped by its signal does not end like a
 * normal one: the stream throws the signal's reason (503 `shutting_down` when the server
 * stops, 499 `request_cancelled` when the client went away), which the SSE and NDJSON writers
 * turn into a final error event.
 *
 * @module
 */
import type { GenerateChunk, GenerateResult } from "../core/generate.ts";
import type { Session } from "../core/session.ts";
import type { Engine, ReadyEngine } from "./engine.ts";
import type { GenerationJob } from "./generation.ts";
import { choicesOfPrompt, forksOf, parallelChoices, runChoice, takeCache } from "./slot_choices.ts";
import type { Lease } from "./slots.ts";

export { abortReason } from "./slot_choices.ts";

/** One event of a slot generation. */
export type ChoiceEvent =
  | { readonly kind: "chunk"; readonly index: number; readonly chunk: GenerateChunk }
  | {
    readonly kind: "end";
    readonly index: number;
    readonly result: GenerateResult;
    /** Prompt tokens whose KV came from the cache. */
    readonly cachedTokens: number;
  };

/** A generation holding a slot. */
export interface SlotGeneration {
  /** The slot's index. */
  readonly slot: number;
  /** The events of every choice in order; ending it in any way frees the slot. */
  readonly events: AsyncGenerator<ChoiceEvent, void>;
  /** Ends early: frees the slot now if never started, else once the current step ends. */
  close(): void;
}

/** Takes a slot (optionally a given one) and returns the choices' event stream. */
export async function startGeneration(
  engine: Engine,
  ready: ReadyEngine,
  jobs: readonly GenerationJob[],
  signal: AbortSignal,
  slot?: number,
): Promise<SlotGeneration> {
  const lease = await ready.slots.acquire(jobs[0].prompt, signal, slot);
  const state = { started: false };
  const events = run(engine, ready, lease, jobs, signal, state);
  return {
    slot: lease.slot,
    events,
    close: () => {
      if (!state.started) lease.release();
      else events.return(undefined).catch(() => {});
    },
  };
}

async function* run(
  engine: Engine,
  ready: ReadyEngine,
  lease: Lease<Session>,
  jobs: readonly GenerationJob[],
  signal: AbortSignal,
  state: { started: boolean },
): AsyncGenerator<ChoiceEvent, void> {
  state.started = true;
  const session = lease.session;
  try {
    for (let index = 0; index < jobs.length;) {
      const count = choicesOfPrompt(jobs, index);
      // The n choices of a prompt decode at once on forks of the slot's sequence, sharing
      // its prompt KV (cache_prompt false keeps them one after another, each evaluated afresh).
      const forks = count > 1 && jobs[index].cachePrompt !== false
        ? forksOf(session, count - 1)
        : [];
      if (forks.length > 0) {
        yield* parallelChoices(engine, ready, session, forks, jobs, index, count, signal);
        index += count;
        continue;
      }
      const first = index === 0 || jobs[index - 1].prompt !== jobs[index].prompt;
      const cached = takeCache(ready, session, jobs[index], first);
      yield* runChoice(engine, session, jobs[index], index, cached, signal);
      index++;
    }
  } finally {
    lease.release();
  }
}

/** One finished choice. */
export interface CollectedChoice {
  readonly chunks: GenerateChunk[];
  readonly result: GenerateResult;
  readonly cachedTokens: number;
}

/** Runs a generation to the end; returns each choice's chunks and result. */
export async function collect(gen: SlotGeneration): Promise<CollectedChoice[]> {
  const out: CollectedChoice[] = [];
  let chunks: GenerateChunk[] = [];
  try {
    for await (const ev of gen.events) {
      if (ev.kind === "chunk") chunks.push(ev.chunk);
      else {
        out.push({ chunks, result: ev.result, cachedTokens: ev.cachedTokens });
        chunks = [];
      }
    }
    return out;
  } finally {
    gen.close();
  }
}

/** OpenAI finish_reason of a finished (not aborted) result. */
export function finishReason(r: GenerateResult): "stop" | "length" {
  return r.finishReason === "length" ? "length" : "stop";
}

/** OpenAI usage of finished choices (prompt tokens counted once per prompt). */
export function usageOf(
  choices: readonly { result: GenerateResult; cachedTokens: number }[],
  promptsPer = 1,
): {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
} {
  let prompt = 0;
  let completion = 0;
  let cached = 0;
  choices.forEach((c, i) => {
    if (i % promptsPer === 0) {
      prompt += c.result.promptTokens;
      cached += c.cachedTokens;
    }
    completion += c.result.completionTokens;
  });
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cached },
  };
}
