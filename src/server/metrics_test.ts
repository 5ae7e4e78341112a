import { test } from "../../tests/harness.ts";
import { assertMatch, assertStrictEquals } from "../../tests/assert.ts";
import { Metrics, parseMetrics } from "./metrics.ts";

test("metrics: Prometheus text with counters, histogram buckets and gauges", () => {
  const m = new Metrics(() => ({
    queueDepth: 3,
    slotsActive: 2,
    slotsTotal: 4,
    modelLoaded: true,
  }));
  m.countRequest("/v1/completions", 200);
  m.countRequest("/v1/completions", 200);
  m.countRequest('/we"ird', 404);
  m.observeLatency("/v1/completions", 0.02);
  m.observeLatency("/v1/completions", 3);
  m.promptTokens = 10;
  m.generatedTokens = 7;
  m.cancelled = 1;
  const text = m.render();
  assertMatch(text, /^# HELP rocmforge_requests_total /m);
  assertMatch(text, /^# TYPE rocmforge_request_duration_seconds histogram$/m);
  const v = parseMetrics(text);
  assertStrictEquals(v.get('rocmforge_requests_total{endpoint="/v1/completions",status="200"}'), 2);
  assertStrictEquals(v.get('rocmforge_requests_total{endpoint="/we\\"ird",status="404"}'), 1);
  const b = (le: string) =>
    v.get(`rocmforge_request_duration_seconds_bucket{endpoint="/v1/completions",le="${le}"}`);
  assertStrictEquals(b("0.01"), 0);
  assertStrictEquals(b("0.025"), 1);
  assertStrictEquals(b("2.5"), 1);
  assertStrictEquals(b("5"), 2);
  assertStrictEquals(b("+Inf"), 2);
  assertStrictEquals(
    v.get('rocmforge_request_duration_seconds_count{endpoint="/v1/completions"}'),
    2,
  );
  assertStrictEquals(
    v.get('rocmforge_request_duration_seconds_sum{endpoint="/v1/completions"}'),
    3.02,
  );
  assertStrictEquals(v.get("rocmforge_prompt_tokens_total"), 10);
  assertStrictEquals(v.get("rocmforge_generated_tokens_total"), 7);
  assertStrictEquals(v.get("rocmforge_requests_cancelled_total"), 1);
  assertStrictEquals(v.get("rocmforge_queue_depth"), 3);
  assertStrictEquals(v.get("rocmforge_slots_active"), 2);
  assertStrictEquals(v.get("rocmforge_slots_total"), 4);
  assertStrictEquals(v.get("rocmforge_model_loaded"), 1);
  assertStrictEquals(m.requestCount("/v1/completions", 200), 2);
});

test("metrics: the slots' shared forward passes, only when there is a context", () => {
  const gauges = { queueDepth: 0, slotsActive: 0, slotsTotal: 2, modelLoaded: true };
  const batch = { passes: 10, tokens: 40, sequenceRows: 25 };
  const v = parseMetrics(new Metrics(() => ({ ...gauges, batch })).render());
  assertStrictEquals(v.get("rocmforge_batch_passes_total"), 10);
  assertStrictEquals(v.get("rocmforge_batch_tokens_total"), 40);
  assertStrictEquals(v.get("rocmforge_batch_sequences_total"), 25);
  const none = parseMetrics(new Metrics(() => gauges).render());
  assertStrictEquals(none.has("rocmforge_batch_passes_total"), false);
});
