/**
 * A context: up to `sequences` independent sequences over one model whose evaluations share
 * forward passes (node-llama-cpp's context → sequence model). Each `Sequence` is a Session —
 * its own KV cache, positions, prefix reuse and context shift, and `generate` takes it — but
 * its batches do not run alone: every evaluation waiting when a pass starts joins it (each
 * decoding sequence's next token first, then chunks of prompts, up to `batchSize` tokens; see
 * batch.ts), so sequences generating at once cost about one pass per step instead of one per
 * sequence. A sequence whose signal aborts leaves the queue at once; one that finishes simply
 * submits nothing more.
 *
 * Matrix products and norms run over all rows of a pass; rope, attention and the last-row pick
 * run per sequence over its rows (batch_graph.ts). Backends without `multiSequence` leave those
 * nodes to the CPU (the context logs one notice line when that moves attention layers).
 *
 * @module
 */
import { contextOptionsSchema, sequenceOptionsSchema } from "./api_options.ts";
import type { Backend, KVStore } from "./backend.ts";
import { planStep } from "./batch.ts";
import { AbortError, BackendError, DisposedError, InvalidArgumentError } from "./errors.ts";
import type { OutputMode } from "./graph.ts";
import type { Model } from "./model.ts";
import { parseOptions } from "./options.ts";
import type { ForwardGate } from "./request_scheduler.ts";
import { type BatchSequence, runPlan } from "./scheduler.ts";
import { Session, type SessionOptions } from "./session.ts";
import { macrotask } from "../runtime/macrotask.ts";

/**
 * Attention layers that multi-sequence batches run elsewhere than one-sequence passes do, by
 * the backend they leave (one without `multiSequence`); empty when batching moves nothing.
 */
export function movedAttention(model: Model): Map<Backend, number> {
  const batched = model.kvLayers(true);
  const moved = new Map<Backend, number>();
  for (const [b, layers] of model.kvLayers()) {
    const n = layers.length - (batched.get(b)?.length ?? 0);
    if (n > 0) moved.set(b, n);
  }
  return moved;
}

/**
 * Why `model` cannot run multi-sequence batches (undefined when it can): an encoder, or a
 * batched node that must leave its backend (one without `multiSequence`) for one that holds
 * no part of the model (it ran every op on the device).
 */
export function batchRefusal(model: Model): string | undefined {
  if (!model.causal) {
    return `${model.architecture.name} is an encoder: it evaluates each input whole, use a Session`;
  }
  const mode = model.outputs.includes("last") ? "last" : model.outputs[0];
  const missing = model.plan(1, mode, 1).segments.map((s) => s.backend)
    .filter((b) => !model.contexts.has(b));
  if (missing.length === 0) return undefined;
  return `multi-sequence batches run rope and attention on ${
    missing[0].name
  }, which holds no part of this model (its other backends run no batched nodes); use Sessions`;
}

/** Options of createContext. */
export interface ContextOptions {
  /** Sequences the context holds at most (default 1). */
  readonly sequences?: number;
  /** Positions each sequence's KV cache holds (default: the model's context length). */
  readonly contextLength?: number;
  /** Most tokens one forward pass evaluates, over all its sequences (default 256). */
  readonly batchSize?: number;
  /** Takes each forward pass in turn (the server's RequestScheduler); default: run at once. */
  readonly gate?: ForwardGate;
  /** Receives the one-line notice when a backend leaves batched attention to another one. */
  readonly log?: (line: string) => void;
}

/** Options of one sequence. */
export interface SequenceOptions {
  /** As SessionOptions.contextShift. */
  readonly contextShift?: SessionOptions["contextShift"];
}

/** Counters of a context's forward passes. */
export interface BatchStats {
  /** Forward passes run. */
  readonly passes: number;
  /** Tokens evaluated, over all passes. */
  readonly tokens: number;
  /** Sequences taking part, summed over passes (divided by passes: sequences per pass). */
  readonly sequenceRows: number;
}

interface Job {
  readonly seq: Sequence;
  readonly tokens: readonly number[];
  readonly mode: OutputMode;
  /** Rows of every token ("all", "hidden"). */
  readonly rows: Float32Array | undefined;
  readonly signal: AbortSignal | undefined;
  done: number;
  resolve(v: Float32Array): void;
  reject(e: unknown): void;
  detach(): void;
}

