/**
 * The server's engine: the loaded model (or its loading state), the slot pool, the request
 * scheduler, metrics and settings, in one object that `createApp` serves, so tests can build
 * an app in-process. The slots of a causal model are the sequences of one multi-sequence
 * context (src/core/batch_context.ts): each forward pass gathers the next token of every
 * decoding slot and chunks of waiting prompts (continuous batching). Every pass, and every
 * other compute step (tokenize, embeddings of an encoder), goes through the engine's
 * RequestScheduler (src/core/request_scheduler.ts), one at a time: a cancelled request leaves
 * the next pass, and the event loop gets a turn before each step (so /health and /metrics
 * never wait for a whole prompt).
 *
 * @module
 */
import { InvalidArgumentError } from "../core/errors.ts";
import type { Model } from "../core/model.ts";
import {
  type BatchContext,
  batchRefusal,
  createContext,
  movedAttention,
} from "../core/batch_context.ts";
import { RequestScheduler } from "../core/request_scheduler.ts";
import { Session } from "../core/session.ts";
import { meta } from "../gguf/gguf_file.ts";
import type { z } from "../deps/zod.ts";
import { DEFAULT_BODY_LIMIT, DEFAULT_BODY_TIMEOUT_MS, parseBody } from "./body.ts";
import { ApiError } from "./errors.ts";
import { Metrics } from "./metrics.ts";
import { PromptCache } from "./prompt_cache.ts";
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
  /** Time a request body may take to arrive, in ms (default 30000; then 408). */
  readonly bodyTimeoutMs?: number;
  /** Refuse requests naming another model (default: any model name is served). */
  readonly strictModel?: boolean;
  /** Origins allowed by CORS ("*" for any); default none (no CORS headers). */
  readonly corsOrigins?: readonly string[];
  /**
   * Tokens the prompt cache keeps of prefixes that slots evicted (default: the context length;
   * 0 keeps none). Only backends that copy KV caches (the CPU) fill it.
   */
  readonly promptCacheTokens?: number;
  /**
   * Extra sequences for the `n` choices of a prompt to decode at once (forks that copy the
   * slot's prompt KV; each holds a KV cache of the context length while it runs); default: as
   * many as slots. 0 generates choices one after another.
   */
  readonly choiceForks?: number;
  /** Tokens per forward batch of a slot session (default 256). */
  readonly batchSize?: number;
  /** Chat template overriding the model's `tokenizer.chat_template`. */
  readonly chatTemplate?: string;
  /** Receives one line per internal (500) error; default: dropped. */
  readonly log?: (line: string) => void;
}

/** Engine life cycle. */
export type EngineState = "loading" | "ready" | "failed" | "stopping";

/** What routes need once the model is loaded. */
export interface ReadyEngine {
  readonly model: Model;
  readonly slots: SlotPool<Session>;
  /** Each slot's context length. */
  readonly contextLength: number;
  /** Prefixes evicted from slots, for reuse by later prompts. */
  readonly prompts: PromptCache;
}

/** Model, slots, metrics and settings of one server. */
export class Engine {
  readonly metrics: Metrics;
  readonly apiKey: string | undefined;
  readonly bodyLimit: number;
  readonly bodyTimeoutMs: number;
  /** Every compute step of every request goes through it. */
  readonly scheduler = new RequestScheduler();
  readonly createdAt = Math.floor(Date.now() / 1000);
  private current: EngineState = "loading";
  private loaded: ReadyEngine | undefined;
  private failure: unknown;
  private id: string | undefined;
  private template: string | undefined;
  private print = "fp_rocmforge";
  private readonly stopAll = new AbortController();
  /** The slots' context (a causal model's slots share its forward passes). */
  private batch: BatchContext | undefined;

