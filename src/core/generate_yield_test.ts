/**
 * generate() yields to the macrotask queue: a timer set before a long generation fires
 * during it, so `setTimeout(() => ac.abort(), 300)` stops the stream at about 300 ms
 * (finish "abort") instead of after every token has run.
 */
import { assert, assertEquals } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { HAVE_SHARED, NO_SHARED_REASON, sharedPath } from "../../tests/shared_data.ts";
import { createSession, loadModel } from "../api.ts";
import { generate } from "./generate.ts";

const shared = { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON };

test("generate: a setTimeout abort at 300 ms stops a long generation", async () => {
  const model = await loadModel(sharedPath("models", "stories260K.gguf"), {
    backend: "cpu",
    log: () => {},
  });
  const session = createSession(model, { contextShift: { keep: 1 } });
  try {
    const ac = new AbortController();
    let ticks = 0;
    const interval = setInterval(() => ticks++, 50);
    const t0 = performance.now();
    const timer = setTimeout(() => ac.abort(), 300);
    // Far more tokens than run in 300 ms: without yielding this runs to "length".
    const it = generate(session, "Once upon a time", {
      maxTokens: 5_000,
      ignoreEos: true,
      signal: ac.signal,
    });
    let r = await it.next();
    while (!r.done) r = await it.next();
    const ms = performance.now() - t0;
    clearInterval(interval);
    clearTimeout(timer);
    assertEquals(r.value.finishReason, "abort");
    assert(ms >= 290 && ms < 1500, `stopped after ${ms.toFixed(0)} ms`);
    assert(r.value.completionTokens > 0 && r.value.completionTokens < 5_000);
    assert(ticks >= 3, `interval ran ${ticks} times during generation`);
  } finally {
    session.dispose();
    model.dispose();
  }
}, shared);

test("generate: a timer abort also stops a long prompt between batches", async () => {
  const model = await loadModel(sharedPath("models", "stories260K.gguf"), {
    backend: "cpu",
    log: () => {},
  });
  // One token per forward pass: a 300-token prompt takes hundreds of passes.
  const session = createSession(model, { batchSize: 1 });
  try {
    const prompt = Array.from({ length: 300 }, (_, i) => 1 + (i % 200));
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 0);
    const it = generate(session, prompt, { maxTokens: 4, signal: ac.signal });
    let r = await it.next();
    while (!r.done) r = await it.next();
    clearTimeout(timer);
    assertEquals([r.value.finishReason, r.value.completionTokens], ["abort", 0]);
    assert(session.nPast > 0 && session.nPast < 300, `evaluated ${session.nPast} of 300`);
  } finally {
    session.dispose();
    model.dispose();
  }
}, shared);
