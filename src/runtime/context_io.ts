/**
 * Host services of the context store: reading a file in bounded pieces, incremental SHA-256,
 * file facts, and the default store location under the user's data directory.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { closeSync, mkdirSync, openSync, readSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";

/** Size of a regular file in bytes, or undefined when it is missing or not a file. */
export function regularFileSize(path: string): number | undefined {
  try {
    const st = statSync(path);
    return st.isFile() ? st.size : undefined;
  } catch {
    return undefined;
  }
}

/** Reads `path` in pieces of at most `pieceBytes` (one reused buffer; copy to keep). */
export function* readFilePieces(path: string, pieceBytes = 1 << 16): Generator<Uint8Array> {
  const fd = openSync(path, "r");
  try {
    const buf = new Uint8Array(pieceBytes);
    while (true) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) return;
      yield buf.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
}

/** Incremental SHA-256; `digest()` gives lower-case hex. */
export interface Hasher {
  update(data: Uint8Array | string): void;
  digest(): string;
}

/** A new SHA-256 hasher. */
export function sha256(): Hasher {
  const h = createHash("sha256");
  return {
    update: (d) => void h.update(d),
    digest: () => h.digest("hex"),
  };
}

/** SHA-256 of a string (UTF-8), hex. */
export function sha256Hex(s: string): string {
  return createHash("sha256").update(s).digest("hex");
}

/**
 * The default store file: $ROCMFORGE_HOME/context.db, else $XDG_DATA_HOME/rocmforge/context.db,
 * else ~/.local/share/rocmforge/context.db (%LOCALAPPDATA% on Windows). The folder is created.
 */
export function defaultStorePath(): string {
  const env = process.env;
  const dir = env.ROCMFORGE_HOME ??
    (env.XDG_DATA_HOME ? join(env.XDG_DATA_HOME, "rocmforge") : undefined) ??
    (process.platform === "win32" && env.LOCALAPPDATA
      ? join(env.LOCALAPPDATA, "rocmforge")
      : join(homedir(), ".local", "share", "rocmforge"));
  mkdirSync(dir, { recursive: true });
  return join(dir, "context.db");
}

/** `path` made absolute against the working directory. */
export function resolvePath(path: string): string {
  return resolve(path);
}
