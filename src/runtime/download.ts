/**
 * Resumable HTTP download into a file: the bytes go to `DEST.part` and are renamed to DEST
 * only once complete and verified. A `.part` left by an interrupted run is resumed with an
 * HTTP Range request (a server that answers 200 instead restarts it); a connection dropped
 * mid-file is retried from where it stopped. The size (Content-Range / Content-Length, or
 * the hub's X-Linked-Size) and, when the server gives one, the sha256 (an ETag or
 * X-Linked-Etag of 64 hex digits) are checked; a mismatch deletes the partial file.
 * `firstBytes` lets the caller refuse a file by its first bytes (e.g. not GGUF).
 *
 * @module
 */
import { createHash, type Hash } from "node:crypto";
import {
  closeSync,
  existsSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { AbortError, ModelFileError } from "../core/errors.ts";

/** Download progress: bytes on disk so far and in all (0 when unknown). */
export interface DownloadProgress {
  readonly phase: "download";
  readonly loaded: number;
  readonly total: number;
}

/** Options of downloadFile. */
export interface DownloadOptions {
  readonly onProgress?: (p: DownloadProgress) => void;
  readonly signal?: AbortSignal;
  /** Expected sha256 (hex); overrides what the server's ETag says. */
  readonly sha256?: string;
  /** Called with the file's first bytes (up to 8); throw to refuse the file. */
  readonly firstBytes?: (bytes: Uint8Array) => void;
  /** Attempts after a dropped connection that made progress (default 3). */
  readonly retries?: number;
  /** Extra request headers (e.g. an Authorization token). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** What a finished download was checked against. */
export interface DownloadResult {
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
  /** Whether the size and the hash were known to check against. */
  readonly verified: { readonly size: boolean; readonly sha256: boolean };
  /** Bytes that came from an earlier partial file (0: a fresh download). */
  readonly resumedFrom: number;
}

const fail = (msg: string, facts: Record<string, unknown> = {}, cause?: unknown) =>
  new ModelFileError("MODEL_DOWNLOAD_FAILED", msg, facts, cause ? { cause } : undefined);

/** A sha256 in an ETag-like header value (`"abc..."`, `W/"abc..."`), or undefined. */
export function sha256FromEtag(v: string | null | undefined): string | undefined {
  const m = v?.match(/^(?:W\/)?"?([0-9a-f]{64})"?$/i);
  return m ? m[1].toLowerCase() : undefined;
}

function hashFile(path: string, size: number, h: Hash): void {
  const fd = openSync(path, "r");
  try {
    const buf = new Uint8Array(1 << 20);
    let off = 0;
    while (off < size) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, size - off), off);
      if (n <= 0) break;
      h.update(buf.subarray(0, n));
      off += n;
    }
  } finally {
    closeSync(fd);
  }
}

function readHead(path: string): Uint8Array {
  const fd = openSync(path, "r");
  try {
    const b = new Uint8Array(8);
    const n = readSync(fd, b, 0, 8, 0);
    return b.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/** Downloads `url` to `dest` (see the module doc). */
export async function downloadFile(
  url: string,
  dest: string,
  opts: DownloadOptions = {},
): Promise<DownloadResult> {
  mkdirSync(dirname(dest), { recursive: true });
  const part = dest + ".part";
  const resumedFrom = existsSync(part) ? statSync(part).size : 0;
  let attempts = opts.retries ?? 3;
  let total = 0;
  let wantSha = opts.sha256?.toLowerCase();
  let haveSize = false;
  for (;;) {
    if (opts.signal?.aborted) throw new AbortError("download aborted");
    const have = existsSync(part) ? statSync(part).size : 0;
    let res: Response;
    try {
      res = await fetch(url, {
        headers: { ...opts.headers, ...(have > 0 ? { Range: `bytes=${have}-` } : {}) },
        signal: opts.signal,
      });
    } catch (e) {
      if (opts.signal?.aborted) throw new AbortError("download aborted");
      throw fail(`cannot reach ${url}: ${(e as Error).message}`, { url }, e);
    }
    if (res.status === 416 && have > 0) {
      // The partial file is not a prefix the server knows (or is complete): start over.
      await res.body?.cancel();
      rmSync(part, { force: true });
      continue;
    }
    if (res.status !== 200 && res.status !== 206) {
      await res.body?.cancel();
      throw fail(`GET ${url}: HTTP ${res.status} ${res.statusText}`.trim(), {
        url,
        actual: res.status,
        expected: 200,
      });
    }
    wantSha ??= sha256FromEtag(res.headers.get("x-linked-etag")) ??
      sha256FromEtag(res.headers.get("etag"));
    let start = 0;
    if (res.status === 206) {
      const m = res.headers.get("content-range")?.match(/^bytes (\d+)-(\d+)\/(\d+|\*)$/);
      if (!m || Number(m[1]) !== have) {
        await res.body?.cancel();
        throw fail(`GET ${url}: bad Content-Range ${res.headers.get("content-range")}`, { url });
      }
      start = have;
      if (m[3] !== "*") total = Number(m[3]);
    } else {
      const len = res.headers.get("content-length");
      if (len !== null) total = Number(len);
    }
    const linked = res.headers.get("x-linked-size");
    if (linked !== null && /^\d+$/.test(linked)) total = Number(linked);
    haveSize = total > 0;
    const fd = openSync(part, start === 0 ? "w" : "r+");
    let off = start;
    let dropped: unknown;
    try {
      const reader = res.body!.getReader();
      for (;;) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (e) {
          dropped = e;
          break;
        }
        if (chunk.done) break;
        const v = chunk.value;
        if (off < 8 && opts.firstBytes && off + v.length >= Math.min(8, total || 8)) {
          const head = new Uint8Array(Math.min(8, off + v.length));
          if (off > 0) head.set(readHead(part).subarray(0, off));
          head.set(v.subarray(0, head.length - off), off);
          try {
            opts.firstBytes(head);
          } catch (e) {
            await reader.cancel();
            closeSync(fd);
            rmSync(part, { force: true });
            throw e;
          }
        }
        let w = 0;
        while (w < v.length) w += writeSync(fd, v, w, v.length - w, off + w);
        off += v.length;
        opts.onProgress?.({ phase: "download", loaded: off, total });
      }
    } finally {
      try {
        closeSync(fd);
      } catch { /* closed above */ }
    }
    if (opts.signal?.aborted) throw new AbortError("download aborted");
    const shortRead = haveSize && off < total;
    if (dropped !== undefined || shortRead) {
      if (off > have && attempts-- > 0) continue;
      throw fail(
        `download of ${url} was cut off at ${off} of ${total || "?"} bytes; run again to resume`,
        { url, actual: off, expected: total },
        dropped,
      );
    }
    if (haveSize && off !== total) {
      rmSync(part, { force: true });
      throw new ModelFileError(
        "MODEL_SIZE_MISMATCH",
        `${url}: got ${off} bytes, the server said ${total}`,
        { url, expected: total, actual: off },
      );
    }
    const h = createHash("sha256");
    hashFile(part, off, h);
    const sha = h.digest("hex");
    if (wantSha !== undefined && sha !== wantSha) {
      rmSync(part, { force: true });
      throw new ModelFileError(
        "MODEL_CHECKSUM_MISMATCH",
        `${url}: sha256 ${sha} does not match the expected ${wantSha}`,
        { url, expected: wantSha, actual: sha },
      );
    }
    renameSync(part, dest);
    return {
      path: dest,
      size: off,
      sha256: sha,
      verified: { size: haveSize, sha256: wantSha !== undefined },
      resumedFrom,
    };
  }
}
