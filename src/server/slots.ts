/**
 * The slot pool: up to `size` sessions generate at once, each slot keeping its own session
 * (so a follow-up request that shares a prompt prefix with what a slot last saw reuses that
 * slot's KV cache). Further requests wait in a bounded FIFO queue (429 when full); a waiter
 * whose signal aborts leaves the queue.
 *
 * @module
 */
import { AbortError, InvalidArgumentError } from "../core/errors.ts";
import { commonPrefix } from "../core/generate.ts";
import { ApiError } from "./errors.ts";

/** What a slot holds: anything with a token history that can be disposed (a Session). */
export interface SlotSession {
  readonly tokens: readonly number[];
  dispose(): void;
}

/** A slot handed to one request; `release()` returns it (idempotent). */
export interface Lease<S> {
  /** Slot index. */
  readonly slot: number;
  readonly session: S;
  release(): void;
}

/** Slot pool options. */
export interface SlotPoolOptions<S> {
  /** Slots (sessions generating at once), >= 1. */
  readonly size: number;
  /** Requests allowed to wait for a slot, >= 0. */
  readonly queueSize: number;
  /** Creates a slot's session the first time the slot is used. */
  readonly create: () => S;
}

interface Slot<S> {
  readonly id: number;
  session: S | undefined;
  busy: boolean;
  lastUsed: number;
}

interface Waiter<S> {
  /** The slot asked for, or undefined for any. */
  readonly want: number | undefined;
  resolve(l: Lease<S>): void;
  reject(e: unknown): void;
  cleanup(): void;
}

/** A fixed set of sessions with a bounded wait queue. */
export class SlotPool<S extends SlotSession> {
  private readonly slots: Slot<S>[];
  private readonly waiters: Waiter<S>[] = [];
  private readonly idleWaiters: (() => void)[] = [];
  private tick = 0;
  private closed = false;
  readonly queueSize: number;

  constructor(private readonly opts: SlotPoolOptions<S>) {
    if (!Number.isInteger(opts.size) || opts.size < 1) {
      throw new InvalidArgumentError("slot count must be an integer >= 1", {
        field: "parallel",
        actual: opts.size,
      });
    }
    if (!Number.isInteger(opts.queueSize) || opts.queueSize < 0) {
      throw new InvalidArgumentError("queue size must be an integer >= 0", {
        field: "queue",
        actual: opts.queueSize,
      });
    }
    this.queueSize = opts.queueSize;
    this.slots = Array.from({ length: opts.size }, (_, id) => ({
      id,
      session: undefined,
      busy: false,
      lastUsed: 0,
    }));
  }

  /** Number of slots. */
  get size(): number {
    return this.slots.length;
  }

  /** Slots in use. */
  get active(): number {
    return this.slots.filter((s) => s.busy).length;
  }

  /** Requests waiting for a slot. */
  get queued(): number {
    return this.waiters.length;
  }

  /** The sessions of idle slots (prompt-cache donors). */
  idleSessions(): S[] {
    return this.slots.flatMap((s) => !s.busy && s.session ? [s.session] : []);
  }

  /** Each slot's state, for GET /slots. */
  describe(): { id: number; busy: boolean; cachedTokens: number }[] {
    return this.slots.map((s) => ({
      id: s.id,
      busy: s.busy,
      cachedTokens: s.session?.tokens.length ?? 0,
    }));
  }

  /**
   * Takes a free slot (slot `want` when given, else the one whose cached tokens share the
   * longest prefix with `prompt`), or waits for one. Rejects with a 429 ApiError when the
   * queue is full, a 400 for a slot that does not exist, a 503 once closed, and an AbortError
   * when `signal` aborts while waiting.
   */
  acquire(prompt: readonly number[], signal?: AbortSignal, want?: number): Promise<Lease<S>> {
    if (this.closed) return Promise.reject(shuttingDown());
    if (signal?.aborted) return Promise.reject(new AbortError("request cancelled while queued"));
    if (want !== undefined && (!Number.isInteger(want) || want < 0 || want >= this.size)) {
      return Promise.reject(
        new ApiError(
          400,
          "invalid_value",
          `id_slot ${want} does not exist (slots 0..${this.size - 1})`,
          "id_slot",
        ),
      );
    }
    const free = want === undefined
      ? this.pick(prompt)
      : this.slots[want].busy
      ? undefined
      : this.slots[want];
    if (free) {
      try {
        return Promise.resolve(this.lease(free));
      } catch (e) {
        return Promise.reject(e);
      }
    }
    if (this.waiters.length >= this.queueSize) {
      return Promise.reject(
        new ApiError(
          429,
          "queue_full",
          `server busy: all ${this.size} slots are generating and ${this.queueSize} requests are queued; retry later`,
          null,
          "rate_limit_error",
          { expected: this.queueSize, actual: this.waiters.length + 1 },
        ),
      );
    }
    return new Promise<Lease<S>>((resolve, reject) => {
      const onAbort = () => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new AbortError("request cancelled while queued"));
      };
      const w: Waiter<S> = {
        want,
        resolve,
        reject,
        cleanup: () => signal?.removeEventListener("abort", onAbort),
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(w);
    });
  }

  /** Resolves once no slot is in use. */
  whenIdle(): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Refuses new requests and fails every queued one with 503. */
  close(): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) {
      w.cleanup();
      w.reject(shuttingDown());
    }
  }

  /** Disposes the sessions of idle slots (busy ones are disposed when released after close). */
  dispose(): void {
    this.close();
    for (const s of this.slots) {
      if (!s.busy) {
        s.session?.dispose();
        s.session = undefined;
      }
    }
  }

  private pick(prompt: readonly number[]): Slot<S> | undefined {
    let best: Slot<S> | undefined;
    let bestLen = -1;
    for (const s of this.slots) {
      if (s.busy) continue;
      const len = s.session ? commonPrefix(s.session.tokens, prompt) : 0;
      if (len > bestLen || (len === bestLen && best && s.lastUsed < best.lastUsed)) {
        best = s;
        bestLen = len;
      }
    }
    return best;
  }

  private lease(slot: Slot<S>): Lease<S> {
    slot.session ??= this.opts.create();
    slot.busy = true;
    slot.lastUsed = ++this.tick;
    let released = false;
    return {
      slot: slot.id,
      session: slot.session,
      release: () => {
        if (released) return;
        released = true;
        this.release(slot);
      },
    };
  }

  private release(slot: Slot<S>): void {
    const i = this.waiters.findIndex((w) => w.want === undefined || w.want === slot.id);
    const next = i >= 0 ? this.waiters.splice(i, 1)[0] : undefined;
    if (next && !this.closed) {
      next.cleanup();
      next.resolve(this.lease(slot));
      return;
    }
    slot.busy = false;
    if (this.closed) {
      slot.session?.dispose();
      slot.session = undefined;
    }
    if (this.active === 0) { for (const r of this.idleWaiters.splice(0)) r(); }
  }
}

function shuttingDown(): ApiError {
  return new ApiError(503, "shutting_down", "server is shutting down", null, "unavailable_error");
}
