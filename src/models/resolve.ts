/**
 * `resolveModelFile(uri)`: the local path of a model. A plain path is returned as is; an
 * `hf://` or `https://` URI is looked up in the cache (see cache.ts) and downloaded when
 * absent: resumable, verified (size, sha256 from the hub's ETag / X-Linked-Etag), written to
 * a temporary file and renamed on success, refused when the bytes are not GGUF.
 *
 * @module
 */
import { AbortError, ModelFileError } from "../core/errors.ts";
import { joinPath } from "../runtime/fs_tree.ts";
import { downloadFile, type DownloadProgress, type DownloadResult } from "../runtime/download.ts";
import { env, pathExists } from "../runtime/host.ts";
import { modelCacheDir } from "./cache.ts";
import { isModelUri, parseModelUri } from "./uri.ts";

export { isModelUri };

/** Options of resolveModelFile and pullModel. */
export interface ResolveOptions {
  readonly onProgress?: (p: DownloadProgress) => void;
  readonly signal?: AbortSignal;
  /** Cache folder (default: modelCacheDir()). */
  readonly cacheDir?: string;
  /** Hub endpoint for hf:// (default: $HF_ENDPOINT or https://huggingface.co). */
  readonly endpoint?: string;
  /** Expected sha256 (hex), checked in addition to what the server says. */
  readonly sha256?: string;
}

const GGUF_MAGIC = [0x47, 0x47, 0x55, 0x46];

function refuseNonGguf(url: string) {
  return (head: Uint8Array) => {
    if (head.length < 4 || GGUF_MAGIC.some((b, i) => head[i] !== b)) {
      throw new ModelFileError(
        "MODEL_FILE_NOT_GGUF",
        `${url} is not a GGUF file (first bytes ${
          [...head.subarray(0, 4)].map((b) => b.toString(16).padStart(2, "0")).join(" ")
        })`,
        { expected: "47 47 55 46 (GGUF)", url },
      );
    }
  };
}

function headers(): Record<string, string> {
  const token = env("HF_TOKEN");
  return token ? { Authorization: `Bearer ${token}` } : {};
}

/** Downloads a model URI into the cache (again, even when present); returns what was checked. */
export async function pullModel(uri: string, opts: ResolveOptions = {}): Promise<DownloadResult> {
  const u = parseModelUri(uri, opts.endpoint ?? env("HF_ENDPOINT") ?? undefined);
  const dest = joinPath(opts.cacheDir ?? modelCacheDir(), ...u.cachePath.split("/"));
  return await downloadFile(u.url, dest, {
    onProgress: opts.onProgress,
    signal: opts.signal,
    sha256: opts.sha256,
    firstBytes: refuseNonGguf(u.url),
    headers: u.url.startsWith(opts.endpoint ?? env("HF_ENDPOINT") ?? "https://huggingface.co")
      ? headers()
      : {},
  });
}

/** The cache path of a model URI (whether or not it is there). */
export function cachedPathOf(uri: string, opts: ResolveOptions = {}): string {
  const u = parseModelUri(uri, opts.endpoint ?? env("HF_ENDPOINT") ?? undefined);
  return joinPath(opts.cacheDir ?? modelCacheDir(), ...u.cachePath.split("/"));
}

/** A model's local path: a plain path as is, a URI through the cache (pulled when absent). */
export async function resolveModelFile(uri: string, opts: ResolveOptions = {}): Promise<string> {
  if (opts.signal?.aborted) throw new AbortError("model resolve aborted");
  if (!isModelUri(uri)) return uri;
  const path = cachedPathOf(uri, opts);
  if (pathExists(path)) return path;
  return (await pullModel(uri, opts)).path;
}
