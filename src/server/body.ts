/**
 * Request bodies: read with a byte limit (413 past it, without buffering more than the
 * limit), parse JSON (400 `invalid_json`), and validate with a zod schema (400 whose `param`
 * names the first bad field, e.g. `messages[0].role`).
 *
 * @module
 */
import type { z } from "../deps/zod.ts";
import { ApiError } from "./errors.ts";
import { UNSUPPORTED } from "./schemas_common.ts";

/** Default body limit: 1 MiB. */
export const DEFAULT_BODY_LIMIT = 1 << 20;

/** Default time a request body may take to arrive: 30 s. */
export const DEFAULT_BODY_TIMEOUT_MS = 30_000;

function timedOut(ms: number, received: number): ApiError {
  return new ApiError(
    408,
    "request_timeout",
    `request body did not arrive within ${ms} ms (${received} bytes received)`,
    null,
    "invalid_request_error",
    { expected: ms, actual: received },
  );
}

function tooLarge(limit: number, actual?: number): ApiError {
  return new ApiError(
    413,
    "request_too_large",
    `request body is larger than ${limit} bytes`,
    null,
    "invalid_request_error",
    { expected: limit, actual },
  );
}

/**
 * Reads the whole body as UTF-8, refusing more than `limit` bytes (413) and a body that has
 * not fully arrived after `timeoutMs` (408; a stalled or endless chunked upload).
 */
export async function readBodyText(
  req: Request,
  limit: number,
  timeoutMs: number = DEFAULT_BODY_TIMEOUT_MS,
): Promise<string> {
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) throw tooLarge(limit, Number(declared));
  if (!req.body) return "";
  const reader = req.body.getReader();
  const parts: Uint8Array[] = [];
  let n = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), timeoutMs));
  try {
    while (true) {
      const got = await Promise.race([reader.read(), deadline]);
      if (got === "timeout") {
        await reader.cancel().catch(() => {});
        throw timedOut(timeoutMs, n);
      }
      const { done, value } = got;
      if (done) break;
      n += value.byteLength;
      if (n > limit) {
        await reader.cancel().catch(() => {});
        throw tooLarge(limit, n);
      }
      parts.push(value);
    }
  } finally {
    clearTimeout(timer);
  }
  const all = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.byteLength;
  }
  return new TextDecoder().decode(all);
}

/** Reads and parses a JSON body. */
export async function readJson(
  req: Request,
  limit: number,
  timeoutMs?: number,
): Promise<unknown> {
  const text = await readBodyText(req, limit, timeoutMs);
  if (text.trim() === "") {
    throw new ApiError(400, "invalid_json", "request body is empty; expected a JSON object");
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new ApiError(400, "invalid_json", `request body is not valid JSON: ${why}`);
  }
}

/** Formats a zod issue path as `a.b[0].c`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let s = "";
  for (const p of path) {
    if (typeof p === "number") s += `[${p}]`;
    else s += s === "" ? String(p) : `.${String(p)}`;
  }
  return s;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const p of path) {
    if (typeof v !== "object" || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

/** Validates `value` with `schema`; the first issue becomes a 400 that names its field. */
export function validate<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ApiError(400, "invalid_type", "request body must be a JSON object");
  }
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0];
    const param = formatPath([...issue.path, key]);
    const why = UNSUPPORTED[key] ?? "this server does not implement it";
    throw new ApiError(400, "unsupported", `unsupported field ${param}: ${why}`, param);
  }
  const param = formatPath(issue.path) || null;
  const missing = issue.path.length > 0 && valueAt(value, issue.path) === undefined;
  const code = missing
    ? "missing_field"
    : issue.code === "invalid_type"
    ? "invalid_type"
    : "invalid_value";
  const message = missing
    ? `missing required field ${param}`
    : `invalid ${param ?? "body"}: ${issue.message}`;
  throw new ApiError(400, code, message, param);
}

/** Reads, parses and validates a JSON body. */
export async function parseBody<T extends z.ZodType>(
  req: Request,
  schema: T,
  limit: number,
  timeoutMs?: number,
): Promise<z.infer<T>> {
  return validate(schema, await readJson(req, limit, timeoutMs));
}
