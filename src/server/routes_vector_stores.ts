/**
 * Vector stores over the context store (served when `serve --store PATH`):
 * `POST/GET /v1/vector_stores`, `GET/DELETE /v1/vector_stores/{id}`,
 * `POST/GET /v1/vector_stores/{id}/files`, `DELETE /v1/vector_stores/{id}/files/{file}`,
 * `POST /v1/vector_stores/{id}/search`. A vector store is a collection (its id is its name);
 * texts are embedded by the served model (mean-pooled hidden states), through the same slots
 * as every other request. Context-store errors become 404 (unknown store or file) or 400.
 *
 * Mount after createApp, so authentication, metrics and error handling apply:
 * `registerVectorStores(app, engine, store)`.
 *
 * @module
 */
import type { Context, Hono } from "../deps/hono.ts";
import type { Embedder } from "../context/embedder.ts";
import { ContextError, NOT_FOUND_CODES } from "../context/errors.ts";
import { ingestSource } from "../context/ingest.ts";
import { poolNormalize } from "../context/pooling.ts";
import { searchCollection } from "../context/search.ts";
import { textSource } from "../context/sources.ts";
import { ContextStore } from "../context/store.ts";
import type { CollectionInfo, DocumentInfo, MetadataFilter } from "../context/types.ts";
import { resolvePath } from "../runtime/context_io.ts";
import type { Engine } from "./engine.ts";
import { ApiError } from "./errors.ts";
import {
  type VectorStore,
  VectorStoreCreateRequest,
  type VectorStoreFile,
  VectorStoreFileCreateRequest,
  VectorStoreSearchRequest,
  type VectorStoreSearchResults,
} from "./routes_vector_stores_schemas.ts";

/** The served model as an Embedder named by its absolute path (as the CLI names it). */
export function engineEmbedder(engine: Engine, signal?: AbortSignal): Embedder {
  const ready = engine.ready();
  const tok = ready.model.tokenizer;
  const dim = ready.model.config.embeddingLength;
  const maxTokens = ready.contextLength;
  return {
    model: resolvePath(ready.model.path),
    dimension: dim,
    maxTokens,
    tokenize: (t) => tok.encode(t, { addSpecial: false, parseSpecial: false }),
    detokenize: (ids) => tok.decode(ids),
    async embed(texts) {
      const out: Float32Array[] = [];
      for (const text of texts) {
        let ids = tok.encode(text, { addSpecial: true, parseSpecial: false }).slice(0, maxTokens);
        if (!ids.length) ids = [tok.bos ?? 0];
        const lease = await ready.slots.acquire(ids, signal);
        let hidden: Float32Array;
        try {
          lease.session.reset();
          hidden = await lease.session.eval(ids, "hidden", { signal });
        } finally {
          lease.release();
        }
        engine.metrics.promptTokens += ids.length;
        out.push(poolNormalize(hidden, ids.length, dim));
      }
      return out;
    },
  };
}

/** A context-store error as an HTTP error. */
export function contextApiError(e: ContextError): ApiError {
  const param = typeof e.facts.param === "string" ? e.facts.param : null;
  return NOT_FOUND_CODES.has(e.code)
    ? new ApiError(404, "not_found", e.message, param)
    : new ApiError(400, "invalid_value", e.message, param, "invalid_request_error", {
      reason: e.code,
    });
}

function vectorStore(c: CollectionInfo, docs: DocumentInfo[]): VectorStore {
  return {
    id: c.name,
    object: "vector_store",
    created_at: c.createdAt,
    name: c.name,
    usage_bytes: docs.reduce((a, d) => a + d.bytes, 0),
    file_counts: {
      in_progress: 0,
      completed: docs.length,
      failed: 0,
      cancelled: 0,
      total: docs.length,
    },
    status: "completed",
    metadata: c.metadata,
    embedding_model: c.embedModel,
    dimensions: c.dimension,
  };
}

function file(
  storeId: string,
  d: DocumentInfo,
  result: VectorStoreFile["result"],
): VectorStoreFile {
  return {
    id: `file-${d.id}`,
    object: "vector_store.file",
    created_at: d.createdAt,
    vector_store_id: storeId,
    filename: d.source,
    status: "completed",
    usage_bytes: d.bytes,
    chunks: d.chunks,
    attributes: d.metadata,
    result,
  };
}

/** A search request's `filters` as a metadata filter. */
export function filterOf(f: VectorStoreSearchRequest["filters"]): MetadataFilter | undefined {
  if (!f) return undefined;
  const list = f.type === "and" ? f.filters : [f];
  const out: Record<string, string | number | boolean> = {};
  for (const x of list) out[x.key] = x.value;
  return out;
}

type Handler = (c: Context) => Promise<Response>;

