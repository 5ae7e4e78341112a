/**
 * Text generation on a session: tokenize, evaluate the prompt (reusing a cached common
 * prefix), then sample, detokenize and stream until EOS/EOT, a stop string, max tokens or
 * an abort. Options are checked when `generate()` is called (an unknown key, a bad
 * `maxTokens` or a non-text prompt throws there, not at the first `next()`), and the loop
 * yields to the macrotask queue about every {@link YIELD_INTERVAL_MS} ms so timers, signals
 * and other requests run during a long generation.
 *
 * Plain greedy requests (a lone greedy sampler, no logprobs) on a session whose model runs
 * wholly on a backend with an on-device greedy loop (`Session.canDecodeGreedy`) take their
 * tokens from that loop, {@link DEVICE_CHUNK} per call, with one readback each; stop strings,
 * EOS/EOG, the token limit and the signal are still checked per token, and the session's
 * position is set back to where the per-token path would leave it, so the tokens picked past
 * the end do not stay in the cache.
 *
 * @module
 */
import { SamplerChain } from "../samplers/chain.ts";
import { GreedySampler } from "../samplers/greedy.ts";
import { createSamplerChain, type SamplingParams } from "../samplers/params.ts";
import { type Candidates, candidatesFromLogits, type Sampler } from "../samplers/types.ts";
import { YieldClock } from "../runtime/macrotask.ts";
import { AbortError, InvalidArgumentError } from "./errors.ts";
import { checkGenerateArgs, selectedToken } from "./generate_options.ts";
import { logSumExp, topLogprobs } from "./logprobs.ts";
import type { Session } from "./session.ts";
import { StopMatcher } from "./stop_strings.ts";

/** Generation options. */
export interface GenerateOptions {
  /** Most tokens to generate (default 128; capped by the free context). */
  readonly maxTokens?: number;
  /**
   * Sampling parameters. The default policy (src/samplers/params.ts) is greedy; a
   * temperature above 0 samples with llama.cpp's defaults for the other fields.
   */
  readonly sampling?: SamplingParams;
  /** A ready sampler (a chain or a plugin), instead of `sampling` (giving both is an error). */
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

/** Longest time (ms) generation computes before it lets the macrotask queue run. */
export const YIELD_INTERVAL_MS = 10;

/** Tokens one on-device greedy call picks (one submit, one readback). */
export const DEVICE_CHUNK = 16;

/**
 * True when generation may take its tokens from the session's on-device greedy loop: the
 * sampler is a chain of one greedy sampler (no penalties, bias, grammar or sampling, which
 * need the logits on the host) and no log-probabilities are asked for.
 */
export function usesDeviceGreedy(
  session: Session,
  sampler: Sampler,
  opts: GenerateOptions,
): boolean {
  return opts.logprobs === undefined && sampler instanceof SamplerChain &&
    sampler.samplers.length === 1 && sampler.samplers[0] instanceof GreedySampler &&
    session.canDecodeGreedy;
}

/**
 * Evaluates a prompt, reusing the longest cached prefix; returns the last token's logits.
 * The prompt is evaluated one batch at a time, yielding to the macrotask queue between
 * batches, so an abort from a timer stops a long prompt.
 */
export async function evalPrompt(
  session: Session,
  prompt: readonly number[],
  signal?: AbortSignal,
  clock: YieldClock = new YieldClock(YIELD_INTERVAL_MS),
): Promise<Float32Array> {
  if (prompt.length === 0) throw new InvalidArgumentError("prompt is empty", { actual: 0 });
  const keep = Math.min(commonPrefix(session.tokens, prompt), prompt.length - 1);
  session.truncate(keep);
  const batch = session.opts.batchSize ?? 256;
  let logits: Float32Array | undefined;
  for (let i = keep; i < prompt.length; i += batch) {
    if (i > keep) await clock.tick();
    if (signal?.aborted) throw new AbortError("evaluation aborted");
    logits = await session.eval(prompt.slice(i, i + batch), "last", { signal });
  }
  return logits!;
}

/**
 * Streams generated text. The iterator's return value (from `next()` when done) is the
 * GenerateResult; an abort ends the stream with finishReason "abort". Bad arguments throw
 * here, at the call.
 */
export function generate(
  session: Session,
  prompt: string | readonly number[],
  opts: GenerateOptions = {},
): AsyncGenerator<GenerateChunk, GenerateResult> {
  checkGenerateArgs(prompt, opts);
  const tok = session.model.tokenizer;
  const promptTokens = typeof prompt === "string"
    ? tok.encode(prompt, {
      addSpecial: opts.addSpecial ?? true,
      parseSpecial: opts.parseSpecial ?? false,
    })
    : [...prompt];
  const sampler = opts.sampler ?? createSamplerChain(opts.sampling ?? {});
  return run(session, promptTokens, opts, sampler);
}

async function* run(
  session: Session,
  promptTokens: readonly number[],
  opts: GenerateOptions,
  sampler: Sampler,
): AsyncGenerator<GenerateChunk, GenerateResult> {
  const tok = session.model.tokenizer;
  const vocab = session.model.config.vocabSize;
  const maxTokens = opts.maxTokens ?? 128;
  const clock = new YieldClock(YIELD_INTERVAL_MS);
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
    logits = await evalPrompt(session, promptTokens, opts.signal, clock);
  } catch (e) {
    if (e instanceof AbortError) {
      finish = "abort";
      return result();
    }
    throw e;
  }
  const history: number[] = [...promptTokens];
  let cands: Candidates | undefined;
  const device = usesDeviceGreedy(session, sampler, opts);
  // Tokens the device loop picked that are not taken yet (all but the last are cached).
  let ahead: number[] = [];
  // Taken tokens the per-token path would have evaluated (the position it would be at).
  let evaluated = 0;
  const limit = Math.min(
    maxTokens,
    session.opts.contextShift ? Infinity : session.contextLength - session.nPast,
  );
  try {
    while (out.length < limit) {
      if (opts.signal?.aborted) {
        finish = "abort";
        break;
      }
      let token: number;
      if (ahead.length) token = ahead.shift()!;
      else {
        cands = candidatesFromLogits(logits, cands);
        token = sampleWith(sampler, cands, history, vocab);
      }
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
      await clock.tick();
      if (opts.signal?.aborted) {
        finish = "abort";
        break;
      }
      evaluated++;
      if (!device) logits = await session.eval([token], "last");
      else if (!ahead.length) {
        ahead = await session.decodeGreedy(token, Math.min(DEVICE_CHUNK, limit - out.length));
      }
    }
  } finally {
    // The device loop evaluates ahead: drop what the per-token path would not have cached
    // (also when the consumer stops reading early).
    if (device) session.truncate(promptTokens.length + evaluated);
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

function sampleWith(
  s: Sampler,
  c: Candidates,
  history: readonly number[],
  vocab: number,
): number {
  s.apply(c, { history });
  if (c.selected === -1) {
    // A sampler plugin that only filters: take the best remaining candidate.
    let best = 0;
    for (let i = 1; i < c.size; i++) if (c.logits[i] > c.logits[best]) best = i;
    c.selected = best;
  }
  return selectedToken(s, c, vocab);
}
