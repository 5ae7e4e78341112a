/**
 * The engine's request scheduler: one FIFO queue of compute steps that every request kind
 * (completion, chat, embeddings, tokenize) goes through. A step is one forward batch of one
 * sequence (a Session takes the scheduler as its `gate` and submits each batch of
 * `Session.forward` separately), or one tokenizer call; the lock is therefore held per
 * batch, never for a whole prompt, and concurrent requests interleave at batch granularity.
 *
 * Before every step the event loop gets a turn through a timer (not setImmediate: under Deno
 * a chain of immediates does not let the HTTP server accept and answer requests, measured:
 * /health waited 66 s behind a large embeddings request), so network I/O (health checks,
 * metrics, new requests, disconnects, streamed writes) is never starved by compute. A step
 * whose signal aborts while it waits leaves the queue at once with an AbortError; a running
 * step finishes (a forward pass is not interruptible) and the next batch of that request is
 * then refused by the session's own check.
 *
 * Later multi-sequence batching replaces "run the head step" with "gather the queued
 * forward steps of several sequences into one pass": the queue already holds every pending
 * forward batch, tagged with its kind, in arrival order.
 *
 * @module
 */
import { yieldToEventLoop } from "../runtime/http_server.ts";
import { AbortError, DisposedError, type RocmForgeError } from "./errors.ts";

/** What a step is, for metrics and for a future batched forward step. */
export type StepKind = "forward" | "tokenize" | "other";

/** Takes compute steps one at a time; Session calls it once per forward batch. */
export interface ForwardGate {
  /** Runs `work` when its turn comes; rejects with an AbortError if `signal` aborts first. */
  run<T>(work: () => Promise<T> | T, signal?: AbortSignal, kind?: StepKind): Promise<T>;
}

interface Step {
  readonly kind: StepKind;
  readonly work: () => unknown;
  readonly signal: AbortSignal | undefined;
  resolve(v: unknown): void;
  reject(e: unknown): void;
  detach(): void;
}

/** Counters of a scheduler. */
export interface SchedulerStats {
  /** Steps run, by kind. */
  readonly steps: Readonly<Record<StepKind, number>>;
  /** Steps dropped because their signal aborted while they waited. */
  readonly abandoned: number;
}

/** A FIFO queue of compute steps, run one at a time. */
export class RequestScheduler implements ForwardGate {
  private readonly queue: Step[] = [];
  private running = false;
  private closedWith: RocmForgeError | undefined;
  private readonly counts: Record<StepKind, number> = { forward: 0, tokenize: 0, other: 0 };
  private dropped = 0;

  /** Steps waiting for their turn (the running one excluded). */
  get pending(): number {
    return this.queue.length;
  }

  /** True while a step runs or waits. */
  get busy(): boolean {
    return this.running;
  }

  /** Counters (steps by kind, abandoned steps). */
  get stats(): SchedulerStats {
    return { steps: { ...this.counts }, abandoned: this.dropped };
  }

  run<T>(work: () => Promise<T> | T, signal?: AbortSignal, kind: StepKind = "forward"): Promise<T> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    if (signal?.aborted) return Promise.reject(new AbortError("request cancelled before compute"));
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        const i = this.queue.indexOf(step);
        if (i < 0) return;
        this.queue.splice(i, 1);
        this.dropped++;
        reject(new AbortError("request cancelled while waiting for compute"));
      };
      const step: Step = {
        kind,
        work,
        signal,
        resolve: resolve as (v: unknown) => void,
        reject,
        detach: () => signal?.removeEventListener("abort", onAbort),
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.queue.push(step);
      if (!this.running) void this.pump();
    });
  }

  /** Refuses new steps and fails the queued ones with `error` (the running one finishes). */
  close(error: RocmForgeError = new DisposedError("request scheduler closed")): void {
    this.closedWith = error;
    for (const s of this.queue.splice(0)) {
      s.detach();
      s.reject(error);
    }
  }

  private async pump(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        await nextMacrotask();
        const step = this.queue.shift();
        if (!step) break;
        step.detach();
        if (step.signal?.aborted) {
          this.dropped++;
          step.reject(new AbortError("request cancelled while waiting for compute"));
          continue;
        }
        this.counts[step.kind]++;
        try {
          step.resolve(await step.work());
        } catch (e) {
          step.reject(e);
        }
      }
    } finally {
      this.running = false;
    }
  }
}

/** Longest stretch of steps between two timer turns, in ms. */
const IO_TURN_MS = 10;
let lastTimerTurn = 0;

/**
 * Yields to the event loop: through a timer (pending I/O is polled before it runs) when the
 * last timer turn is more than IO_TURN_MS ago, else through the cheaper immediate queue
 * (a timer chain is clamped to 4 ms per turn, which would triple decode latency on small
 * models).
 */
function nextMacrotask(): Promise<void> {
  const t = performance.now();
  if (t - lastTimerTurn >= IO_TURN_MS) {
    return new Promise((resolve) =>
      setTimeout(() => {
        lastTimerTurn = performance.now();
        resolve();
      }, 0)
    );
  }
  return yieldToEventLoop();
}