/** Sequences over one model that share forward passes. */
export class BatchContext {
  readonly sequences: number;
  readonly contextLength: number;
  readonly batchSize: number;
  private readonly kvLayers: ReadonlyMap<Backend, readonly number[]>;
  private readonly live = new Set<Sequence>();
  private readonly pending: Job[] = [];
  private readonly inPass = new Set<Sequence>();
  private scheduled = false;
  private disposed = false;
  private counts = { passes: 0, tokens: 0, sequenceRows: 0 };

  constructor(readonly model: Model, private readonly opts: ContextOptions = {}) {
    this.sequences = opts.sequences ?? 1;
    this.batchSize = opts.batchSize ?? 256;
    this.contextLength = opts.contextLength ?? model.contextLength;
    for (const [field, v] of [["sequences", this.sequences], ["batchSize", this.batchSize]]) {
      if (!Number.isInteger(v) || (v as number) < 1) {
        throw new InvalidArgumentError(`${field} must be a positive integer`, {
          field: field as string,
          actual: v,
        });
      }
    }
    const refusal = batchRefusal(model);
    if (refusal) {
      throw new BackendError("BACKEND_UNSUPPORTED_OP", refusal, {
        actual: model.architecture.name,
      });
    }
    this.kvLayers = model.kvLayers(true);
    for (const [b, moved] of movedAttention(model)) {
      opts.log?.(
        `rocmforge: multi-sequence batches run attention of ${moved} layers off ${b.name} (it takes no batched nodes)`,
      );
    }
  }

  /** Passes, tokens and sequences evaluated so far. */
  get stats(): BatchStats {
    return { ...this.counts };
  }

  /** Sequences that can still be created. */
  get sequencesLeft(): number {
    return this.sequences - this.live.size;
  }

  /** A new sequence (empty cache); throws when `sequences` are in use. */
  sequence(opts: SequenceOptions = {}): Sequence {
    parseOptions(sequenceOptionsSchema, opts, "sequence option");
    if (this.disposed || this.model.isDisposed) throw new DisposedError("context was disposed");
    if (this.live.size >= this.sequences) {
      throw new InvalidArgumentError(`all ${this.sequences} sequences of the context are in use`, {
        field: "sequences",
        expected: this.sequences,
        actual: this.live.size + 1,
      });
    }
    const s = new Sequence(this, this.kvLayers, {
      contextLength: this.contextLength,
      batchSize: this.batchSize,
      ...(opts.contextShift ? { contextShift: opts.contextShift } : {}),
    }, () => this.drop(s));
    this.live.add(s);
    return s;
  }

  /** Frees every sequence; pending evaluations fail with DisposedError. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.fail(this.pending.slice(), new DisposedError("context was disposed"));
    for (const s of [...this.live]) s.dispose();
  }

  /** True while a pass that includes `seq` runs (its cache must stay allocated). */
  inUse(seq: Sequence): boolean {
    return this.inPass.has(seq);
  }

