/**
 * Session tests on the real stories260K model (CPU): context overflow, opt-in context
 * shift, independent sessions over one model, batched vs incremental evaluation, argument
 * checks and disposal.
 */
import { assert, assertClose, assertEquals, assertRejects } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { HAVE_SHARED, NO_SHARED_REASON, sharedPath } from "../../tests/shared_data.ts";
import { createCpuBackend } from "../backends/cpu/backend.ts";
import { ContextOverflowError, InvalidArgumentError, RocmForgeError } from "./errors.ts";
import { generate, type GenerateOptions } from "./generate.ts";
import { Model } from "./model.ts";
import { builtinArchitectures } from "../model/mod.ts";
import { Session } from "./session.ts";
import { buildLlamaGraph, resolveLlamaTensors } from "../model/llama.ts";

const shared = { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON };
const path = () => sharedPath("models", "stories260K.gguf");
/** llama.cpp's prompt and greedy continuation for "Once upon a time" (golden, first row). */
const PROMPT = [1, 403, 407, 261, 378];
const GOLDEN = [432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337];
/** Golden second row: "Lily and Tom went to the park". */
const PROMPT2 = [1, 317, 269, 274, 287, 263, 377, 267, 265, 282, 295, 433];
const GOLDEN2 = [426, 342, 394, 261, 370, 268, 414, 444, 335, 261, 370, 268, 414, 444, 426, 342];

let cached: Promise<Model> | undefined;
/** One model shared by the tests of this file (each test makes its own sessions). */
function model(): Promise<Model> {
  return cached ??= Model.load(path(), {
    architectures: builtinArchitectures,
    backends: [createCpuBackend()],
  });
}

async function drain(session: Session, prompt: readonly number[], opts: GenerateOptions) {
  const it = generate(session, prompt, { ignoreEos: true, ...opts });
  let r = await it.next();
  while (!r.done) r = await it.next();
  return r.value;
}

function isCode(
  code: string,
  cls: abstract new (...a: never[]) => RocmForgeError = RocmForgeError,
) {
  return (e: unknown) => e instanceof cls && e.code === code;
}

/**
 * Logits of one row may differ by this much between a batched and a single-row evaluation:
 * as in llama.cpp, the CPU's F32 products sum in a batch as tinyBLAS does and for one row as
 * ggml_vec_dot_f32 does (~1e-4 relative on this model's logits).
 */
const BATCH_TOL = 5e-3;

