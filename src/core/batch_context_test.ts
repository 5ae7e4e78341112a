/**
 * Multi-sequence contexts on the real stories260K model (CPU): sequences evaluated in shared
 * forward passes give the logits and greedy tokens of separate sessions (within the
 * batched-vs-single-row tolerance of session_test.ts), prompts are chunked into the token
 * budget, an aborted sequence leaves the queue, and the sequence count is enforced.
 */
import { assert, assertEquals, assertRejects } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { HAVE_SHARED, NO_SHARED_REASON, sharedPath } from "../../tests/shared_data.ts";
import { createCpuBackend } from "../backends/cpu/backend.ts";
import { builtinArchitectures } from "../model/mod.ts";
import { createContext } from "./batch_context.ts";
import { AbortError, DisposedError, InvalidArgumentError } from "./errors.ts";
import { generate } from "./generate.ts";
import { Model } from "./model.ts";
import { RequestScheduler } from "./request_scheduler.ts";
import { Session } from "./session.ts";

const shared = { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON };
/** As session_test.ts: a row's logits batched vs alone (tinyBLAS vs ggml_vec_dot_f32 sums). */
const BATCH_TOL = 5e-3;
const PROMPTS = [
  [1, 403, 407, 261, 378],
  [1, 317, 269, 274, 287, 263, 377, 267, 265, 282, 295, 433],
  [1, 403, 407],
  [1, 261, 378, 432, 383, 286, 261, 376, 298],
];

let cached: Promise<Model> | undefined;
function model(): Promise<Model> {
  return cached ??= Model.load(sharedPath("models", "stories260K.gguf"), {
    architectures: builtinArchitectures,
    backends: [createCpuBackend()],
  });
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  assertEquals(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function greedy(s: Session, prompt: readonly number[], n: number): Promise<number[]> {
  const it = generate(s, prompt, { maxTokens: n, ignoreEos: true, sampling: { temperature: 0 } });
  let r = await it.next();
  while (!r.done) r = await it.next();
  return r.value.tokens;
}

test("context: sequences in one pass give each sequence's own logits", async () => {
  const m = await model();
  const ctx = createContext(m, { sequences: 4 });
  const seqs = PROMPTS.map(() => ctx.sequence());
  const [batched, alone] = [
    await Promise.all(seqs.map((s, i) => s.eval(PROMPTS[i], "all"))),
    await Promise.all(PROMPTS.map(async (p) => {
      const s = new Session(m);
      const r = await s.eval(p, "all");
      s.dispose();
      return r;
    })),
  ];
  PROMPTS.forEach((_, i) => {
    const d = maxDiff(batched[i], alone[i]);
    assert(d < BATCH_TOL, `prompt ${i}: batched logits differ by ${d}`);
  });
  // Next tokens of all four in one pass ("last"), each at its own position.
  const next = await Promise.all(seqs.map((s) => s.eval([432], "last")));
  for (let i = 0; i < PROMPTS.length; i++) {
    const s = new Session(m);
    await s.eval(PROMPTS[i]);
    const want = await s.eval([432]);
    s.dispose();
    assert(maxDiff(next[i], want) < BATCH_TOL, `next token of prompt ${i}`);
    assertEquals(seqs[i].nPast, PROMPTS[i].length + 1);
  }
  ctx.dispose();
}, shared);

test(
  "context: concurrent greedy generations equal separate sessions, passes are shared",
  async () => {
    const m = await model();
    const gate = new RequestScheduler();
    // A budget of 8 tokens: the longer prompts are chunked across passes.
    const ctx = createContext(m, { sequences: 4, batchSize: 8, gate });
    const N = 24;
    const got = await Promise.all(PROMPTS.map((p) => greedy(ctx.sequence(), p, N)));
    const want: number[][] = [];
    for (const p of PROMPTS) {
      const s = new Session(m);
      want.push(await greedy(s, p, N));
      s.dispose();
    }
    assertEquals(got, want);
    const passes = gate.stats.steps.forward;
    // Alone, four sequences would take 4 * N decode passes; together about N.
    assert(passes < 2 * N, `${passes} passes for ${PROMPTS.length} x ${N} tokens`);
    ctx.dispose();
  },
  shared,
);

test("context: an aborted sequence leaves the queue, others go on", async () => {
  const m = await model();
  const ctx = createContext(m, { sequences: 2 });
  const [a, b] = [ctx.sequence(), ctx.sequence()];
  const ac = new AbortController();
  const pa = a.eval(PROMPTS[0], "last", { signal: ac.signal });
  const pb = b.eval(PROMPTS[1], "last");
  ac.abort();
  await assertRejects(() => pa, (e: unknown) => e instanceof AbortError);
  const lb = await pb;
  const s = new Session(m);
  assert(maxDiff(lb, await s.eval(PROMPTS[1])) < BATCH_TOL, "the other sequence's logits");
  assertEquals([a.nPast, b.nPast], [0, PROMPTS[1].length]);
  s.dispose();
  ctx.dispose();
}, shared);

test("context: sequence count, budget and encoder checks", async () => {
  const m = await model();
  const ctx = createContext(m, { sequences: 1 });
  const s = ctx.sequence();
  assertEquals(ctx.sequencesLeft, 0);
  let caught: unknown;
  try {
    ctx.sequence();
  } catch (e) {
    caught = e;
  }
  assert(caught instanceof InvalidArgumentError && caught.facts.field === "sequences");
  s.dispose();
  assertEquals(ctx.sequencesLeft, 1);
  ctx.sequence().dispose();
  // Unknown keys are errors too (a misspelt option is never ignored).
  for (const bad of [{ sequences: 0 }, { batchSize: 1.5 }, { sequence: 4 }]) {
    let e: unknown;
    try {
      createContext(m, bad);
    } catch (x) {
      e = x;
    }
    assert(e instanceof InvalidArgumentError, JSON.stringify(bad));
  }
  ctx.dispose();
}, shared);

test("context: a sequence disposed during a pass frees its cache after it", async () => {
  const m = await model();
  let victim: { dispose(): void } | undefined;
  const gate = {
    run<T>(work: () => Promise<T> | T): Promise<T> {
      const p = Promise.resolve(work());
      victim?.dispose();
      victim = undefined;
      return p;
    },
  };
  const ctx = createContext(m, { sequences: 2, gate });
  const [a, b] = [ctx.sequence(), ctx.sequence()];
  victim = a;
  const pa = a.eval(PROMPTS[0]);
  const lb = await b.eval(PROMPTS[1]);
  await assertRejects(() => pa, (e: unknown) => e instanceof DisposedError);
  await assertRejects(() => a.eval([1]), (e: unknown) => e instanceof DisposedError);
  const s = new Session(m);
  assert(maxDiff(lb, await s.eval(PROMPTS[1])) < BATCH_TOL, "the other sequence's logits");
  assertEquals(ctx.sequencesLeft, 1);
  s.dispose();
  ctx.dispose();
}, shared);

test("context: a closed gate fails every evaluation, later ones too (none hangs)", async () => {
  const m = await model();
  const gate = new RequestScheduler();
  const ctx = createContext(m, { sequences: 1, gate });
  const s = ctx.sequence();
  gate.close();
  const closed = (e: unknown) => e instanceof DisposedError;
  await assertRejects(() => s.eval(PROMPTS[0]), closed);
  await assertRejects(() => s.eval(PROMPTS[0]), closed);
  ctx.dispose();
}, shared);
