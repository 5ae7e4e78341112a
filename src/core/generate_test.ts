/**
 * generate() tests on the real stories260K model (CPU): finish reasons (length, stop
 * string, end of text, abort), prompt prefix reuse, seeded sampling, log-probabilities,
 * and argument checks. A scripted sampler forces exact token sequences where the model's
 * own choice would not exercise a path.
 */
import { assert, assertEquals, assertRejects } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { HAVE_SHARED, NO_SHARED_REASON, sharedPath } from "../../tests/shared_data.ts";
import { createCpuBackend } from "../backends/cpu/backend.ts";
import type { Sampler } from "../samplers/types.ts";
import type { Backend } from "./backend.ts";
import { InvalidArgumentError } from "./errors.ts";
import {
  commonPrefix,
  generate,
  type GenerateChunk,
  type GenerateOptions,
  type GenerateResult,
} from "./generate.ts";
import { countingBackend } from "../../tests/counting_backend.ts";
import { Model } from "./model.ts";
import { builtinArchitectures } from "../model/mod.ts";
import { Session } from "./session.ts";

const shared = { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON };
const PROMPT_TEXT = "Once upon a time";
const PROMPT = [1, 403, 407, 261, 378];
/** llama.cpp's greedy continuation (golden) and its text. */
const GOLDEN = [432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337];
const GOLDEN_TEXT = ", there was a little girl named Lily. She loved to play";

/** The CPU backend, wrapped to count the token rows it evaluates. */
const counting = (() => {
  const cpu = createCpuBackend();
  const state = { rows: 0 };
  const backend: Backend = countingBackend(cpu, state);
  return { backend, state };
})();

let cached: Promise<Model> | undefined;
function model(): Promise<Model> {
  return cached ??= Model.load(sharedPath("models", "stories260K.gguf"), {
    architectures: builtinArchitectures,
    backends: [counting.backend],
  });
}

async function run(
  session: Session,
  prompt: string | readonly number[],
  opts: GenerateOptions,
  onChunk?: (c: GenerateChunk, i: number) => void,
): Promise<{ result: GenerateResult; chunks: GenerateChunk[] }> {
  const chunks: GenerateChunk[] = [];
  const it = generate(session, prompt, opts);
  let r = await it.next();
  while (!r.done) {
    chunks.push(r.value);
    onChunk?.(r.value, chunks.length - 1);
    r = await it.next();
  }
  return { result: r.value, chunks };
}

/** A sampler that picks the given token ids in order, whatever the logits say. */
function scripted(ids: number[]): Sampler {
  let i = 0;
  return {
    apiVersion: 1,
    name: "scripted",
    apply(c) {
      const want = ids[Math.min(i, ids.length - 1)];
      for (let k = 0; k < c.size; k++) if (c.ids[k] === want) c.selected = k;
    },
    accept() {
      i++;
    },
  };
}

test("generate: greedy text; maxTokens ends with 'length'", async () => {
  const m = await model();
  const s = new Session(m);
  const { result, chunks } = await run(s, PROMPT_TEXT, { maxTokens: 16 });
  assertEquals(result.finishReason, "length");
  assertEquals([result.promptTokens, result.completionTokens], [5, 16]);
  assertEquals(result.tokens, GOLDEN);
  assertEquals(result.text, GOLDEN_TEXT);
  assertEquals(chunks.map((c) => c.text).join(""), result.text);
  assertEquals(chunks.filter((c) => c.token >= 0).map((c) => c.token), GOLDEN);
  const none = await run(s, PROMPT_TEXT, { maxTokens: 0 });
  assertEquals([none.result.finishReason, none.result.completionTokens, none.result.text], [
    "length",
    0,
    "",
  ]);
  s.dispose();
}, shared);

test("generate: a stop string ends with 'stop' and the text is cut before it", async () => {
  const m = await model();
  const s = new Session(m);
  const { result, chunks } = await run(s, PROMPT, {
    maxTokens: 40,
    stop: ["never appears", "Lily"],
  });
  assertEquals(result.finishReason, "stop");
  assertEquals(result.text, ", there was a little girl named ");
  assertEquals(chunks.map((c) => c.text).join(""), result.text);
  assertEquals(result.tokens, GOLDEN.slice(0, result.tokens.length));
  assert(result.completionTokens < 12, `${result.completionTokens} tokens`);
  // A stop string that spans tokens.
  const span = await run(s, PROMPT, { maxTokens: 40, stop: ["girl na"] });
  assertEquals([span.result.finishReason, span.result.text], ["stop", ", there was a little "]);
  s.dispose();
}, shared);

test("generate: end of text ends with 'stop' and keeps text held for a stop string", async () => {
  const m = await model();
  const eos = m.tokenizer.eos!;
  const s = new Session(m);
  // ", there" then EOS; " there" ends with "re", a prefix of the stop string "re!".
  const { result } = await run(s, PROMPT, {
    maxTokens: 10,
    sampler: scripted([GOLDEN[0], GOLDEN[1], eos]),
    stop: ["re!"],
  });
  assertEquals([result.finishReason, result.tokens], ["stop", GOLDEN.slice(0, 2)]);
  assertEquals(result.text, ", there");
  // ignoreEos keeps going through the end-of-text token.
  const on = await run(s, PROMPT, {
    maxTokens: 4,
    sampler: scripted([GOLDEN[0], eos, GOLDEN[1], GOLDEN[2]]),
    ignoreEos: true,
  });
  assertEquals([on.result.finishReason, on.result.tokens.length], ["length", 4]);
  s.dispose();
}, shared);

