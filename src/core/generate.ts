/**
 * Text generation on a session: tokenize, evaluate the prompt (reusing a cached common
 * prefix), then sample, detokenize and stream until EOS/EOT, a stop string, max tokens or
 * an abort.
 *
 * @module
 */
import { createSamplerChain, type SamplingParams } from "../samplers/params.ts";
import { type Candidates, candidatesFromLogits, type Sampler } from "../samplers/types.ts";
import { AbortError, InvalidArgumentError } from "./errors.ts";
import { logSumExp, topLogprobs } from "./logprobs.ts";
import type { Session } from "./session.ts";
import { StopMatcher } from "./stop_strings.ts";

/** Generation options. */
export interface GenerateOptions {
  /** Most tokens to generate (default 128; capped by the free context). */
  readonly maxTokens?: number;
  /** Sampling parameters (default greedy when temperature is 0). */
  readonly sampling?: SamplingParams;
  /** A ready sampler (a chain or a plugin); overrides `sampling`. */
  readonly sampler?: Sampler;
  /** Stop strings: generation ends before the first one. */
  readonly stop?: readonly string[];
  readonly signal?: AbortSignal;
  /** Add BOS/EOS per the model (default true for text prompts). */
  readonly addSpecial?: boolean;
  /** Parse special-token text in the prompt (default false). */
  readonly parseSpecial?: boolean;
  /** Include the chosen token's log-probability and the top-N alternatives. */
  readonly logprobs?: number;
  /** Keep generating past EOS/EOT (default false). */
  readonly ignoreEos?: boolean;
}

/** One streamed piece of text. */
export interface GenerateChunk {
  readonly text: string;
  readonly token: number;
  readonly logprob?: number;
  readonly topLogprobs?: [number, number][];
}

/** Why generation ended. */
export type FinishReason = "stop" | "length" | "abort";

/** Summary returned when the stream ends. */
export interface GenerateResult {
  readonly finishReason: FinishReason;
  readonly text: string;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly tokens: number[];
}

/** Length of the common prefix of two token lists. */
export function commonPrefix(a: readonly number[], b: readonly number[]): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/**
 * Evaluates a prompt, reusing the longest cached prefix; returns the last token's logits.
 */
export async function evalPrompt(
  session: Session,
  prompt: readonly number[],
  signal?: AbortSignal,
): Promise<Float32Array> {
  if (prompt.length === 0) throw new InvalidArgumentError("prompt is empty", { actual: 0 });
  const keep = Math.min(commonPrefix(session.tokens, prompt), prompt.length - 1);
  session.truncate(keep);
  return await session.eval(prompt.slice(keep), "last", { signal });
}

/**
 * Streams generated text. The iterator's return value (from `next()` when done) is the
 * GenerateResult; an abort ends the stream with finishReason "abort".
 */
export async function* generate(
  session: Session,
  prompt: string | readonly number[],
  opts: GenerateOptions = {},
): AsyncGenerator<GenerateChunk, GenerateResult> {
  const tok = session.model.tokenizer;
  const promptTokens = typeof prompt === "string"
    ? tok.encode(prompt, {
      addSpecial: opts.addSpecial ?? true,
      parseSpecial: opts.parseSpecial ?? false,
    })
    : [...prompt];
  const maxTokens = opts.maxTokens ?? 128;
  if (!Number.isInteger(maxTokens) || maxTokens < 0) {
    throw new InvalidArgumentError("maxTokens must be a non-negative integer", {
      actual: maxTokens,
    });
  }
  const sampler = opts.sampler ?? createSamplerChain(opts.sampling ?? { temperature: 0 });
  const stop = new StopMatcher(opts.stop ?? []);
  const decoder = tok.createStreamDecoder();
  const out: number[] = [];
  let text = "";
  let finish: FinishReason = "length";
  // Set when a stop string matched: held text is then dropped, not flushed.
  let stopString = false;
  const result = (): GenerateResult => ({
    finishReason: finish,
    text,
    promptTokens: promptTokens.length,
    completionTokens: out.length,
    tokens: out,
  });
  if (opts.signal?.aborted) {
    finish = "abort";
    return result();
  }
  let logits: Float32Array;
  try {
    logits = await evalPrompt(session, promptTokens, opts.signal);
  } catch (e) {
    if (e instanceof AbortError) {
      finish = "abort";
      return result();
    }
    throw e;
  }
  const history: number[] = [...promptTokens];
  let cands: Candidates | undefined;
  const limit = Math.min(
    maxTokens,
    session.opts.contextShift ? Infinity : session.contextLength - session.nPast,
  );
  while (out.length < limit) {
    if (opts.signal?.aborted) {
      finish = "abort";
      break;
    }
    cands = candidatesFromLogits(logits, cands);
    const token = sampleWith(sampler, cands, history);
    sampler.accept?.(token);
    if (!opts.ignoreEos && tok.isEog(token)) {
      finish = "stop";
      break;
    }
    out.push(token);
    history.push(token);
    let lp: number | undefined;
    let top: [number, number][] | undefined;
    if (opts.logprobs !== undefined) {
      const lse = logSumExp(logits);
      lp = logits[token] - lse;
      top = opts.logprobs > 0 ? topLogprobs(logits, opts.logprobs, lse) : [];
    }
    const piece = decoder.push(token);
    const { emit, stopped } = stop.push(piece);
    text += emit;
    if (emit || lp !== undefined) yield { text: emit, token, logprob: lp, topLogprobs: top };
    if (stopped) {
      finish = "stop";
      stopString = true;
      break;
    }
    if (out.length >= limit) break;
    logits = await session.eval([token], "last");
  }
  if (!stopString) {
    const rest = stop.push(decoder.flush());
    const tail = rest.emit + (rest.stopped ? "" : stop.flush());
    if (rest.stopped) finish = "stop";
    if (tail) {
      text += tail;
      yield { text: tail, token: -1 };
    }
  }
  return result();
}

function sampleWith(s: Sampler, c: Candidates, history: readonly number[]): number {
  s.apply(c, { history });
  if (c.selected < 0) {
    // A sampler plugin that only filters: take the best remaining candidate.
    let best = 0;
    for (let i = 1; i < c.size; i++) if (c.logits[i] > c.logits[best]) best = i;
    return c.ids[best];
  }
  return c.ids[c.selected];
}