  constructor(readonly opts: EngineOptions = {}) {
    this.apiKey = opts.apiKey || undefined;
    this.bodyLimit = opts.bodyLimit ?? DEFAULT_BODY_LIMIT;
    this.bodyTimeoutMs = opts.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
    this.id = opts.modelId;
    this.metrics = new Metrics(() => ({
      queueDepth: this.loaded?.slots.queued ?? 0,
      slotsActive: this.loaded?.slots.active ?? 0,
      slotsTotal: this.loaded?.slots.size ?? 0,
      modelLoaded: this.current === "ready",
      ...(this.batch ? { batch: this.batch.stats } : {}),
    }));
  }

  /** Reads, parses and validates a request body with this engine's size and time limits. */
  parse<T extends z.ZodType>(req: Request, schema: T): Promise<z.infer<T>> {
    return parseBody(req, schema, this.bodyLimit, this.bodyTimeoutMs);
  }

  /** Reports a line (internal errors) to the configured log. */
  log(line: string): void {
    this.opts.log?.(line);
  }

  /** The slots' multi-sequence context (absent before loading, and for encoders). */
  get batchContext(): BatchContext | undefined {
    return this.batch;
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

  /** OpenAI's `system_fingerprint`: changes when the model file or its backends change. */
  get fingerprint(): string {
    return this.print;
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
    const size = this.opts.parallel ?? 1;
    const forks = this.opts.choiceForks ?? size;
    if (!Number.isInteger(forks) || forks < 0) {
      throw new InvalidArgumentError("choiceForks must be an integer >= 0", {
        field: "choiceForks",
        actual: forks,
      });
    }
    // Continuous batching: the slots of a causal model are sequences of one context, so the
    // next token of every decoding slot and chunks of pending prompts share forward passes.
    // An encoder evaluates each input whole, and a backend that runs no multi-sequence batches
    // would leave its attention to the CPU: there the slots are plain sessions taking turns.
    const moved = movedAttention(model);
    const refusal = moved.size > 0
      ? `${[...moved.keys()].map((b) => b.name).join(", ")} runs no multi-sequence batches`
      : batchRefusal(model);
    if (model.causal && refusal) {
      this.log(`rocmforge: slots take turns (no continuous batching): ${refusal}`);
    }
    const context = !refusal
      ? createContext(model, {
        sequences: size + forks,
        contextLength: ctx,
        batchSize: this.opts.batchSize,
        gate: this.scheduler,
        log: (line) => this.log(line),
      })
      : undefined;
    this.batch = context;
    const slots = new SlotPool<Session>({
      size,
      queueSize: this.opts.queueSize ?? 64,
      create: () =>
        context?.sequence() ??
          new Session(model, {
            contextLength: ctx,
            batchSize: this.opts.batchSize,
            gate: this.scheduler,
          }),
    });
    this.id ??= modelIdFromPath(model.path);
    const t = meta(model.file, "tokenizer.chat_template");
    this.template = this.opts.chatTemplate ?? (typeof t === "string" && t !== "" ? t : undefined);
    this.print = fingerprintOf(
      `${model.path}|${model.file.dataOffset}|${ctx}|${
        [...model.kvLayers().keys()].map((b) => b.name)
      }`,
    );
    const prompts = new PromptCache({ maxTokens: this.opts.promptCacheTokens ?? ctx });
    this.loaded = { model, slots, contextLength: ctx, prompts };
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
    const stop = new ApiError(503, "shutting_down", "server is shutting down");
    this.stopAll.abort(stop);
    this.scheduler.close(stop);
    await was.slots.whenIdle();
    was.slots.dispose();
    was.prompts.dispose();
    if (opts.disposeModel ?? true) was.model.dispose();
  }
}

/** "models/foo.Q4_K.gguf" -> "foo.Q4_K". */
export function modelIdFromPath(path: string): string {
  const base = path.split(/[\\/]/).pop() ?? path;
  return base.replace(/\.gguf$/i, "") || base;
}

/** `fp_` and 12 hex digits of a 48-bit FNV-1a hash of `text`. */
export function fingerprintOf(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (const b of new TextEncoder().encode(text)) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return `fp_${(h & 0xffffffffffffn).toString(16).padStart(12, "0")}`;
}
