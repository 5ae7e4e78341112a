/**
 * A session: one conversation's KV cache and position over a shared Model. Evaluates token
 * batches (prompt reuse by common prefix, optional context shift) and generates text.
 *
 * @module
 */
import type { Backend, BackendContext, KVStore } from "./backend.ts";
import {
  AbortError,
  BackendError,
  ContextOverflowError,
  DisposedError,
  InvalidArgumentError,
} from "./errors.ts";
import { OUTPUT_MODES, type OutputMode } from "./graph.ts";
import type { Model } from "./model.ts";
import type { ForwardGate } from "./request_scheduler.ts";
import { runPlan } from "./scheduler.ts";

/** Session options. */
export interface SessionOptions {
  /** Positions the KV cache holds (default: the model's context length). */
  readonly contextLength?: number;
  /**
   * Opt-in context shift: when the context is full, keep the first `keep` tokens, drop the
   * oldest half of the rest, and continue. Without it, overflowing is a ContextOverflowError.
   */
  readonly contextShift?: { readonly keep: number };
  /** Largest batch evaluated in one forward pass (default 256). */
  readonly batchSize?: number;
  /**
   * Takes each forward batch in turn (the server's RequestScheduler): the compute lock is
   * held per batch, and a signal that aborts while a batch waits rejects it at once.
   */
  readonly gate?: ForwardGate;
}

/** A conversation state over a model. */
export class Session {
  readonly contextLength: number;
  /** This session's KV cache on each backend that holds attention layers. */
  protected readonly kv = new Map<Backend, KVStore>();
  protected history: number[] = [];
  /** Tokens a context shift kept that are not in the cache yet (evaluated before the next batch). */
  private replay: number[] = [];
  private readonly batch: number;
  private disposed = false;

  /**
   * `kvLayers`: the layers whose KV cache each backend holds (default: where the model's
   * one-sequence plans run attention; a context's sequences pass those of batched plans).
   */
  constructor(
    readonly model: Model,
    readonly opts: SessionOptions = {},
    kvLayers: ReadonlyMap<Backend, readonly number[]> = model.kvLayers(),
  ) {
    this.contextLength = opts.contextLength ?? model.contextLength;
    if (!Number.isInteger(this.contextLength) || this.contextLength < 1) {
      throw new InvalidArgumentError(`contextLength must be a positive integer`, {
        actual: this.contextLength,
      });
    }
    this.batch = opts.batchSize ?? 256;
    const c = model.config;
    for (const [b, layers] of kvLayers) {
      const context = model.contexts.get(b);
      if (!context) {
        throw new BackendError("BACKEND_CALL_FAILED", `backend ${b.name} holds no weights`);
      }
      this.kv.set(
        b,
        context.createKV({
          layers,
          capacity: this.contextLength,
          nHeadKV: c.headCountKV,
          headDim: c.keyLength,
          valueDim: c.valueLength,
          types: model.kvTypes,
        }),
      );
    }
  }

  /** Tokens whose keys and values are in the cache. */
  get tokens(): readonly number[] {
    return this.history;
  }

  /** Number of positions used. */
  get nPast(): number {
    return this.history.length;
  }

  /** The layers whose KV cache each backend holds for this session. */
  get kvLayers(): Map<Backend, readonly number[]> {
    return new Map([...this.kv].map(([b, kv]) => [b, kv.spec.layers] as const));
  }

  /** True when every backend holding this session's cache can copy caches (adoptPrefix). */
  get canCopyKV(): boolean {
    return [...this.kv.keys()].every((b) => this.model.contexts.get(b)?.copyKV !== undefined);
  }

