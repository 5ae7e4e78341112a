/**
 * The hono application of the OpenAI-compatible server. `createApp({ engine })` wires
 * metrics (requests by endpoint and status, latency), the API-key check (every route but
 * /health), the routes, OpenAI-shaped errors for everything thrown, 404 for unknown routes
 * and 405 for a known route with the wrong method.
 *
 * ```ts
 * const engine = new Engine({ parallel: 4 });
 * engine.attach(await loadModel(path));
 * const server = await serveHttp(createApp({ engine }).fetch, { port: 8080 });
 * ```
 *
 * @module
 */
import { Hono } from "hono";
import { now } from "../runtime/host.ts";
import { checkBearer } from "./auth.ts";
import type { Engine } from "./engine.ts";
import { ApiError, errorResponse } from "./errors.ts";
import { registerChat } from "./routes_chat.ts";
import { registerCompletions } from "./routes_completions.ts";
import { registerEmbeddings } from "./routes_embeddings.ts";
import { registerInfo } from "./routes_info.ts";

export { Engine, type EngineOptions } from "./engine.ts";

/** Methods of each route, for 405 answers. */
export const ROUTES: Readonly<Record<string, readonly string[]>> = {
  "/health": ["GET"],
  "/metrics": ["GET"],
  "/openapi.json": ["GET"],
  "/v1/models": ["GET"],
  "/v1/completions": ["POST"],
  "/v1/chat/completions": ["POST"],
  "/v1/embeddings": ["POST"],
  "/tokenize": ["POST"],
  "/detokenize": ["POST"],
};

/** Options of createApp. */
export interface AppOptions {
  readonly engine: Engine;
}

function endpointLabel(path: string): string {
  if (ROUTES[path]) return path;
  if (path.startsWith("/v1/models/")) return "/v1/models/:id";
  return "other";
}

/** Builds the server application; serve it with `app.fetch`. */
export function createApp({ engine }: AppOptions): Hono {
  const app = new Hono();

  app.use("*", async (c, next) => {
    const t0 = now();
    await next();
    const endpoint = endpointLabel(c.req.path);
    engine.metrics.countRequest(endpoint, c.res.status);
    const sse = c.res.headers.get("content-type")?.startsWith("text/event-stream") ?? false;
    if (!sse) engine.metrics.observeLatency(endpoint, (now() - t0) / 1000);
  });

  app.use("*", async (c, next) => {
    if (engine.apiKey !== undefined && c.req.path !== "/health") {
      await checkBearer(c.req.header("authorization") ?? null, engine.apiKey);
    }
    await next();
  });

  registerInfo(app, engine);
  registerCompletions(app, engine);
  registerChat(app, engine);
  registerEmbeddings(app, engine);

  app.notFound((c) => {
    const allowed = ROUTES[c.req.path];
    if (allowed && !allowed.includes(c.req.method)) {
      return errorResponse(
        new ApiError(405, "method_not_allowed", `${c.req.method} is not allowed on ${c.req.path}`),
        { allow: allowed.join(", ") },
      );
    }
    return errorResponse(
      new ApiError(404, "not_found", `no route ${c.req.method} ${c.req.path}`),
    );
  });

  app.onError((err, c) => {
    const res = errorResponse(err);
    if (res.status >= 500 && res.status !== 503) {
      const detail = err instanceof Error ? err.stack ?? err.message : String(err);
      engine.log(`${c.req.method} ${c.req.path} -> ${res.status}: ${detail}`);
    }
    if (res.status === 401) res.headers.set("www-authenticate", "Bearer");
    return res;
  });

  return app;
}
