/**
 * The server's engine: the loaded model (or its loading state), the slot pool, metrics and
 * settings, in one object that `createApp` serves, so tests can build an app in-process.
 * Slot sessions run their forward passes one at a time (a FIFO lock), which interleaves
 * concurrent generations at token granularity and keeps backends free of re-entrant calls;
 * before each pass the event loop gets a turn, so a CPU-bound generation never starves
 * network I/O (new requests, disconnects, streamed writes).
 *
 * @module
 */
import { InvalidArgumentError } from "../core/errors.ts";
import type { Model } from "../core/model.ts";
import { Session } from "../core/session.ts";
import type { OutputMode } from "../model/llama.ts";
import { meta } from "../gguf/gguf_file.ts";
import { yieldToEventLoop } from "../runtime/http_server.ts";
import { DEFAULT_BODY_LIMIT } from "./body.ts";
import { ApiError } from "./errors.ts";
import { Metrics } from "./metrics.ts";
import { SlotPool } from "./slots.ts";

/** Engine settings. */
export interface EngineOptions {
  /** Model id in /v1/models and responses (default: file name without .gguf). */
  readonly modelId?: string;
  /** Slots generating at once (default 1). */
  readonly parallel?: number;
  /** Requests that may wait for a slot (default 64). */
  readonly queueSize?: number;
  /** Context length of each slot's session (default: the model's). */
  readonly contextLength?: number;
  /** When set, every route but /health needs `Authorization: Bearer <apiKey>`. */
  readonly apiKey?: string;
  /** Largest request body in bytes (default 1 MiB). */
  readonly bodyLimit?: number;
  /** Chat template overriding the model's `tokenizer.chat_template`. */
  readonly chatTemplate?: string;
  /** Receives one line per internal (500) error; default: dropped. */
  readonly log?: (line: string) => void;
}

/** Engine life cycle. */
export type EngineState = "loading" | "ready" | "failed" | "stopping";

/** A FIFO mutex. */
class Lock {
  private tail: Promise<void> = Promise.resolve();
  /** Waits for the lock; resolves to its release function. */
  acquire(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((r) => release = r);
    const ready = this.tail.then(() => release);
    this.tail = next;
    return ready;
  }
}

/** A session whose forward passes take the engine's compute lock. */
class LockedSession extends Session {
  constructor(model: Model, contextLength: number, private readonly lock: Lock) {
    super(model, { contextLength });
  }
  override async eval(
    tokens: readonly number[],
    logits: OutputMode = "last",
  ): Promise<Float32Array> {
    await yieldToEventLoop();
    const release = await this.lock.acquire();
    try {
      return await super.eval(tokens, logits);
    } finally {
      release();
    }
  }
}

/** What routes need once the model is loaded. */
export interface ReadyEngine {
  readonly model: Model;
  readonly slots: SlotPool<Session>;
  /** Each slot's context length. */
  readonly contextLength: number;
}

/** Model, slots, metrics and settings of one server. */
export class Engine {
  readonly metrics: Metrics;
  readonly apiKey: string | undefined;
  readonly bodyLimit: number;
  readonly createdAt = Math.floor(Date.now() / 1000);
  private current: EngineState = "loading";
  private loaded: ReadyEngine | undefined;
  private failure: unknown;
  private id: string | undefined;
  private template: string | undefined;
  private readonly lock = new Lock();
  private readonly stopAll = new AbortController();

  constructor(readonly opts: EngineOptions = {}) {
    this.apiKey = opts.apiKey || undefined;
    this.bodyLimit = opts.bodyLimit ?? DEFAULT_BODY_LIMIT;
    this.id = opts.modelId;
    this.metrics = new Metrics(() => ({
      queueDepth: this.loaded?.slots.queued ?? 0,
      slotsActive: this.loaded?.slots.active ?? 0,
      slotsTotal: this.loaded?.slots.size ?? 0,
      modelLoaded: this.current === "ready",
    }));
  }

  /** Reports a line (internal errors) to the configured log. */
  log(line: string): void {
    this.opts.log?.(line);
  }

  /** Current state. */
  get state(): EngineState {
    return this.current;
  }

  /** The model id clients name (known once loaded, or given in options). */
  get modelId(): string {
    return this.id ?? "model";
  }

  /** The chat template: the option, else the model's metadata, else undefined (ChatML). */
  get chatTemplate(): string | undefined {
    return this.template;
  }

  /** The reason loading failed, when state is "failed". */
  get error(): unknown {
    return this.failure;
  }

  /** Makes a loaded model servable. */
  attach(model: Model): void {
    if (this.current !== "loading") {
      throw new InvalidArgumentError(`cannot attach a model in state ${this.current}`, {
        actual: this.current,
      });
    }
    const ctx = this.opts.contextLength ?? model.contextLength;
    if (!Number.isInteger(ctx) || ctx < 2) {
      throw new InvalidArgumentError("context length must be an integer >= 2", {
        field: "ctx",
        actual: ctx,
      });
    }
    const slots = new SlotPool<Session>({
      size: this.opts.parallel ?? 1,
      queueSize: this.opts.queueSize ?? 64,
      create: () => new LockedSession(model, ctx, this.lock),
    });
    this.id ??= modelIdFromPath(model.path);
    const t = meta(model.file, "tokenizer.chat_template");
    this.template = this.opts.chatTemplate ?? (typeof t === "string" && t !== "" ? t : undefined);
    this.loaded = { model, slots, contextLength: ctx };
    this.current = "ready";
  }

  /** Records that loading failed (health reports it; routes answer 503). */
  fail(error: unknown): void {
    this.failure = error;
    this.current = "failed";
  }

  /** The loaded engine, or a 503 ApiError while loading, failed or stopping. */
  ready(): ReadyEngine {
    if (this.current === "ready" && this.loaded) return this.loaded;
    if (this.current === "stopping") {
      throw new ApiError(503, "shutting_down", "server is shutting down");
    }
    if (this.current === "failed") {
      const why = this.failure instanceof Error ? this.failure.message : String(this.failure);
      throw new ApiError(503, "model_loading", `model failed to load: ${why}`);
    }
    throw new ApiError(503, "model_loading", "model is still loading; retry shortly");
  }

  /** A signal that aborts when either the request's does or the engine stops hard. */
  requestSignal(signal: AbortSignal): AbortSignal {
    return AbortSignal.any([signal, this.stopAll.signal]);
  }

  /**
   * Stops serving: queued requests get 503, running generations may finish for `graceMs`
   * (default 5000) and are then cancelled; slot sessions are disposed, and the model too
   * unless `disposeModel` is false.
   */
  async shutdown(opts: { graceMs?: number; disposeModel?: boolean } = {}): Promise<void> {
    const was = this.loaded;
    this.current = "stopping";
    if (!was) return;
    was.slots.close();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<void>((r) => timer = setTimeout(r, opts.graceMs ?? 5000));
    await Promise.race([was.slots.whenIdle(), grace]);
    clearTimeout(timer);
    this.stopAll.abort(new ApiError(503, "shutting_down", "server is shutting down"));
    await was.slots.whenIdle();
    was.slots.dispose();
    if (opts.disposeModel ?? true) was.model.dispose();
  }
}

/** "models/foo.Q4_K.gguf" -> "foo.Q4_K". */
export function modelIdFromPath(path: string): string {
  const base = path.split(/[\\/]/).pop() ?? path;
  return base.replace(/\.gguf$/i, "") || base;
}
