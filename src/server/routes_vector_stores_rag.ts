/**
 * Retrieval-augmented chat on the server: the `context` field of /v1/chat/completions
 * (`{ "store": NAME, "k": 5 }`) retrieves the top-k chunks of that vector store for the last
 * user message (src/context/rag.ts), quotes them before that message, and reports the chunk
 * ids used as the response's `context`. Needs `serve --store PATH`; without it, or for an
 * unknown store, the request is a 400 naming `context`.
 *
 * @module
 */
import { ContextError } from "../context/errors.ts";
import { type RagMessage, retrieveContext, withContext } from "../context/rag.ts";
import type { Engine } from "./engine.ts";
import { ApiError } from "./errors.ts";
import { engineEmbedder, filterOf, servedContextStore } from "./routes_vector_stores.ts";
import type { ChatContextRequest, ChatContextUsed } from "./routes_vector_stores_schemas.ts";

/** The conversation with the retrieved chunks in it, and what was used. */
export interface ChatContextResult<M extends RagMessage> {
  readonly messages: M[];
  readonly used: ChatContextUsed;
}

/** Retrieves for `req` and puts the chunks into `messages` (a copy). */
export async function chatContext<M extends RagMessage>(
  engine: Engine,
  req: ChatContextRequest,
  messages: readonly M[],
  signal?: AbortSignal,
): Promise<ChatContextResult<M>> {
  const store = servedContextStore(engine);
  if (!store) {
    throw new ApiError(
      400,
      "invalid_value",
      "context needs a server started with --store PATH",
      "context",
    );
  }
  const tok = engine.ready().model.tokenizer;
  const mode = req.mode ?? "vector";
  try {
    const query = messages.findLast((m) => m.role === "user")?.content;
    if (query === undefined) {
      throw new ApiError(400, "invalid_value", "context needs a user message", "messages");
    }
    const ctx = await retrieveContext(store, req.store, query, {
      k: req.k,
      mode,
      filter: filterOf(req.filters),
      embedder: mode === "keyword" ? undefined : engineEmbedder(engine, signal),
      signal,
      maxTokens: req.max_tokens,
      countTokens: (t) => tok.encode(t, { addSpecial: false, parseSpecial: false }).length,
    });
    return {
      messages: withContext(messages, ctx),
      used: {
        store: req.store,
        query,
        chunk_ids: [...ctx.chunkIds],
        sources: ctx.hits.map((h) => ({
          chunk_id: h.chunkId,
          file_id: `file-${h.documentId}`,
          filename: h.source,
          score: h.score,
        })),
      },
    };
  } catch (e) {
    if (!(e instanceof ContextError)) throw e;
    const param = e.code === "CONTEXT_UNKNOWN_COLLECTION" ? "context.store" : "context";
    throw new ApiError(400, "invalid_value", e.message, param, "invalid_request_error", {
      reason: e.code,
    });
  }
}
