/**
 * Retrieval-augmented generation: the top-k chunks of a collection for a query, turned into
 * the part of a prompt that quotes them with their sources, and the chunk ids that went in.
 * The block is put into the conversation's last user message (every chat template renders a
 * user message; not every one accepts a second system message):
 *
 * ```ts
 * const ctx = await retrieveContext(store, "notes", lastUserText(messages), { embedder, k: 5 });
 * const augmented = withContext(messages, ctx); // ctx.chunkIds: what the answer may cite
 * ```
 *
 * @module
 */
import { ContextError } from "./errors.ts";
import type { Embedder } from "./embedder.ts";
import { searchCollection, type SearchOptions } from "./search.ts";
import type { ContextStore } from "./store.ts";
import type { MetadataFilter, SearchHit } from "./types.ts";

/** Chunks retrieved when `k` is not given. */
export const DEFAULT_RAG_K = 5;

/** Options of {@linkcode retrieveContext}. */
export interface RagOptions {
  /** Chunks to retrieve (default {@linkcode DEFAULT_RAG_K}). */
  readonly k?: number;
  /** Search mode (default "vector"; "hybrid" adds BM25 keyword ranks). */
  readonly mode?: SearchOptions["mode"];
  readonly filter?: MetadataFilter;
  /** The collection's embedder (vector and hybrid modes). */
  readonly embedder?: Embedder;
  readonly signal?: AbortSignal;
  /**
   * Most tokens of quoted chunk text, counted with `countTokens`: chunks in rank order are
   * kept while they fit, and only those are reported as used. Default: no limit.
   */
  readonly maxTokens?: number;
  /** Token counter for `maxTokens` (default: the embedder's tokenizer). */
  readonly countTokens?: (text: string) => number;
}

/** What was retrieved and how it reads in the prompt. */
export interface RagContext {
  readonly collection: string;
  readonly query: string;
  /** The chunks quoted, best first. */
  readonly hits: readonly SearchHit[];
  /** Their ids, in the same order (the sources' numbers [1], [2], ... follow it). */
  readonly chunkIds: readonly number[];
  /** The prompt part quoting them; "" when nothing was found. */
  readonly block: string;
}

/** A chat message as the template renders it. */
export interface RagMessage {
  readonly role: string;
  readonly content: string;
}

/** The text of the conversation's last user message (the retrieval query). */
export function lastUserText(messages: readonly RagMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i].role === "user") return messages[i].content;
  }
  throw new ContextError("CONTEXT_BAD_QUERY", "retrieval needs a user message to search for", {
    actual: messages.map((m) => m.role).join(","),
  });
}

/** The prompt part quoting `hits`, numbered from 1 with source and chunk position. */
export function contextBlock(hits: readonly SearchHit[]): string {
  if (!hits.length) return "";
  const quoted = hits.map((h, i) => `[${i + 1}] ${h.source} (chunk ${h.seq})\n${h.text.trim()}`);
  return "Answer using the sources below when they are relevant; cite them by number, like [1].\n\n" +
    quoted.join("\n\n");
}

/** Retrieves the top-k chunks of `collection` for `query` and builds their prompt part. */
export async function retrieveContext(
  store: ContextStore,
  collection: string,
  query: string,
  opts: RagOptions = {},
): Promise<RagContext> {
  const k = opts.k ?? DEFAULT_RAG_K;
  const found = await searchCollection(store, collection, query, {
    k,
    mode: opts.mode ?? "vector",
    filter: opts.filter,
    embedder: opts.embedder,
    signal: opts.signal,
  });
  let hits = found;
  if (opts.maxTokens !== undefined) {
    if (!Number.isInteger(opts.maxTokens) || opts.maxTokens < 0) {
      throw new ContextError("CONTEXT_BAD_OPTION", "maxTokens must be a non-negative integer", {
        param: "maxTokens",
        actual: opts.maxTokens,
      });
    }
    const count = opts.countTokens ??
      (opts.embedder ? (t: string) => opts.embedder!.tokenize(t).length : undefined);
    if (!count) {
      throw new ContextError("CONTEXT_BAD_OPTION", "maxTokens needs countTokens or an embedder", {
        param: "countTokens",
      });
    }
    hits = [];
    let used = 0;
    for (const h of found) {
      used += count(h.text);
      if (used > opts.maxTokens) break;
      hits.push(h);
    }
  }
  return {
    collection,
    query,
    hits,
    chunkIds: hits.map((h) => h.chunkId),
    block: contextBlock(hits),
  };
}

/**
 * `messages` with the context block put before the text of the last user message (a copy;
 * unchanged when nothing was retrieved).
 */
export function withContext<M extends RagMessage>(
  messages: readonly M[],
  ctx: RagContext,
): M[] {
  const out = [...messages];
  if (!ctx.block) return out;
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i].role !== "user") continue;
    out[i] = { ...out[i], content: `${ctx.block}\n\nQuestion: ${out[i].content}` };
    return out;
  }
  throw new ContextError("CONTEXT_BAD_QUERY", "retrieval needs a user message to add to", {
    actual: messages.map((m) => m.role).join(","),
  });
}