test("generate: aborting mid-generation ends with 'abort'", async () => {
  const m = await model();
  const s = new Session(m);
  const ac = new AbortController();
  const { result } = await run(s, PROMPT, { maxTokens: 40, signal: ac.signal }, (_, i) => {
    if (i === 2) ac.abort();
  });
  assertEquals(result.finishReason, "abort");
  assertEquals(result.tokens, GOLDEN.slice(0, 3));
  // Already aborted: nothing is evaluated.
  const fresh = new Session(m);
  const before = counting.state.rows;
  const pre = await run(fresh, PROMPT, { signal: AbortSignal.abort() });
  assertEquals([pre.result.finishReason, pre.result.completionTokens], ["abort", 0]);
  assertEquals(counting.state.rows, before);
  assertEquals(fresh.nPast, 0);
  s.dispose();
  fresh.dispose();
}, shared);

test("generate: a cached prompt prefix is reused and the output is identical", async () => {
  const m = await model();
  const s = new Session(m);
  let before = counting.state.rows;
  const first = await run(s, PROMPT, { maxTokens: 8 });
  // Prompt (5 rows) + one row per generated token but the last.
  assertEquals(counting.state.rows - before, 5 + 7);
  assertEquals(commonPrefix(s.tokens, PROMPT.concat(first.result.tokens)), 12);
  before = counting.state.rows;
  const again = await run(s, PROMPT, { maxTokens: 8 });
  assertEquals(again.result.tokens, first.result.tokens);
  // Only the last prompt token is evaluated again (its logits are needed).
  assertEquals(counting.state.rows - before, 1 + 7);
  // A prompt that extends the cached text reuses all of it.
  const longer = PROMPT.concat(first.result.tokens.slice(0, 4));
  before = counting.state.rows;
  const ext = await run(s, longer, { maxTokens: 4 });
  assertEquals(counting.state.rows - before, 1 + 3);
  assertEquals(ext.result.tokens, GOLDEN.slice(4, 8));
  const fresh = await run(new Session(m), longer, { maxTokens: 4 });
  assertEquals(fresh.result.tokens, ext.result.tokens);
  s.dispose();
}, shared);

test("generate: seeded sampling is reproducible", async () => {
  const m = await model();
  const sample = async (seed: number) =>
    (await run(new Session(m), PROMPT, {
      maxTokens: 24,
      ignoreEos: true,
      sampling: { temperature: 1, topK: 0, topP: 1, minP: 0, seed },
    })).result.text;
  const a = await sample(42);
  assertEquals(await sample(42), a);
  const others = [await sample(1), await sample(2), await sample(3)];
  assert(others.some((t) => t !== a), "other seeds sample other text");
  // A sampler instance passed in is used as given (its own seed state).
  const s = new Session(m);
  const greedyish = await run(s, PROMPT, { maxTokens: 3, sampler: scripted([7, 8, 9]) });
  assertEquals(greedyish.result.tokens, [7, 8, 9]);
  s.dispose();
}, shared);

test("generate: log-probabilities of the chosen token and the top alternatives", async () => {
  const m = await model();
  const s = new Session(m);
  const { chunks } = await run(s, PROMPT, { maxTokens: 8, logprobs: 3 });
  const tokens = chunks.filter((c) => c.token >= 0);
  assertEquals(tokens.length, 8);
  for (const c of tokens) {
    assert(c.logprob !== undefined && c.logprob <= 0, `logprob ${c.logprob}`);
    assertEquals(c.topLogprobs!.length, 3);
    // Greedy: the chosen token is the most likely one.
    assertEquals(c.topLogprobs![0], [c.token, c.logprob!]);
    const lps = c.topLogprobs!.map(([, lp]) => lp);
    assert(lps.every((v, i) => i === 0 || v <= lps[i - 1]), "sorted");
  }
  // Golden first step: 432 at -0.0318 (llama.cpp).
  assert(Math.abs(tokens[0].logprob! - -0.031780877649586356) < 5e-3, `${tokens[0].logprob}`);
  const zero = await run(s, PROMPT, { maxTokens: 2, logprobs: 0 });
  assert(zero.chunks.every((c) => c.token < 0 || (c.logprob! <= 0 && c.topLogprobs!.length === 0)));
  const off = await run(s, PROMPT, { maxTokens: 2 });
  assert(off.chunks.every((c) => c.logprob === undefined && c.topLogprobs === undefined));
  s.dispose();
}, shared);

test("generate: bad arguments are InvalidArgumentErrors", async () => {
  const m = await model();
  const s = new Session(m);
  const bad = (e: unknown) => e instanceof InvalidArgumentError && e.code === "INVALID_ARGUMENT";
  await assertRejects(() => run(s, PROMPT, { maxTokens: -1 }), bad);
  await assertRejects(() => run(s, PROMPT, { maxTokens: 1.5 }), bad);
  await assertRejects(() => run(s, [], {}), bad);
  await assertRejects(() => run(s, PROMPT, { sampling: { temperature: -1 } }), bad);
  s.dispose();
}, shared);
