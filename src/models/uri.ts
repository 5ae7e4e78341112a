/**
 * Model URIs: `hf://OWNER/REPO/PATH.gguf` (optionally `hf://OWNER/REPO@REVISION/PATH.gguf`)
 * and plain `https://` / `http://` URLs, mapped to a download URL and a relative path in the
 * model cache. The hub endpoint is https://huggingface.co unless `HF_ENDPOINT` (the
 * Hugging Face tools' variable) or the `endpoint` option names another.
 *
 * @module
 */
import { ModelFileError } from "../core/errors.ts";

/** A parsed model URI. */
export interface ModelUri {
  /** The URI as given. */
  readonly uri: string;
  /** Where to GET the file. */
  readonly url: string;
  /** Its path inside the cache folder ('/'-separated), e.g. "hf/owner/repo/main/x.gguf". */
  readonly cachePath: string;
}

/** True for strings the resolver handles (hf://, https://, http://). */
export function isModelUri(s: string): boolean {
  return /^(hf|https?):\/\//i.test(s);
}

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function bad(uri: string, why: string): ModelFileError {
  return new ModelFileError("MODEL_URI_INVALID", `bad model URI ${uri}: ${why}`, {
    actual: uri,
    expected: "hf://OWNER/REPO/FILE.gguf or https://HOST/PATH/FILE.gguf",
  });
}

/** Parses a model URI (see the module doc). */
export function parseModelUri(uri: string, endpoint = "https://huggingface.co"): ModelUri {
  if (/^hf:\/\//i.test(uri)) {
    const parts = uri.slice(5).split("/");
    if (parts.length < 3) throw bad(uri, "needs OWNER/REPO/FILE");
    const [owner, repoRev, ...file] = parts;
    const [repo, revision = "main", extra] = repoRev.split("@");
    if (extra !== undefined) throw bad(uri, "more than one @");
    for (const s of [owner, repo, revision, ...file]) {
      if (!SEGMENT.test(s)) throw bad(uri, `path segment "${s}" is not allowed`);
    }
    const path = file.join("/");
    return {
      uri,
      url: `${endpoint.replace(/\/+$/, "")}/${owner}/${repo}/resolve/${revision}/${path}`,
      cachePath: ["hf", owner, repo, revision, ...file].join("/"),
    };
  }
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    throw bad(uri, "not a URL");
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") throw bad(uri, "not http(s)");
  const segs = u.pathname.split("/").filter((s) => s !== "").map(decodeURIComponent);
  if (segs.length === 0) throw bad(uri, "no file name");
  for (const s of segs) if (!SEGMENT.test(s)) throw bad(uri, `path segment "${s}" is not allowed`);
  const host = u.port ? `${u.hostname}_${u.port}` : u.hostname;
  return { uri, url: u.href, cachePath: ["url", host, ...segs].join("/") };
}