const param = (c: Context, name: string): string => c.req.param(name) ?? "";

const served = new WeakMap<Engine, ContextStore>();

/** The context store mounted for `engine` (retrieval-augmented chat reads it). */
export function servedContextStore(engine: Engine): ContextStore | undefined {
  return served.get(engine);
}

/** Registers the vector-store routes on `app`. */
export function registerVectorStores(app: Hono, engine: Engine, store: ContextStore): void {
  served.set(engine, store);
  const wrap = (h: Handler): Handler => async (c) => {
    try {
      return await h(c);
    } catch (e) {
      throw e instanceof ContextError ? contextApiError(e) : e;
    }
  };
  const info = (id: string) => {
    const c = store.listCollections().find((x) => x.name === id) ?? store.collection(id);
    return vectorStore(c as CollectionInfo, store.documents(id));
  };

  app.post(
    "/v1/vector_stores",
    wrap(async (c) => {
      const body = await engine.parse(c.req.raw, VectorStoreCreateRequest);
      const e = engineEmbedder(engine);
      const st = body.chunking_strategy?.type === "static"
        ? body.chunking_strategy.static
        : undefined;
      store.createCollection({
        name: body.name,
        embedModel: e.model,
        dimension: e.dimension,
        metric: body.metric,
        chunkTokens: st?.max_chunk_size_tokens,
        chunkOverlap: st?.chunk_overlap_tokens,
        metadata: body.metadata,
      });
      return c.json(info(body.name));
    }),
  );
  app.get(
    "/v1/vector_stores",
    wrap((c) => {
      const data = store.listCollections().map((x) => vectorStore(x, store.documents(x.name)));
      return Promise.resolve(c.json({
        object: "list",
        data,
        first_id: data[0]?.id ?? null,
        last_id: data.at(-1)?.id ?? null,
        has_more: false,
      }));
    }),
  );
  app.get("/v1/vector_stores/:id", wrap((c) => Promise.resolve(c.json(info(param(c, "id"))))));
  app.delete(
    "/v1/vector_stores/:id",
    wrap(async (c) => {
      const id = param(c, "id");
      await store.deleteCollection(id);
      return c.json({ id, object: "vector_store.deleted", deleted: true });
    }),
  );

  app.post(
    "/v1/vector_stores/:id/files",
    wrap(async (c) => {
      const id = param(c, "id");
      store.collection(id);
      const body = await engine.parse(c.req.raw, VectorStoreFileCreateRequest);
      const signal = engine.requestSignal(c.req.raw.signal);
      const r = await ingestSource(
        store,
        id,
        engineEmbedder(engine, signal),
        textSource(body.filename, body.content),
        { metadata: body.attributes, signal },
      );
      return c.json(file(id, r.document, r.status));
    }),
  );
  app.get(
    "/v1/vector_stores/:id/files",
    wrap((c) => {
      const id = param(c, "id");
      const data = store.documents(id).map((d) => file(id, d, "unchanged"));
      return Promise.resolve(c.json({ object: "list", data, has_more: false }));
    }),
  );
  app.delete(
    "/v1/vector_stores/:id/files/:file",
    wrap(async (c) => {
      const id = param(c, "id");
      const f = param(c, "file");
      const d = await store.removeDocument(id, f.startsWith("file-") ? f.slice(5) : f);
      return c.json({ id: `file-${d.id}`, object: "vector_store.file.deleted", deleted: true });
    }),
  );

  app.post(
    "/v1/vector_stores/:id/search",
    wrap(async (c) => {
      const id = param(c, "id");
      store.collection(id);
      const body = await engine.parse(c.req.raw, VectorStoreSearchRequest);
      const signal = engine.requestSignal(c.req.raw.signal);
      const mode = body.mode ?? "vector";
      const hits = await searchCollection(store, id, body.query, {
        k: body.max_num_results ?? 10,
        mode,
        filter: filterOf(body.filters),
        embedder: mode === "keyword" ? undefined : engineEmbedder(engine, signal),
        signal,
      });
      const res: VectorStoreSearchResults = {
        object: "vector_store.search_results.page",
        search_query: body.query,
        data: hits.map((h) => ({
          file_id: `file-${h.documentId}`,
          filename: h.source,
          score: h.score,
          attributes: h.metadata,
          content: [{ type: "text", text: h.text }],
          chunk_id: h.chunkId,
        })),
        has_more: false,
        next_page: null,
      };
      return c.json(res);
    }),
  );
}

/** Opens the store at `path` and mounts its routes on `app`; returns what closes it. */
export async function openVectorStores(
  app: Hono,
  engine: Engine,
  path: string,
): Promise<() => Promise<void>> {
  const store = await ContextStore.open(path);
  registerVectorStores(app, engine, store);
  return () => store.close();
}
