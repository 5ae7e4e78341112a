/**
 * Incremental matching over UTF-8 bytes: a grammar state plus the partial UTF-8 sequence a
 * token may end in (llama.cpp's `llama_partial_utf8`). Bytes are decoded strictly; a byte
 * that cannot continue or start a sequence rejects the input.
 *
 * @module
 */
import type { GrammarEngine } from "./engine.ts";

/**
 * Sequence length by lead byte; 0 for bytes that cannot start a sequence (continuations,
 * the overlong leads C0/C1, and F5-FF, which would encode beyond U+10FFFF).
 */
export const UTF8_LEN: Uint8Array = Uint8Array.from(
  { length: 256 },
  (_, b) => b < 0x80 ? 1 : b < 0xc2 ? 0 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : b < 0xf5 ? 4 : 0,
);

/** A grammar position: engine state id and the pending UTF-8 bits (remain = bytes missing). */
export interface MatchPoint {
  state: number;
  partial: number;
  remain: number;
}

/**
 * Advances `at` by one byte in place; returns false (leaving `at` unspecified) when the
 * byte is rejected.
 */
export function stepByte(engine: GrammarEngine, at: MatchPoint, b: number): boolean {
  if (at.remain === 0) {
    if (b < 0x80) {
      at.state = engine.accept(at.state, b);
      return at.state !== 0;
    }
    const len = UTF8_LEN[b];
    if (len === 0) return false;
    at.remain = len - 1;
    at.partial = b & ((1 << (7 - at.remain)) - 1);
    return true;
  }
  if ((b & 0xc0) !== 0x80) return false;
  at.partial = (at.partial << 6) | (b & 0x3f);
  if (--at.remain === 0) {
    at.state = engine.accept(at.state, at.partial);
    at.partial = 0;
    return at.state !== 0;
  }
  return true;
}

/** Whether input may stop at `at` and still be continued to a match (partial char viable). */
export function viable(engine: GrammarEngine, at: MatchPoint): boolean {
  return at.state !== 0 &&
    (at.remain === 0 || engine.canComplete(at.state, at.partial, at.remain));
}

/** A grammar's matcher over a byte stream. */
export class GrammarMatcher {
  readonly engine: GrammarEngine;
  readonly #at: MatchPoint;
  readonly #scratch: MatchPoint = { state: 0, partial: 0, remain: 0 };

  constructor(engine: GrammarEngine, at?: MatchPoint) {
    this.engine = engine;
    this.#at = at ? { ...at } : { state: engine.initial, partial: 0, remain: 0 };
  }

  /** The current position (read-only copy). */
  get point(): MatchPoint {
    return { ...this.#at };
  }

  /** True when the bytes so far form a complete match. */
  get accepting(): boolean {
    return this.#at.remain === 0 && this.engine.isAccepting(this.#at.state);
  }

  /** True when the bytes so far are a prefix of some match that may continue. */
  get viable(): boolean {
    return viable(this.engine, this.#at);
  }

  /**
   * Whether `bytes` would be accepted from here (ending mid-character counts when the
   * character can still be completed); does not change the matcher.
   */
  canAccept(bytes: Uint8Array): boolean {
    const s = this.#scratch;
    s.state = this.#at.state;
    s.partial = this.#at.partial;
    s.remain = this.#at.remain;
    for (let i = 0; i < bytes.length; i++) if (!stepByte(this.engine, s, bytes[i])) return false;
    return viable(this.engine, s);
  }

  /** Consumes `bytes` if acceptable (see canAccept) and returns true; else changes nothing. */
  acceptBytes(bytes: Uint8Array): boolean {
    if (!this.canAccept(bytes)) return false;
    Object.assign(this.#at, this.#scratch);
    return true;
  }

  /**
   * Consumes token `id` with text `bytes`: stacks waiting for a token reference (`<[id]>`,
   * `!<[id]>`) take it whole, the others read its bytes (as llama.cpp's accept_token).
   * Returns false, changing nothing, when neither path accepts it.
   */
  acceptToken(id: number, bytes: Uint8Array): boolean {
    const e = this.engine, at = this.#at;
    const byToken = at.remain === 0 ? e.acceptToken(at.state, id) : 0;
    const byText = this.canAccept(bytes);
    if (!byText && byToken === 0) return false;
    if (!byText) {
      at.state = byToken;
      return true;
    }
    Object.assign(at, this.#scratch);
    // A token path can only join a text path that ends on a character boundary.
    if (byToken !== 0 && at.remain === 0) at.state = e.union(at.state, byToken);
    return true;
  }

  /** acceptBytes of the UTF-8 encoding of `text`. */
  acceptString(text: string): boolean {
    return this.acceptBytes(new TextEncoder().encode(text));
  }

  /** Back to the start of the grammar. */
  reset(): void {
    this.#at.state = this.engine.initial;
    this.#at.partial = 0;
    this.#at.remain = 0;
  }

  /** An independent matcher at the same position. */
  clone(): GrammarMatcher {
    return new GrammarMatcher(this.engine, this.#at);
  }
}
