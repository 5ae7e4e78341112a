/**
 * Host HTTP listener for a fetch-style handler (`(Request) => Response`): `Deno.serve` under
 * Deno, `node:http` with a small Request/Response adapter under Node. On both, the request's
 * `signal` aborts when the client disconnects before the response is complete, and a
 * streamed response body is cancelled then.
 *
 * @module
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { RUNTIME } from "./host.ts";

/** A fetch-style request handler. */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

/** Where and how to listen. */
export interface ServeOptions {
  /** Interface to bind (default 127.0.0.1). */
  readonly hostname?: string;
  /** Port (default 8080; 0 picks a free one). */
  readonly port?: number;
  /** Force an implementation (default: Deno.serve under Deno, node:http under Node). */
  readonly impl?: "deno" | "node";
}

/** A listening server. */
export interface HttpServer {
  readonly hostname: string;
  /** The bound port (the real one when 0 was asked for). */
  readonly port: number;
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  /** Stops accepting connections and resolves once in-flight responses have ended. */
  close(): Promise<void>;
}

/** Starts listening; resolves once the port is bound. */
export function serveHttp(handler: FetchHandler, opts: ServeOptions = {}): Promise<HttpServer> {
  const hostname = opts.hostname ?? "127.0.0.1";
  const port = opts.port ?? 8080;
  const impl = opts.impl ?? (RUNTIME === "deno" ? "deno" : "node");
  return impl === "deno" ? serveDeno(handler, hostname, port) : serveNode(handler, hostname, port);
}

function baseUrl(hostname: string, port: number): string {
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  return `http://${host}:${port}`;
}

interface DenoServer {
  readonly addr: { hostname: string; port: number };
  shutdown(): Promise<void>;
  readonly finished: Promise<void>;
}

interface DenoServeApi {
  serve(
    opts: {
      hostname: string;
      port: number;
      onListen?: (addr: { hostname: string; port: number }) => void;
      onError?: (e: unknown) => Response | Promise<Response>;
    },
    handler: (request: Request, info: { completed: Promise<void> }) => Promise<Response>,
  ): DenoServer;
}

/**
 * Deno's request.signal also aborts after a successful response (legacy behaviour), so the
 * handler gets its own signal: aborted by req.signal only while the handler still runs, and
 * afterwards when the response body is cancelled (the client went away mid-stream) or could
 * not be delivered.
 */
async function denoHandle(
  handler: FetchHandler,
  req: Request,
  info: { completed: Promise<void> },
): Promise<Response> {
  const abort = new AbortController();
  const onAbort = () => abort.abort(new Error("client disconnected"));
  req.signal.addEventListener("abort", onAbort, { once: true });
  info.completed.catch(onAbort);
  let res: Response;
  try {
    res = await handler(new Request(req, { signal: abort.signal }));
  } finally {
    req.signal.removeEventListener("abort", onAbort);
  }
  if (!res.body) return res;
  const reader = res.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      const { done, value } = await reader.read();
      if (done) ctrl.close();
      else ctrl.enqueue(value);
    },
    cancel(reason) {
      onAbort();
      return reader.cancel(reason);
    },
  });
  return new Response(body, {
    status: res.status,
    statusText: res.statusText,
    headers: res.headers,
  });
}

function serveDeno(handler: FetchHandler, hostname: string, port: number): Promise<HttpServer> {
  const deno = (globalThis as { Deno?: DenoServeApi }).Deno;
  if (!deno) return Promise.reject(new Error("Deno.serve is not available in this runtime"));
  return new Promise((resolve, reject) => {
    try {
      const server = deno.serve({
        hostname,
        port,
        onListen: (addr) => {
          resolve({
            hostname,
            port: addr.port,
            url: baseUrl(hostname, addr.port),
            close: () => server.shutdown(),
          });
        },
        onError: () => new Response("internal error", { status: 500 }),
      }, (req, info) => denoHandle(handler, req, info));
    } catch (e) {
      reject(e);
    }
  });
}