  /**
   * Takes the first `n` cached tokens of `from` (a session of the same model and cache
   * layout): their KV cells are copied into this session's cache, which then holds exactly
   * those tokens. Returns false, changing nothing, when the layouts differ, `from` holds
   * fewer than `n` tokens, `n` exceeds this context, or a backend cannot copy caches.
   */
  adoptPrefix(from: Session, n: number): boolean {
    this.assertLive();
    from.assertLive();
    if (
      from.model !== this.model || !Number.isInteger(n) || n < 0 ||
      n > from.history.length || n > this.contextLength || from.kv.size !== this.kv.size ||
      !this.canCopyKV
    ) return false;
    const pairs: [Backend, KVStore, KVStore][] = [];
    for (const [b, dst] of this.kv) {
      const src = from.kv.get(b);
      const same = src && src.spec.layers.length === dst.spec.layers.length &&
        src.spec.layers.every((l, i) => l === dst.spec.layers[i]);
      if (!same) return false;
      pairs.push([b, src, dst]);
    }
    for (const [b, src, dst] of pairs) this.model.contexts.get(b)!.copyKV!(src, dst, n);
    this.history = from.history.slice(0, n);
    this.replay = [];
    return true;
  }

  /**
   * True when greedy steps can run on the device in one go (`decodeGreedy`): the model is
   * causal, one backend context runs every node of its one-token plan, holds this session's
   * whole cache and offers `decodeGreedy`, and no context shift is set. Subclasses whose
   * forward passes go elsewhere (a context's sequences) answer false.
   */
  get canDecodeGreedy(): boolean {
    return this.greedyContext() !== undefined;
  }

  private greedyContext(): Required<Pick<BackendContext, "decodeGreedy">> | undefined {
    if (this.opts.contextShift || !this.model.causal || this.kv.size !== 1) return undefined;
    const plan = this.model.plan(1, "last");
    const seg = plan.segments.length === 1 ? plan.segments[0] : undefined;
    if (!seg || seg.nodes.length !== plan.graph.nodes.length || !this.kv.has(seg.backend)) {
      return undefined;
    }
    const ctx = this.model.contexts.get(seg.backend);
    return ctx?.decodeGreedy ? ctx as Required<Pick<BackendContext, "decodeGreedy">> : undefined;
  }

  /**
   * `steps` greedy steps on the device (see canDecodeGreedy): evaluates `token` after the
   * cached tokens, then each picked token but the last; returns the `steps` picks. The cache
   * then holds `token` and the first `steps - 1` picks, as `steps` calls of `eval([t])`
   * each followed by an argmax would leave it.
   */
  async decodeGreedy(token: number, steps: number): Promise<number[]> {
    this.assertLive();
    const ctx = this.canDecodeGreedy ? this.greedyContext() : undefined;
    if (!ctx) {
      throw new InvalidArgumentError("this session cannot decode greedily on the device", {
        field: "decodeGreedy",
      });
    }
    if (!Number.isInteger(steps) || steps < 1) {
      throw new InvalidArgumentError("steps must be a positive integer", {
        field: "steps",
        actual: steps,
      });
    }
    if (this.history.length + steps > this.contextLength) throw this.overflow(steps);
    const plan = this.model.plan(1, "last");
    const kv = this.kv.get(plan.segments[0].backend)!;
    const pos0 = this.history.length;
    const step = () =>
      ctx.decodeGreedy({ graph: plan.graph, kv, token, pos0, steps, stepsPerSubmit: steps });
    const gate = this.opts.gate;
    const picked = Array.from(gate ? await gate.run(step, undefined, "forward") : await step());
    this.history.push(token, ...picked.slice(0, steps - 1));
    return picked;
  }

  /** Forgets everything (positions restart at 0). */
  reset(): void {
    this.history = [];
    this.replay = [];
  }

  /**
   * Drops cached tokens after `n` (keeps the first n), e.g. to reuse a common prompt
   * prefix.
   */
  truncate(n: number): void {
    this.history = this.history.slice(0, Math.max(0, n));
    this.replay = [];
  }

