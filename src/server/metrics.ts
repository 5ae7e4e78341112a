/**
 * Server metrics in the Prometheus text exposition format (version 0.0.4): requests by
 * endpoint and status, prompt and generated tokens, cancelled requests, a request-latency
 * histogram by endpoint, and gauges (queue depth, active slots, slots, model loaded) read
 * when rendered.
 *
 * @module
 */
import type { BatchStats } from "../core/batch_context.ts";

/** Latency histogram bucket bounds in seconds. */
export const LATENCY_BUCKETS: readonly number[] = [
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
  60,
  120,
];

/** Values read at render time. */
export interface GaugeValues {
  readonly queueDepth: number;
  readonly slotsActive: number;
  readonly slotsTotal: number;
  readonly modelLoaded: boolean;
  /** The slots' shared forward passes (continuous batching); absent without a context. */
  readonly batch?: BatchStats;
}

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function fmt(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  return String(n);
}

/** Counters and histograms of one server. */
export class Metrics {
  private readonly requests = new Map<string, number>();
  private readonly latency = new Map<string, Histogram>();
  /** Prompt tokens evaluated for generation and embeddings. */
  promptTokens = 0;
  /** Tokens generated. */
  generatedTokens = 0;
  /** Generations stopped because the client went away. */
  cancelled = 0;

  constructor(private readonly gauges: () => GaugeValues) {}

  /** Counts one answered request. */
  countRequest(endpoint: string, status: number): void {
    const key = `${endpoint}\u0000${status}`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
  }

  /** Records one request's latency in seconds. */
  observeLatency(endpoint: string, seconds: number): void {
    let h = this.latency.get(endpoint);
    if (!h) {
      h = { counts: LATENCY_BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.latency.set(endpoint, h);
    }
    LATENCY_BUCKETS.forEach((b, i) => {
      if (seconds <= b) h.counts[i]++;
    });
    h.sum += seconds;
    h.count++;
  }

  /** Requests counted for an endpoint and status (for tests and health). */
  requestCount(endpoint: string, status: number): number {
    return this.requests.get(`${endpoint}\u0000${status}`) ?? 0;
  }

  /** The exposition text. */
  render(): string {
    const g = this.gauges();
    const out: string[] = [];
    const head = (name: string, type: string, help: string) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    };
    head("rocmforge_requests_total", "counter", "HTTP requests answered, by endpoint and status.");
    for (const [key, n] of [...this.requests].sort(([a], [b]) => a.localeCompare(b))) {
      const [endpoint, status] = key.split("\u0000");
      out.push(
        `rocmforge_requests_total{endpoint="${escapeLabel(endpoint)}",status="${status}"} ${n}`,
      );
    }
    head("rocmforge_prompt_tokens_total", "counter", "Prompt tokens processed.");
    out.push(`rocmforge_prompt_tokens_total ${this.promptTokens}`);
    head("rocmforge_generated_tokens_total", "counter", "Tokens generated.");
    out.push(`rocmforge_generated_tokens_total ${this.generatedTokens}`);
    head(
      "rocmforge_requests_cancelled_total",
      "counter",
      "Generations stopped because the client disconnected.",
    );
    out.push(`rocmforge_requests_cancelled_total ${this.cancelled}`);
    head(
      "rocmforge_request_duration_seconds",
      "histogram",
      "Request latency (streams: until the last event), by endpoint.",
    );
    for (const [endpoint, h] of [...this.latency].sort(([a], [b]) => a.localeCompare(b))) {
      const ep = `endpoint="${escapeLabel(endpoint)}"`;
      LATENCY_BUCKETS.forEach((b, i) => {
        out.push(`rocmforge_request_duration_seconds_bucket{${ep},le="${fmt(b)}"} ${h.counts[i]}`);
      });
      out.push(`rocmforge_request_duration_seconds_bucket{${ep},le="+Inf"} ${h.count}`);
      out.push(`rocmforge_request_duration_seconds_sum{${ep}} ${fmt(h.sum)}`);
      out.push(`rocmforge_request_duration_seconds_count{${ep}} ${h.count}`);
    }
    head("rocmforge_queue_depth", "gauge", "Requests waiting for a slot.");
    out.push(`rocmforge_queue_depth ${g.queueDepth}`);
    head("rocmforge_slots_active", "gauge", "Slots generating now.");
    out.push(`rocmforge_slots_active ${g.slotsActive}`);
    head("rocmforge_slots_total", "gauge", "Slots (parallel sessions).");
    out.push(`rocmforge_slots_total ${g.slotsTotal}`);
    head("rocmforge_model_loaded", "gauge", "1 once the model is loaded.");
    out.push(`rocmforge_model_loaded ${g.modelLoaded ? 1 : 0}`);
    if (g.batch) {
      head("rocmforge_batch_passes_total", "counter", "Forward passes the slots shared.");
      out.push(`rocmforge_batch_passes_total ${g.batch.passes}`);
      head("rocmforge_batch_tokens_total", "counter", "Tokens evaluated in those passes.");
      out.push(`rocmforge_batch_tokens_total ${g.batch.tokens}`);
      head(
        "rocmforge_batch_sequences_total",
        "counter",
        "Sequences in those passes, summed (over passes: sequences per pass).",
      );
      out.push(`rocmforge_batch_sequences_total ${g.batch.sequenceRows}`);
    }
    return out.join("\n") + "\n";
  }
}

/** Parses exposition text into `name{labels}` -> value (tests and tools). */
export function parseMetrics(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const sp = line.lastIndexOf(" ");
    const v = line.slice(sp + 1);
    m.set(line.slice(0, sp), v === "+Inf" ? Infinity : v === "-Inf" ? -Infinity : Number(v));
  }
  return m;
}
