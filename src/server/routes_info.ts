/**
 * Routes that do not generate: GET /health (200 ready, 503 loading/failed/stopping),
 * GET /v1/models and /v1/models/:id (also without /v1), POST /tokenize and /detokenize
 * (llama.cpp server shapes; the tokenizer call is a step of the request scheduler, so it is
 * cancelled with its client and interleaves with compute), GET /metrics (Prometheus text)
 * and GET /openapi.json. /health and /metrics read counters only: they never wait for
 * compute.
 *
 * @module
 */
import type { Hono } from "../deps/hono.ts";
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

  for (const prefix of ["/v1", ""]) {
    app.get(`${prefix}/models`, (c) => {
      const body: ModelList = { object: "list", data: [modelEntry(engine, engine.ready())] };
      return c.json(body);
    });
    app.get(`${prefix}/models/:id{.+}`, (c) => {
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
  }

  app.post("/tokenize", async (c) => {
    const ready = engine.ready();
    const body = await engine.parse(c.req.raw, TokenizeRequest);
    const tok = ready.model.tokenizer;
    const ids = await engine.scheduler.run(
      () =>
        tok.encode(body.content, {
          addSpecial: body.add_special ?? false,
          parseSpecial: body.parse_special ?? true,
        }),
      c.req.raw.signal,
      "tokenize",
    );
    const res: TokenizeResponse = {
      tokens: body.with_pieces ? ids.map((id) => ({ id, piece: tokenPiece(tok, id).text })) : ids,
    };
    return c.json(res);
  });

  app.post("/detokenize", async (c) => {
    const ready = engine.ready();
    const body = await engine.parse(c.req.raw, DetokenizeRequest);
    checkTokenIds(body.tokens, ready.model.config.vocabSize, "tokens");
    const content = await engine.scheduler.run(
      () => ready.model.tokenizer.decode(body.tokens),
      c.req.raw.signal,
      "tokenize",
    );
    return c.json({ content });
  });

  app.get("/metrics", (c) => {
    return c.body(engine.metrics.render(), 200, {
      "content-type": "text/plain; version=0.0.4; charset=utf-8",
    });
  });

  app.get("/openapi.json", (c) => c.json(openApiDocument()));
}
