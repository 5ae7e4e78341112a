/**
 * The engine request scheduler under the server: a slot session's abort signal reaches its
 * evaluation (bug 11.6.1: LockedSession.eval dropped the options argument and evaluated a
 * whole 300-token prompt after its signal was aborted), the lock is taken per forward batch
 * (so /health answers while a large embeddings request runs), and a client that gives up
 * cancels its embeddings.
 */
import { test } from "./harness.ts";
import { assert, assertRejects, assertStrictEquals } from "./assert.ts";
import { AbortError } from "../src/core/errors.ts";
import { HAVE_SHARED, NO_SHARED_REASON } from "./shared_data.ts";
import { postJson, startServer, waitFor } from "./_server_util.ts";

const skip = { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON };

test("scheduler: a slot session's abort signal stops its evaluation (bug 11.6.1)", async () => {
  const s = await startServer({ parallel: 1, contextLength: 512, batchSize: 32 });
  try {
    const lease = await s.engine.ready().slots.acquire([1]);
    try {
      const tokens = Array.from({ length: 300 }, (_, i) => 1 + (i % 50));
      await assertRejects(
        () => lease.session.eval(tokens, "last", { signal: AbortSignal.abort() }),
        AbortError,
      );
      assertStrictEquals(lease.session.nPast, 0, "nothing was evaluated after the abort");
      // Aborted part-way: the batches already run stay, the rest is never evaluated.
      const ac = new AbortController();
      let steps = 0;
      const gate = s.engine.scheduler;
      const before = gate.stats.steps.forward;
      const poll = setInterval(() => {
        steps = gate.stats.steps.forward - before;
        if (steps >= 2) ac.abort();
      }, 0);
      await assertRejects(
        () => lease.session.eval(tokens, "last", { signal: ac.signal }),
        AbortError,
      );
      clearInterval(poll);
      assert(lease.session.nPast < 300, `stopped part-way (${lease.session.nPast} of 300)`);
      assertStrictEquals(lease.session.nPast % 32, 0, "whole batches only");
    } finally {
      lease.release();
    }
  } finally {
    await s.close();
  }
}, skip);

test(
  "scheduler: /health answers within 1 s during a large embeddings request, which a disconnect cancels",
  async () => {
    const s = await startServer({ parallel: 1, contextLength: 1024 });
    try {
      const text = "Once upon a time there was a little dog who liked to run. ".repeat(20);
      const input = Array.from({ length: 256 }, (_, i) => `${i}: ${text}`);
      const ac = new AbortController();
      const big = fetch(`${s.url}/v1/embeddings`, {
        method: "POST",
        body: JSON.stringify({ input }),
        signal: ac.signal,
      }).catch((e) => e);
      const gate = s.engine.scheduler;
      let worst = 0;
      const probe = async () => {
        const t0 = performance.now();
        const h = await fetch(`${s.url}/health`);
        worst = Math.max(worst, performance.now() - t0);
        assertStrictEquals(h.status, 200);
        await h.body?.cancel();
        const m = await fetch(`${s.url}/metrics`);
        assertStrictEquals(m.status, 200);
        await m.text();
      };
      // While its inputs are tokenized, then while they are evaluated.
      for (let i = 0; i < 5; i++) {
        await probe();
        await new Promise((r) => setTimeout(r, 50));
      }
      await waitFor("embedding batches to run", () => gate.stats.steps.forward >= 3);
      for (let i = 0; i < 5; i++) await probe();
      assert(worst <= 1000, `/health took ${worst.toFixed(0)} ms at worst`);
      assert(s.engine.ready().slots.active === 1, "the embeddings request was still running");
      ac.abort();
      await big;
      await waitFor(
        "the slot to free after the disconnect",
        () => s.engine.ready().slots.active === 0,
        5000,
      );
      // Each pass leases the slot anew and the signal is checked between passes, so the passes
      // that begin before the server sees the disconnect (a write to the gone client) still run:
      // wait until no pass has started for 300 ms; then no more may start, and most inputs were
      // never evaluated.
      let settled = gate.stats.steps.forward;
      await waitFor("embedding passes to stop", async () => {
        settled = gate.stats.steps.forward;
        await new Promise((r) => setTimeout(r, 300));
        return gate.stats.steps.forward === settled;
      }, 5000);
      await new Promise((r) => setTimeout(r, 200));
      assertStrictEquals(gate.stats.steps.forward, settled, "no batches run after the cancel");
      assert(s.engine.metrics.promptTokens < 256 * 200, "most inputs were never evaluated");
      // Still serving.
      const r = await postJson(`${s.url}/v1/embeddings`, { input: "a small dog" });
      assertStrictEquals(r.status, 200);
    } finally {
      await s.close();
    }
  },
  skip,
);

test("scheduler: tokenize and detokenize run as scheduler steps", async () => {
  const s = await startServer({ parallel: 1 });
  try {
    const gate = s.engine.scheduler;
    const before = gate.stats.steps.tokenize;
    const t = await postJson(`${s.url}/tokenize`, { content: "Once upon a time" });
    assertStrictEquals(t.status, 200);
    const d = await postJson(`${s.url}/detokenize`, { tokens: t.body.tokens });
    assertStrictEquals(d.body.content.trim(), "Once upon a time");
    assertStrictEquals(gate.stats.steps.tokenize - before, 2);
  } finally {
    await s.close();
  }
}, skip);

test("scheduler: a non-streamed completion whose client gives up is cancelled", async () => {
  const s = await startServer({ parallel: 1, contextLength: 4096 });
  try {
    const ac = new AbortController();
    const req = fetch(`${s.url}/v1/completions`, {
      method: "POST",
      body: JSON.stringify({ prompt: "Once", max_tokens: 4000, ignore_eos: true }),
      signal: ac.signal,
    }).catch((e) => e);
    await waitFor(
      "generation to run past the first second",
      () => s.engine.metrics.generatedTokens > 0 && s.engine.ready().slots.active === 1,
    );
    await new Promise((r) => setTimeout(r, 1500));
    ac.abort();
    await req;
    await waitFor("the slot to free", () => s.engine.ready().slots.active === 0, 5000);
    assert(s.engine.metrics.generatedTokens < 4000, "generation stopped early");
    assertStrictEquals(s.engine.metrics.cancelled, 1);
  } finally {
    await s.close();
  }
}, skip);
