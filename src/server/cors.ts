/**
 * CORS: origins listed in the engine's `corsOrigins` ("*" for any) get
 * `Access-Control-Allow-Origin` on every response, and their preflight requests (OPTIONS with
 * `Access-Control-Request-Method`) are answered 204 before the API-key check (browsers send
 * preflights without credentials). A preflight from any other origin, or while CORS is off,
 * is a 403 that says so.
 *
 * @module
 */
import type { MiddlewareHandler } from "../deps/hono.ts";
import { ApiError, errorResponse } from "./errors.ts";

/** Methods and headers a cross-origin caller may use. */
export const CORS_METHODS = "GET, POST, OPTIONS";
const CORS_HEADERS = "authorization, content-type, x-api-key";

/** The `Access-Control-Allow-Origin` value for `origin`, or undefined when not allowed. */
export function allowedOrigin(origins: readonly string[], origin: string): string | undefined {
  if (origins.includes("*")) return "*";
  return origins.includes(origin) ? origin : undefined;
}

/** The CORS middleware (install it before authentication). */
export function cors(origins: readonly string[]): MiddlewareHandler {
  return async (c, next) => {
    const origin = c.req.header("origin");
    const allow = origin === undefined ? undefined : allowedOrigin(origins, origin);
    if (c.req.method === "OPTIONS" && c.req.header("access-control-request-method")) {
      if (allow === undefined) {
        return errorResponse(
          new ApiError(
            403,
            "cors_origin_not_allowed",
            origins.length === 0
              ? "cross-origin requests are off; start the server with --cors-origin ORIGIN"
              : `origin ${JSON.stringify(origin)} is not in --cors-origin`,
            "origin",
            "permission_error",
          ),
        );
      }
      return new Response(null, {
        status: 204,
        headers: {
          "access-control-allow-origin": allow,
          "access-control-allow-methods": CORS_METHODS,
          "access-control-allow-headers": c.req.header("access-control-request-headers") ??
            CORS_HEADERS,
          "access-control-max-age": "600",
          vary: "Origin",
        },
      });
    }
    await next();
    if (allow !== undefined) {
      c.res.headers.set("access-control-allow-origin", allow);
      c.res.headers.set("access-control-expose-headers", "retry-after");
      c.res.headers.append("vary", "Origin");
    }
    return undefined;
  };
}
