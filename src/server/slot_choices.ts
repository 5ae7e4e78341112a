/**
 * The choices of a slot generation: one choice on one session (`runChoice`), and the `n`
 * choices of one prompt in parallel (`parallelChoices`): the slot evaluates the prompt once,
 * forks of its sequence copy that KV (`Session.adoptPrefix`), and every fork decodes in the
 * context's shared forward passes with its own sampler seed. Events still come out one choice
 * after another (later choices are buffered while earlier ones stream), so clients and routes
 * see the order of a sequential run.
 *
 * @module
 */
import { Sequence } from "../core/batch_context.ts";
import { commonPrefix, generate } from "../core/generate.ts";
import type { Session } from "../core/session.ts";
import { withGrammar } from "../chat/constrain.ts";
import { createSamplerChain } from "../samplers/params.ts";
import type { Engine, ReadyEngine } from "./engine.ts";
import { ApiError } from "./errors.ts";
import type { GenerationJob } from "./generation.ts";
import type { ChoiceEvent } from "./slot_run.ts";

/** The error a stopped generation ends with. */
export function abortReason(signal: AbortSignal): ApiError {
  const r = signal.reason;
  if (r instanceof ApiError) return r;
  return new ApiError(499, "request_cancelled", "request cancelled: the client disconnected");
}

/**
 * Readies `session` for `job`'s prompt; returns the prompt tokens already cached. The first
 * choice of a prompt uses the prompt cache (prompt_cache.ts); later ones reuse what their
 * session holds. cache_prompt false evaluates the prompt afresh and leaves the cache alone.
 */
export function takeCache(
  ready: ReadyEngine,
  session: Session,
  job: GenerationJob,
  first: boolean,
): number {
  if (job.cachePrompt === false) {
    session.reset();
    return 0;
  }
  if (first) return ready.prompts.prepare(session, job.prompt, ready.slots.idleSessions());
  return Math.min(commonPrefix(session.tokens, job.prompt), job.prompt.length - 1);
}

/**
 * Generates one choice on `session` (stopping when `stop` aborts); throws the abort reason of
 * `signal` (the request's) when stopped, counting the cancellation when `countCancel`.
 */
export async function* runChoice(
  engine: Engine,
  session: Session,
  job: GenerationJob,
  index: number,
  cachedTokens: number,
  signal: AbortSignal,
  stop: AbortSignal = signal,
  countCancel = true,
): AsyncGenerator<ChoiceEvent, void> {
  const m = engine.metrics;
  const pick = job.grammar
    ? {
      sampler: withGrammar(
        createSamplerChain(job.sampling),
        job.grammar,
        session.model.tokenizer,
        {
          triggerWords: job.grammarTriggers,
          triggerPatterns: job.grammarTriggerPatterns,
          triggerTokens: job.grammarTriggerTokens,
        },
      ),
    }
    : { sampling: job.sampling };
  const it = generate(session, job.prompt, {
    maxTokens: job.maxTokens,
    ...pick,
    stop: job.stop,
    signal: stop,
    logprobs: job.logprobs,
    ignoreEos: job.ignoreEos,
  });
  m.promptTokens += job.prompt.length - cachedTokens;
  let open = true;
  try {
    while (true) {
      const r = await it.next();
      if (r.done) {
        open = false;
        if (r.value.finishReason === "abort") {
          open = true; // counted once, below
          throw abortReason(signal);
        }
        yield { kind: "end", index, result: r.value, cachedTokens };
        return;
      }
      if (r.value.token >= 0) m.generatedTokens++;
      yield { kind: "chunk", index, chunk: r.value };
    }
  } finally {
    if (open && countCancel && signal.aborted) m.cancelled++;
  }
}

/** Choices `first .. first + count - 1` share jobs[first]'s prompt (the n of one prompt). */
export function choicesOfPrompt(jobs: readonly GenerationJob[], first: number): number {
  let n = 1;
  while (first + n < jobs.length && jobs[first + n].prompt === jobs[first].prompt) n++;
  return n;
}

/** Up to `count` new sequences of `session`'s context (none for a plain session or on HIP). */
export function forksOf(session: Session, count: number): Sequence[] {
  const forks: Sequence[] = [];
  if (!(session instanceof Sequence) || !session.canCopyKV) return forks;
  while (forks.length < count && session.context.sequencesLeft > 0) {
    forks.push(session.context.sequence());
  }
  return forks;
}

interface Lane {
  readonly events: ChoiceEvent[];
  done: boolean;
  error?: unknown;
  wake?: () => void;
}

/**
 * The choices `first .. first + count - 1` of one prompt on `session` and `forks` at once.
 * The slot evaluates all but the last prompt token, each fork copies those cells, then every
 * sequence takes the next unstarted choice until none is left. Disposes the forks.
 */
export async function* parallelChoices(
  engine: Engine,
  ready: ReadyEngine,
  session: Session,
  forks: readonly Sequence[],
  jobs: readonly GenerationJob[],
  first: number,
  count: number,
  signal: AbortSignal,
): AsyncGenerator<ChoiceEvent, void> {
  const ac = new AbortController();
  const stop = AbortSignal.any([signal, ac.signal]);
  const lanes: Lane[] = Array.from({ length: count }, () => ({ events: [], done: false }));
  const prompt = jobs[first].prompt;
  const keep = prompt.length - 1;
  let workers: Promise<void>[] = [];
  try {
    const cached = takeCache(ready, session, jobs[first], true);
    session.truncate(cached);
    const batch = session.opts.batchSize ?? 256;
    try {
      for (let i = cached; i < keep; i += batch) {
        await session.eval(prompt.slice(i, Math.min(i + batch, keep)), "last", { signal: stop });
      }
    } catch (e) {
      if (signal.aborted) {
        engine.metrics.cancelled++;
        throw abortReason(signal);
      }
      throw e;
    }
    engine.metrics.promptTokens += keep - cached;
    const seqs = [session, ...forks.filter((f) => f.adoptPrefix(session, keep))];
    let next = 0;
    const work = async (seq: Session) => {
      for (let c = next++; c < count; c = next++) {
        const lane = lanes[c];
        try {
          // The prefix was counted once above: each choice adds its last prompt token.
          const reused = c === 0 ? cached : keep;
          const cachedTokens = Math.min(commonPrefix(seq.tokens, prompt), keep);
          const job = jobs[first + c];
          const it = runChoice(engine, seq, job, first + c, cachedTokens, signal, stop, c === 0);
          for await (const ev of it) {
            lane.events.push(ev.kind === "end" ? { ...ev, cachedTokens: reused } : ev);
            lane.wake?.();
          }
        } catch (e) {
          lane.error = e;
        } finally {
          lane.done = true;
          lane.wake?.();
        }
      }
    };
    workers = seqs.map(work);
    for (const lane of lanes) {
      while (true) {
        const ev = lane.events.shift();
        if (ev) {
          yield ev;
          continue;
        }
        if (lane.done) break;
        await new Promise<void>((r) => lane.wake = r);
        lane.wake = undefined;
      }
      if (lane.error !== undefined) throw lane.error;
    }
  } finally {
    ac.abort();
    await Promise.allSettled(workers);
    for (const f of forks) f.dispose();
  }
}
