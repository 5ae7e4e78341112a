/**
 * Routes that do not generate: GET /health (200 ready, 503 loading/failed/stopping),
 * GET /v1/models and /v1/models/:id, POST /tokenize and /detokenize (llama.cpp server
 * shapes), GET /metrics (Prometheus text) and GET /openapi.json.
 *
 * @module
 */
import type { Hono } from "hono";
import { parseBody } from "./body.ts";
import type { Engine, ReadyEngine } from "./engine.ts";
import { ApiError } from "./errors.ts";
import { checkTokenIds, tokenPiece } from "./generation.ts";
import { openApiDocument } from "./openapi.ts";
import {
  DetokenizeRequest,
  type HealthResponse,
  type ModelList,
  TokenizeRequest,
  type TokenizeResponse,
} from "./schemas.ts";

function modelEntry(engine: Engine, ready: ReadyEngine): ModelList["data"][0] {
  const c = ready.model.config;
  return {
    id: engine.modelId,
    object: "model",
    created: engine.createdAt,
    owned_by: "rocmforge",
    meta: {
      context_length: ready.contextLength,
      vocab_size: c.vocabSize,
      embedding_length: c.embeddingLength,
    },
  };
}

/** Registers the informational routes. */
export function registerInfo(app: Hono, engine: Engine): void {
  app.get("/health", (c) => {
    const s = engine.state;
    if (s === "ready") {
      const slots = engine.ready().slots;
      const body: HealthResponse = {
        status: "ok",
        slots_idle: slots.size - slots.active,
        slots_processing: slots.active,
      };
      return c.json(body);
    }
    const body: HealthResponse = {
      status: s === "failed" ? "error" : s === "stopping" ? "stopping" : "loading",
    };
    return c.json(body, 503);
  });

  app.get("/v1/models", (c) => {
    const body: ModelList = { object: "list", data: [modelEntry(engine, engine.ready())] };
    return c.json(body);
  });

  app.get("/v1/models/:id{.+}", (c) => {
    const ready = engine.ready();
    const id = c.req.param("id");
    if (id !== engine.modelId) {
      throw new ApiError(
        404,
        "model_not_found",
        `model ${JSON.stringify(id)} does not exist`,
        "model",
      );
    }
    return c.json(modelEntry(engine, ready));
  });

  app.post("/tokenize", async (c) => {
    const ready = engine.ready();
    const body = await parseBody(c.req.raw, TokenizeRequest, engine.bodyLimit);
    const tok = ready.model.tokenizer;
    const ids = tok.encode(body.content, {
      addSpecial: body.add_special ?? false,
      parseSpecial: body.parse_special ?? true,
    });
    const res: TokenizeResponse = {
      tokens: body.with_pieces ? ids.map((id) => ({ id, piece: tokenPiece(tok, id).text })) : ids,
    };
    return c.json(res);
  });

  app.post("/detokenize", async (c) => {
    const ready = engine.ready();
    const body = await parseBody(c.req.raw, DetokenizeRequest, engine.bodyLimit);
    checkTokenIds(body.tokens, ready.model.config.vocabSize, "tokens");
    return c.json({ content: ready.model.tokenizer.decode(body.tokens) });
  });

  app.get("/metrics", (c) => {
    return c.body(engine.metrics.render(), 200, {
      "content-type": "text/plain; version=0.0.4; charset=utf-8",
    });
  });

  app.get("/openapi.json", (c) => c.json(openApiDocument()));
}
