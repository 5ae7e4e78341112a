/**
 * The hono application of the server. `createApp({ engine })` wires metrics (requests by
 * endpoint and status, latency), CORS (preflights answered before authentication), the
 * API-key check (every route but /health and the web page's files), the OpenAI routes (with
 * and without /v1), llama.cpp's native routes, ollama's /api routes, the web chat page at `/`
 * (routes_web.ts), errors in each API's shape for everything
 * thrown (`Retry-After` on 429 and 503), 404 for unknown routes and 405 for a known route
 * with the wrong method.
 *
 * ```ts
 * const engine = new Engine({ parallel: 4 });
 * engine.attach(await loadModel(path));
 * const server = await serveHttp(createApp({ engine }).fetch, { port: 8080 });
 * ```
 *
 * @module
 */
import { Hono } from "../deps/hono.ts";
import { now } from "../runtime/host.ts";
import { checkApiKey } from "./auth.ts";
import { cors } from "./cors.ts";
import type { Engine } from "./engine.ts";
import { ApiError, errorBody, errorResponse, llamaErrorBody, ollamaErrorBody } from "./errors.ts";
import { registerChat } from "./routes_chat.ts";
import { registerCompletions } from "./routes_completions.ts";
import { registerEmbeddings } from "./routes_embeddings.ts";
import { registerInfo } from "./routes_info.ts";
import { registerLlamaCpp } from "./routes_llamacpp.ts";
import { registerOllama } from "./routes_ollama.ts";
import { registerResponses } from "./routes_responses.ts";
import { registerWeb } from "./routes_web.ts";
import { WEB_ROUTES } from "./web/assets.ts";

export { Engine, type EngineOptions } from "./engine.ts";

/** Methods of each route, for 405 answers. */
export const ROUTES: Readonly<Record<string, readonly string[]>> = {
  "/": ["GET"],
  "/health": ["GET"],
  "/metrics": ["GET"],
  "/openapi.json": ["GET"],
  "/v1/models": ["GET"],
  "/v1/completions": ["POST"],
  "/v1/chat/completions": ["POST"],
  "/v1/embeddings": ["POST"],
  "/models": ["GET"],
  "/completions": ["POST"],
  "/chat/completions": ["POST"],
  "/embeddings": ["POST"],
  "/v1/responses": ["POST"],
  "/responses": ["POST"],
  "/tokenize": ["POST"],
  "/detokenize": ["POST"],
  "/completion": ["POST"],
  "/apply-template": ["POST"],
  "/props": ["GET"],
  "/slots": ["GET"],
  "/api/generate": ["POST"],
  "/api/chat": ["POST"],
  "/api/embed": ["POST"],
  "/api/tags": ["GET"],
  "/api/show": ["POST"],
  "/api/ps": ["GET"],
  "/api/version": ["GET"],
};

/** Options of createApp. */
export interface AppOptions {
  readonly engine: Engine;
}

function endpointLabel(path: string): string {
  if (ROUTES[path]) return path;
  if (path.startsWith("/v1/models/")) return "/v1/models/:id";
  if (path.startsWith("/models/")) return "/models/:id";
  return "other";
}

/** llama.cpp's native routes answer errors in its shape, ollama's in ollama's. */
const LLAMACPP_ROUTES = new Set(["/completion", "/apply-template", "/props", "/slots"]);

function errorShape(path: string): (e: ApiError) => unknown {
  if (LLAMACPP_ROUTES.has(path)) return llamaErrorBody;
  if (path.startsWith("/api/")) return ollamaErrorBody;
  return errorBody;
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

  app.use("*", cors(engine.opts.corsOrigins ?? []));

  app.use("*", async (c, next) => {
    // The web page's static files hold no data; the page sends the key with its API calls.
    if (engine.apiKey !== undefined && c.req.path !== "/health" && !WEB_ROUTES.has(c.req.path)) {
      await checkApiKey(c.req.raw.headers, engine.apiKey);
    }
    await next();
  });

  registerInfo(app, engine);
  registerCompletions(app, engine);
  registerChat(app, engine);
  registerEmbeddings(app, engine);
  registerLlamaCpp(app, engine);
  registerOllama(app, engine);
  registerResponses(app, engine);
  registerWeb(app);

  app.notFound((c) => {
    const allowed = ROUTES[c.req.path];
    if (allowed && !allowed.includes(c.req.method)) {
      return errorResponse(
        new ApiError(405, "method_not_allowed", `${c.req.method} is not allowed on ${c.req.path}`),
        { allow: allowed.join(", ") },
        errorShape(c.req.path),
      );
    }
    return errorResponse(
      new ApiError(404, "not_found", `no route ${c.req.method} ${c.req.path}`),
      {},
      errorShape(c.req.path),
    );
  });

  app.onError((err, c) => {
    const res = errorResponse(err, {}, errorShape(c.req.path));
    if (res.status >= 500 && res.status !== 503) {
      const detail = err instanceof Error ? err.stack ?? err.message : String(err);
      engine.log(`${c.req.method} ${c.req.path} -> ${res.status}: ${detail}`);
    }
    if (res.status === 401) res.headers.set("www-authenticate", "Bearer");
    return res;
  });

  return app;
}