  /**
   * Evaluates `tokens` after the cached ones. Returns logits: for "last", the last token's
   * row [vocab]; for "all", one row per given token [tokens.length * vocab]; for "hidden",
   * each token's final normalized hidden state [tokens.length * embeddingLength].
   */
  async eval(
    tokens: readonly number[],
    logits: OutputMode = "last",
    opts: { signal?: AbortSignal } = {},
  ): Promise<Float32Array> {
    this.assertLive();
    if (!OUTPUT_MODES.includes(logits)) {
      throw new InvalidArgumentError(
        `output mode ${String(logits)} is not one of ${OUTPUT_MODES}`,
        {
          field: "logits",
          expected: OUTPUT_MODES,
          actual: logits,
        },
      );
    }
    if (tokens.length === 0) {
      throw new InvalidArgumentError("eval needs at least one token", { actual: 0 });
    }
    const vocab = this.model.config.vocabSize;
    for (const t of tokens) {
      if (!Number.isInteger(t) || t < 0 || t >= vocab) {
        throw new InvalidArgumentError(`token id ${t} is outside the vocabulary`, {
          expected: `0..${vocab - 1}`,
          actual: t,
        });
      }
    }
    if (this.history.length + this.replay.length + tokens.length > this.contextLength) {
      this.makeRoom(tokens.length);
    }
    // A shift leaves history that is no longer in the cache: re-evaluate it first. If that
    // is aborted part-way, what was not evaluated stays pending.
    if (this.replay.length) {
      const pending = this.replay;
      this.replay = [];
      try {
        await this.forward(pending, "last", opts.signal);
      } catch (e) {
        this.replay = pending.slice(this.history.length);
        throw e;
      }
    }
    return await this.forward(tokens, logits, opts.signal);
  }

  private makeRoom(incoming: number): void {
    const shift = this.opts.contextShift;
    if (!shift) throw this.overflow(incoming);
    const held = [...this.history, ...this.replay];
    const keep = Math.min(shift.keep, held.length);
    const rest = held.length - keep;
    let discard = Math.max(Math.floor(rest / 2), held.length + incoming - this.contextLength);
    discard = Math.min(discard, rest);
    const kept = [...held.slice(0, keep), ...held.slice(keep + discard)];
    if (kept.length + incoming > this.contextLength) throw this.overflow(incoming);
    this.history = [];
    this.replay = kept;
  }

  private overflow(incoming: number): ContextOverflowError {
    return new ContextOverflowError(
      `context of ${this.contextLength} tokens exceeded: ${this.history.length} cached + ${incoming} new`,
      { expected: this.contextLength, actual: this.history.length + incoming },
    );
  }

  /**
   * Evaluates tokens after the cached ones (no shift, no checks: eval did them), in batches,
   * and appends them to the history as each batch is cached.
   */
  protected async forward(
    tokens: readonly number[],
    logits: OutputMode,
    signal?: AbortSignal,
  ): Promise<Float32Array> {
    const width = logits === "hidden"
      ? this.model.config.embeddingLength
      : this.model.config.vocabSize;
    const all = logits !== "last" ? new Float32Array(tokens.length * width) : undefined;
    let last: Float32Array | undefined;
    // An encoder sees its whole input in one non-causal batch from position 0.
    const encoder = !this.model.causal;
    if (encoder && this.history.length > 0) this.history = [];
    const batch = encoder ? tokens.length : this.batch;
    for (let i = 0; i < tokens.length; i += batch) {
      // A long prompt stops between batches; what was evaluated stays cached.
      if (signal?.aborted) throw new AbortError("evaluation aborted");
      const chunk = tokens.slice(i, i + batch);
      const isLast = i + batch >= tokens.length;
      const plan = this.model.plan(chunk.length, logits);
      const step = () =>
        runPlan(plan, {
          contexts: this.model.contexts,
          kv: this.kv,
          tokens: Int32Array.from(chunk),
          pos0: this.history.length,
        });
      const gate = this.opts.gate;
      const out = gate ? await gate.run(step, signal, "forward") : await step();
      this.history.push(...chunk);
      if (all) all.set(out, i * width);
      else if (isLast) last = out;
    }
    return all ?? last!;
  }

  /** Throws DisposedError once the session or its model was disposed. */
  protected assertLive(): void {
    if (this.disposed || this.model.isDisposed) {
      throw new DisposedError("session or model was disposed");
    }
  }

  /** Frees the KV cache. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const kv of this.kv.values()) kv.dispose();
  }
}