async function serveNode(
  handler: FetchHandler,
  hostname: string,
  port: number,
): Promise<HttpServer> {
  const http = await import("node:http");
  const open = new Set<Promise<void>>();
  const server: Server = http.createServer((req, res) => {
    const done = handleNode(handler, req, res, hostname).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
    open.add(done);
    done.finally(() => open.delete(done));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, hostname, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const addr = server.address();
  const bound = typeof addr === "object" && addr ? addr.port : port;
  return {
    hostname,
    port: bound,
    url: baseUrl(hostname, bound),
    async close() {
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      await Promise.all([...open]);
      server.closeAllConnections();
      await closed;
    },
  };
}

/**
 * The request body as a web stream that reads from the socket only as the handler pulls
 * (backpressure). When the handler cancels it (e.g. a body past the size limit), reading
 * stops and the connection is marked to close after the response (node:http then discards
 * what is left and closes it) instead of destroying the socket at once: the client still
 * receives the response (e.g. 413) that way.
 */
function requestBody(req: IncomingMessage, res: ServerResponse): ReadableStream<Uint8Array> {
  let stopped = false;
  return new ReadableStream<Uint8Array>({
    start(ctrl) {
      req.on("data", (c: Uint8Array) => {
        if (stopped) return;
        ctrl.enqueue(new Uint8Array(c));
        if ((ctrl.desiredSize ?? 0) <= 0) req.pause();
      });
      req.on("end", () => {
        if (!stopped) ctrl.close();
      });
      req.on("error", (e) => {
        if (!stopped) ctrl.error(e);
      });
      req.pause();
    },
    pull() {
      req.resume();
    },
    cancel() {
      stopped = true;
      req.pause();
      res.shouldKeepAlive = false;
    },
  });
}

function toRequest(
  req: IncomingMessage,
  res: ServerResponse,
  hostname: string,
  signal: AbortSignal,
): Request {
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) { for (const x of v) headers.append(k, x); }
    else headers.set(k, v);
  }
  const host = req.headers.host ?? hostname;
  const url = `http://${host}${req.url ?? "/"}`;
  const method = req.method ?? "GET";
  const hasBody = method !== "GET" && method !== "HEAD";
  const body = hasBody ? requestBody(req, res) : undefined;
  return new Request(url, { method, headers, body, signal, duplex: "half" } as RequestInit);
}

async function handleNode(
  handler: FetchHandler,
  req: IncomingMessage,
  res: ServerResponse,
  hostname: string,
): Promise<void> {
  const abort = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) abort.abort(new Error("client disconnected"));
  });
  const response = await handler(toRequest(req, res, hostname, abort.signal));
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((v, k) => {
    headers[k] = k === "set-cookie" ? response.headers.getSetCookie() : v;
  });
  if (response.statusText) res.writeHead(response.status, response.statusText, headers);
  else res.writeHead(response.status, headers);
  if (!response.body || req.method === "HEAD") {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  const onAbort = () => reader.cancel().catch(() => {});
  abort.signal.addEventListener("abort", onAbort, { once: true });
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done || abort.signal.aborted) break;
      if (!res.write(value)) {
        await new Promise<void>((r) => {
          const go = () => {
            res.off("drain", go);
            res.off("close", go);
            r();
          };
          res.on("drain", go);
          res.on("close", go);
        });
      }
    }
  } finally {
    abort.signal.removeEventListener("abort", onAbort);
    res.end();
  }
}

type Immediate = (fn: () => void) => unknown;

/**
 * Resolves on the next macrotask (setImmediate where the host has it, else setTimeout 0),
 * so network I/O (new requests, client disconnects, streamed writes) is processed between
 * CPU-bound steps whose promises would otherwise chain as microtasks only.
 */
export function yieldToEventLoop(): Promise<void> {
  const immediate = (globalThis as { setImmediate?: Immediate }).setImmediate;
  return new Promise((resolve) => {
    if (immediate) immediate(resolve);
    else setTimeout(resolve, 0);
  });
}
