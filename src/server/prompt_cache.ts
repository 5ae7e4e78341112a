/**
 * The server's prompt cache: before a slot evaluates a prompt, it takes the longest cached
 * prefix of that prompt from wherever one is — its own cache, another idle slot, or a bounded
 * store of prefixes that slots evicted — by copying KV cells (`Session.adoptPrefix`). When a
 * new prompt would overwrite a slot's cached tokens, those tokens are first saved to the
 * store (least recently used entries leave to keep it within `maxTokens`). Backends that
 * cannot copy caches (`BackendContext.copyKV` absent) keep today's per-slot reuse only.
 *
 * @module
 */
import { commonPrefix } from "../core/generate.ts";
import { Session } from "../core/session.ts";

/** Prompt cache options. */
export interface PromptCacheOptions {
  /** Cached tokens the store holds at most, over all entries (0 disables the store). */
  readonly maxTokens: number;
  /** Shortest prefix worth saving or copying (default 16). */
  readonly minTokens?: number;
}

interface Entry {
  readonly session: Session;
  used: number;
}

/** Evicted prompt prefixes, and the choice of the longest prefix to reuse. */
export class PromptCache {
  private readonly entries: Entry[] = [];
  private tick = 0;
  private readonly minTokens: number;

  constructor(private readonly opts: PromptCacheOptions) {
    this.minTokens = opts.minTokens ?? 16;
  }

  /** Tokens held in the store. */
  get tokens(): number {
    return this.entries.reduce((a, e) => a + e.session.nPast, 0);
  }

  /** Entries held in the store. */
  get size(): number {
    return this.entries.length;
  }

  /**
   * Readies `session` for `prompt`: when the prompt would overwrite more than `minTokens` of
   * its cache, that cache goes to the store first; then, when another idle session (`donors`)
   * or an entry shares a longer prefix with the prompt than `session` does, that prefix is
   * copied in. Returns the prompt tokens now cached (the last prompt token is never counted:
   * it is evaluated for its logits).
   */
  prepare(session: Session, prompt: readonly number[], donors: readonly Session[]): number {
    const limit = prompt.length - 1;
    const own = Math.min(commonPrefix(session.tokens, prompt), limit);
    if (!session.canCopyKV) return own;
    if (session.nPast - own >= this.minTokens) this.save(session);
    let best: Session | undefined;
    let len = own;
    const candidates = [...donors, ...this.entries.map((e) => e.session)];
    for (const d of candidates) {
      if (d === session) continue;
      const l = Math.min(commonPrefix(d.tokens, prompt), limit);
      if (l > len) [best, len] = [d, l];
    }
    if (!best || len - own < this.minTokens) return own;
    const entry = this.entries.find((e) => e.session === best);
    if (entry) entry.used = ++this.tick;
    return session.adoptPrefix(best, len) ? len : own;
  }

  /** Saves a copy of `session`'s cached tokens (unless an entry already holds them). */
  save(session: Session): void {
    const n = session.nPast;
    if (n < this.minTokens || n > this.opts.maxTokens) return;
    const t = session.tokens;
    if (this.entries.some((e) => commonPrefix(e.session.tokens, t) === n)) return;
    // Entries that are prefixes of this one are superseded by it.
    for (
      const e of this.entries.filter((e) => commonPrefix(e.session.tokens, t) === e.session.nPast)
    ) {
      this.drop(e);
    }
    while (this.entries.length && this.tokens + n > this.opts.maxTokens) {
      this.drop(this.entries.reduce((a, b) => a.used <= b.used ? a : b));
    }
    const copy = new Session(session.model, { contextLength: n }, session.kvLayers);
    if (!copy.adoptPrefix(session, n)) {
      copy.dispose();
      return;
    }
    this.entries.push({ session: copy, used: ++this.tick });
  }

  /** Frees every entry. */
  dispose(): void {
    for (const e of this.entries.splice(0)) e.session.dispose();
  }

  private drop(e: Entry): void {
    const i = this.entries.indexOf(e);
    if (i >= 0) this.entries.splice(i, 1);
    e.session.dispose();
  }
}