function maxDiff(a: Float32Array, b: Float32Array): number {
  assertEquals(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test("session: exceeding the context without shift is a ContextOverflowError", async () => {
  const m = await model();
  const s = new Session(m, { contextLength: 8 });
  await s.eval(PROMPT.concat(GOLDEN[0]));
  let caught: unknown;
  try {
    await s.eval(GOLDEN.slice(1, 4));
  } catch (e) {
    caught = e;
  }
  assert(caught instanceof ContextOverflowError, String(caught));
  assertEquals(caught.code, "CONTEXT_OVERFLOW");
  assertEquals([caught.facts.expected, caught.facts.actual], [8, 9]);
  // The session is unchanged and can still fill its context exactly.
  assertEquals(s.nPast, 6);
  await s.eval(GOLDEN.slice(1, 3));
  assertEquals(s.nPast, 8);
  await assertRejects(() => s.eval([GOLDEN[3]]), isCode("CONTEXT_OVERFLOW", ContextOverflowError));
  // A batch longer than the context, even into an empty session.
  const fresh = new Session(m, { contextLength: 4 });
  await assertRejects(
    () => fresh.eval(PROMPT),
    (e: unknown) => e instanceof ContextOverflowError && e.facts.actual === 5,
  );
  // generate() stops at the context instead of overflowing.
  const g = new Session(m, { contextLength: 10 });
  const r = await drain(g, PROMPT, { maxTokens: 50 });
  assertEquals([r.finishReason, r.completionTokens], ["length", 5]);
  assertEquals(r.tokens, GOLDEN.slice(0, 5));
  for (const x of [s, fresh, g]) x.dispose();
}, shared);

test(
  "session: context shift keeps the first N tokens and drops the oldest half of the rest",
  async () => {
    const m = await model();
    const seq = PROMPT.concat(GOLDEN).slice(0, 16);
    const s = new Session(m, { contextLength: 16, contextShift: { keep: 4 } });
    await s.eval(seq);
    const next = GOLDEN[11];
    const logits = await s.eval([next]);
    // keep 4, drop half of the other 12, then append.
    const kept = [...seq.slice(0, 4), ...seq.slice(10), next];
    assertEquals(s.tokens, kept);
    const ref = new Session(m, { contextLength: 16 });
    const want = await ref.eval(kept);
    assert(maxDiff(logits, want) < BATCH_TOL, `shifted logits differ by ${maxDiff(logits, want)}`);
    // Nothing left to drop: keep covers the whole context.
    const full = new Session(m, { contextLength: 6, contextShift: { keep: 6 } });
    await full.eval(PROMPT.concat(GOLDEN[0]));
    await assertRejects(() => full.eval([GOLDEN[1]]), isCode("CONTEXT_OVERFLOW"));
    for (const x of [s, ref, full]) x.dispose();
  },
  shared,
);

test("session: with context shift, generation continues past the context", async () => {
  const m = await model();
  const s = new Session(m, { contextLength: 24, contextShift: { keep: PROMPT.length } });
  const r = await drain(s, PROMPT, { maxTokens: 60 });
  assertEquals([r.finishReason, r.completionTokens], ["length", 60]);
  // Up to the first shift the text is the unshifted greedy one.
  assertEquals(r.tokens.slice(0, GOLDEN.length), GOLDEN);
  assert(s.nPast <= 24, `nPast ${s.nPast}`);
  assertEquals(s.tokens.slice(0, PROMPT.length), PROMPT);
  // The cache ends with the last generated tokens (the final one is never evaluated).
  const tail = r.tokens.slice(-4, -1);
  assertEquals(s.tokens.slice(-3), tail);
  s.dispose();
}, shared);

test("session: several sessions over one model match fresh ones, interleaved too", async () => {
  const m = await model();
  const alone = new Session(m);
  assertEquals((await drain(alone, PROMPT, { maxTokens: 16 })).tokens, GOLDEN);
  const a = new Session(m), b = new Session(m);
  const ia = generate(a, PROMPT, { maxTokens: 16, ignoreEos: true });
  const ib = generate(b, PROMPT2, { maxTokens: 16, ignoreEos: true });
  const ta: number[] = [], tb: number[] = [];
  for (let i = 0; i < 40; i++) {
    const [ra, rb] = [await ia.next(), await ib.next()];
    if (!ra.done && ra.value.token >= 0) ta.push(ra.value.token);
    if (!rb.done && rb.value.token >= 0) tb.push(rb.value.token);
    if (ra.done && rb.done) break;
  }
  assertEquals(ta, GOLDEN);
  assertEquals(tb, GOLDEN2);
  // The first session still continues correctly after the others ran.
  const again = await drain(alone, PROMPT, { maxTokens: 16 });
  assertEquals(again.tokens, GOLDEN);
  for (const x of [alone, a, b]) x.dispose();
}, shared);

test("session: 'all' rows equal successive 'last' evaluations, in any batch size", async () => {
  const m = await model();
  const seq = PROMPT.concat(GOLDEN.slice(0, 7));
  const vocab = m.config.vocabSize;
  const all = await new Session(m).eval(seq, "all");
  assertEquals(all.length, seq.length * vocab);
  const small = await new Session(m, { batchSize: 3 }).eval(seq, "all");
  assert(maxDiff(all, small) < BATCH_TOL, "batch size 3");
  const step = new Session(m);
  for (let i = 0; i < seq.length; i++) {
    const row = await step.eval([seq[i]], "last");
    const d = maxDiff(row, all.subarray(i * vocab, (i + 1) * vocab));
    assert(d < BATCH_TOL, `row ${i} differs by ${d}`);
  }
  // "last" runs the last layer's FFN and the output on that row alone (single-row products)
  const last = await new Session(m).eval(seq, "last");
  assert(maxDiff(last, all.subarray((seq.length - 1) * vocab)) < BATCH_TOL, "last of a batch");
  const hidden = await new Session(m).eval(seq, "hidden");
  assertEquals(hidden.length, seq.length * m.config.embeddingLength);
  assert(hidden.every(Number.isFinite));
}, shared);

test(
  "llama graph: with 'last' logits the last layer's FFN and the output run on one row",
  async () => {
    const m = await model();
    const dims = new Map(m.file.tensors.map((t) => [t.name, t.dims] as const));
    const g = buildLlamaGraph(m.config, resolveLlamaTensors(m.config, dims), 5, "last");
    const last = `blk.${m.config.blockCount - 1}.`;
    let checked = 0;
    for (const n of g.nodes) {
      if (n.op !== "matmul") continue;
      const oneRow = n.weight.startsWith(`${last}ffn_`) || !n.weight.startsWith("blk.");
      assertEquals(g.values[n.out].rows, oneRow ? 1 : 5, n.weight);
      checked++;
    }
    assertEquals(checked, 7 * m.config.blockCount + 1);
  },
  shared,
);

test("session: truncate and reset reuse the cache like fresh evaluation", async () => {
  const m = await model();
  const s = new Session(m);
  await s.eval(PROMPT.concat(GOLDEN.slice(0, 3)));
  s.truncate(PROMPT.length);
  assertEquals(s.tokens, PROMPT);
  const a = await s.eval([GOLDEN[0]]);
  const b = await new Session(m).eval(PROMPT.concat(GOLDEN[0]));
  assertClose(maxDiff(a, b), 0, BATCH_TOL, "after truncate");
  s.reset();
  assertEquals(s.nPast, 0);
  const c = await s.eval(PROMPT);
  assertEquals(c.indexOf(Math.max(...c)), GOLDEN[0]);
  s.dispose();
}, shared);

test("session: invalid tokens and options are InvalidArgumentErrors", async () => {
  const m = await model();
  const s = new Session(m);
  const bad = isCode("INVALID_ARGUMENT", InvalidArgumentError);
  for (const t of [-1, 512, 1.5, NaN]) {
    await assertRejects(
      () => s.eval([1, t]),
      (e: unknown) => bad(e) && (e as InvalidArgumentError).facts.expected === "0..511",
    );
  }
  await assertRejects(() => s.eval([]), bad);
  assertEquals(s.nPast, 0);
  for (const contextLength of [0, -3, 2.5]) {
    let caught: unknown;
    try {
      new Session(m, { contextLength });
    } catch (e) {
      caught = e;
    }
    assert(bad(caught), `contextLength ${contextLength}`);
  }
  s.dispose();
}, shared);

test("session: disposed sessions and models refuse work", async () => {
  const m = await model();
  const s = new Session(m);
  await s.eval(PROMPT);
  s.dispose();
  s.dispose(); // twice is fine
  await assertRejects(() => s.eval([GOLDEN[0]]), isCode("DISPOSED"));
  const own = await Model.load(path(), {
    architectures: builtinArchitectures,
    backends: [createCpuBackend()],
  });
  const t = new Session(own);
  own.dispose();
  assert(own.isDisposed);
  await assertRejects(() => t.eval(PROMPT), isCode("DISPOSED"));
}, shared);

test("session: an aborted signal stops a batched prompt evaluation between batches", async () => {
  const m = await model();
  const s = new Session(m, { batchSize: 2 });
  const ac = new AbortController();
  ac.abort();
  await assertRejects(() => s.eval(PROMPT, "last", { signal: ac.signal }), isCode("ABORTED"));
  assertEquals(s.nPast, 0);
  const r = await drain(s, PROMPT, { maxTokens: 4, signal: ac.signal });
  assertEquals(r.finishReason, "abort");
  assertEquals(r.completionTokens, 0);
  s.dispose();
}, shared);