  /** Queues an evaluation of `seq` (called by Sequence.forward). */
  submit(
    seq: Sequence,
    tokens: readonly number[],
    mode: OutputMode,
    signal: AbortSignal | undefined,
  ): Promise<Float32Array> {
    if (signal?.aborted) return Promise.reject(new AbortError("evaluation aborted"));
    if (this.pending.some((j) => j.seq === seq)) {
      return Promise.reject(
        new InvalidArgumentError("a sequence evaluates one batch at a time", { field: "eval" }),
      );
    }
    const c = this.model.config;
    const width = mode === "hidden" ? c.embeddingLength : c.vocabSize;
    return new Promise<Float32Array>((resolve, reject) => {
      const onAbort = () => {
        if (this.remove(job)) reject(new AbortError("evaluation aborted"));
      };
      const job: Job = {
        seq,
        tokens,
        mode,
        rows: mode === "last" ? undefined : new Float32Array(tokens.length * width),
        signal,
        done: 0,
        resolve,
        reject,
        detach: () => signal?.removeEventListener("abort", onAbort),
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.pending.push(job);
      this.schedule();
    });
  }

  private drop(s: Sequence): void {
    this.live.delete(s);
    this.fail(this.pending.filter((j) => j.seq === s), new DisposedError("sequence was disposed"));
  }

  private remove(job: Job): boolean {
    const i = this.pending.indexOf(job);
    if (i < 0) return false;
    this.pending.splice(i, 1);
    job.detach();
    return true;
  }

  private fail(jobs: readonly Job[], e: unknown): void {
    for (const j of jobs) if (this.remove(j)) j.reject(e);
  }

  private schedule(): void {
    if (this.scheduled || this.pending.length === 0) return;
    this.scheduled = true;
    const run = async () => {
      try {
        await this.step();
      } finally {
        this.scheduled = false;
        this.schedule();
      }
    };
    const gate = this.opts.gate;
    const done = gate ? gate.run(run, undefined, "forward") : macrotask().then(run);
    done.catch((e) => {
      // The gate refused the pass (closed): nothing queued can run.
      this.scheduled = false;
      this.fail(this.pending.slice(), e);
    });
  }

  /** One forward pass over what is pending now. */
  private async step(): Promise<void> {
    for (const j of this.pending.slice()) {
      if (j.signal?.aborted && this.remove(j)) j.reject(new AbortError("evaluation aborted"));
    }
    if (this.pending.length === 0) return;
    const mode = this.pending[0].mode;
    const group = this.pending.filter((j) => j.mode === mode);
    const take = planStep(
      group.map((j) => j.tokens.length - j.done),
      this.batchSize,
      this.sequences,
    );
    const jobs = group.filter((_, i) => take[i] > 0);
    const chunks = jobs.map((j) => j.tokens.slice(j.done, j.done + take[group.indexOf(j)]));
    const seqs: BatchSequence[] = jobs.map((j, i) => ({
      rows: chunks[i].length,
      pos0: j.seq.nPast,
      kv: j.seq.caches,
    }));
    const tokens = Int32Array.from(chunks.flat());
    let out: Float32Array;
    for (const j of jobs) this.inPass.add(j.seq);
    try {
      const plan = this.model.plan(tokens.length, mode, jobs.length);
      out = await runPlan(plan, {
        contexts: this.model.contexts,
        kv: new Map(),
        tokens,
        pos0: 0,
        sequences: seqs,
      });
    } catch (e) {
      this.fail(jobs, e);
      return;
    } finally {
      // A sequence disposed during the pass frees its cache now that nothing reads it.
      for (const q of this.inPass) q.passEnded();
      this.inPass.clear();
    }
    this.counts.passes++;
    this.counts.tokens += tokens.length;
    this.counts.sequenceRows += jobs.length;
    const width = out.length / (mode === "last" ? jobs.length : tokens.length);
    let row0 = 0;
    jobs.forEach((j, i) => {
      const chunk = chunks[i];
      j.seq.advance(chunk);
      if (j.rows) {
        j.rows.set(out.subarray(row0 * width, (row0 + chunk.length) * width), j.done * width);
      }
      j.done += chunk.length;
      row0 += chunk.length;
      if (j.done < j.tokens.length) return;
      this.remove(j);
      j.resolve(j.rows ?? out.slice(i * width, (i + 1) * width));
    });
  }
}

/**
 * One sequence of a BatchContext: a Session whose forward batches join the context's shared
 * passes. Disposing it frees its cache and its place in the context.
 */
export class Sequence extends Session {
  constructor(
    readonly context: BatchContext,
    kvLayers: ReadonlyMap<Backend, readonly number[]>,
    opts: SessionOptions,
    private readonly onDispose: () => void,
  ) {
    super(context.model, opts, kvLayers);
  }

  /** The sequence's KV caches by backend (for the context's passes). */
  get caches(): ReadonlyMap<Backend, KVStore> {
    return this.kv;
  }

  /** A sequence's passes are the context's shared ones, never the device's greedy loop. */
  override get canDecodeGreedy(): boolean {
    return false;
  }

  /** Records tokens a pass has cached (called by the context). */
  advance(tokens: readonly number[]): void {
    this.history.push(...tokens);
  }

  protected override forward(
    tokens: readonly number[],
    logits: OutputMode,
    signal?: AbortSignal,
  ): Promise<Float32Array> {
    this.assertLive();
    return this.context.submit(this, tokens, logits, signal);
  }

  private disposeLater = false;

  /** Frees the cache (once the pass that reads it, if one runs, ends) and its place. */
  override dispose(): void {
    if (this.context.inUse(this)) this.disposeLater = true;
    else super.dispose();
    this.onDispose();
  }

  protected override assertLive(): void {
    if (this.disposeLater) throw new DisposedError("sequence was disposed");
    super.assertLive();
  }

  /** Called by the context after each pass that included this sequence. */
  passEnded(): void {
    if (!this.disposeLater) return;
    this.disposeLater = false;
    super.dispose();
  }
}

/**
 * A context of `opts.sequences` sequences over `model` (see BatchContext); options are checked
 * strictly (unknown keys are errors).
 */
export function createContext(model: Model, opts: ContextOptions = {}): BatchContext {
  parseOptions(contextOptionsSchema, opts, "context option");
  return new BatchContext(model, opts);
}
