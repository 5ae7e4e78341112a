/**
 * API-key check: `Authorization: Bearer <key>` (or llama.cpp's `X-Api-Key: <key>`), compared
 * in constant time (both sides are
 * hashed with SHA-256 first, so neither the key's length nor its content leaks through
 * timing).
 *
 * @module
 */
import { ApiError } from "./errors.ts";

async function sha256(s: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(s)));
}

/** True when `a` equals `b`, in time independent of where they differ. */
export async function constantTimeEqual(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([sha256(a), sha256(b)]);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i] ^ y[i];
  return diff === 0;
}

/** Throws a 401 ApiError unless `header` is `Bearer <key>`. */
export async function checkBearer(header: string | null, key: string): Promise<void> {
  const m = header === null ? null : /^Bearer\s+(.+)$/i.exec(header.trim());
  const given = m?.[1] ?? "";
  const ok = await constantTimeEqual(given, key);
  if (!m || !ok) {
    throw new ApiError(
      401,
      "invalid_api_key",
      m
        ? "incorrect API key provided"
        : "missing API key: send it as the header `Authorization: Bearer <key>`",
      null,
      "authentication_error",
    );
  }
}

/** Throws a 401 ApiError unless the request carries the key as a bearer token or X-Api-Key. */
export async function checkApiKey(headers: Headers, key: string): Promise<void> {
  const x = headers.get("x-api-key");
  if (x !== null && headers.get("authorization") === null) {
    if (await constantTimeEqual(x.trim(), key)) return;
    throw new ApiError(401, "invalid_api_key", "incorrect API key provided", null);
  }
  await checkBearer(headers.get("authorization"), key);
}
