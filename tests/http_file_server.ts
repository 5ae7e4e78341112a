/**
 * A real HTTP file server on 127.0.0.1 for download tests (nothing leaves the machine):
 * serves byte blobs by path with Range support and the hub's headers (ETag / X-Linked-Etag
 * = sha256, X-Linked-Size), and injects faults per path: drop the connection mid-file
 * (once), serve wrong bytes under the right hash, or 404.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** How a path misbehaves. */
export type Fault = "none" | "drop-once" | "wrong-bytes" | "no-range";

/** A served file. */
export interface Served {
  bytes: Uint8Array;
  fault?: Fault;
  /** Leave out the sha256 headers. */
  noHash?: boolean;
}

/** A running server: its base URL, the files it serves, and the requests it saw. */
export interface FileServer {
  readonly url: string;
  readonly files: Map<string, Served>;
  readonly requests: { path: string; range: string | undefined }[];
  close(): Promise<void>;
}

/** Starts a server on a free port of 127.0.0.1. */
export async function startFileServer(): Promise<FileServer> {
  const files = new Map<string, Served>();
  const requests: { path: string; range: string | undefined }[] = [];
  const dropped = new Set<string>();
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const range = req.headers.range;
    requests.push({ path, range });
    const f = files.get(path);
    if (!f) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    const sha = createHash("sha256").update(f.bytes).digest("hex");
    let body = f.bytes;
    if (f.fault === "wrong-bytes") {
      body = body.slice();
      body[body.length - 1] ^= 0xff;
    }
    const size = body.length;
    const headers: Record<string, string | number> = {
      "accept-ranges": "bytes",
      "content-type": "application/octet-stream",
    };
    if (!f.noHash) {
      headers["x-linked-etag"] = `"${sha}"`;
      headers["etag"] = `"${sha}"`;
      headers["x-linked-size"] = size;
    }
    let start = 0;
    const m = range?.match(/^bytes=(\d+)-$/);
    if (m && f.fault !== "no-range") {
      start = Number(m[1]);
      if (start >= size) {
        res.writeHead(416, { "content-range": `bytes */${size}` }).end();
        return;
      }
      res.writeHead(206, {
        ...headers,
        "content-range": `bytes ${start}-${size - 1}/${size}`,
        "content-length": size - start,
      });
    } else {
      res.writeHead(200, { ...headers, "content-length": size });
    }
    const rest = body.subarray(start);
    if (f.fault === "drop-once" && !dropped.has(path)) {
      dropped.add(path);
      res.write(rest.subarray(0, rest.length >> 1), () => {
        setTimeout(() => res.socket?.destroy(), 20);
      });
      return;
    }
    res.end(rest);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    files,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections?.();
        server.close(() => r());
      }),
  };
}
