/**
 * Text to ingest: a file (read twice in bounded pieces: once to hash and validate, once to
 * chunk) or a string already in memory (an upload, stdin). Binary content (a NUL byte or
 * invalid UTF-8), empty files and files over the size limit are typed errors.
 *
 * @module
 */
import { readFilePieces, regularFileSize, sha256 } from "../runtime/context_io.ts";
import { ContextError } from "./errors.ts";

/** Text pieces of a document, cut at whitespace, each about `PIECE_CHARS` long. */
export interface TextSource {
  /** The document's source name (a path, an upload's file name). */
  readonly source: string;
  readonly bytes: number;
  /** SHA-256 of the content; validates it (binary, empty) on the way. */
  hash(): string;
  pieces(): Iterable<string>;
}

/** Characters per piece handed to the tokenizer. */
export const PIECE_CHARS = 1 << 16;
/** Default largest file accepted (bytes). */
export const DEFAULT_MAX_BYTES = 512 * 1024 * 1024;

function binary(source: string, offset: number, why: string): ContextError {
  return new ContextError("CONTEXT_BINARY_FILE", `${source} is not UTF-8 text (${why})`, {
    actual: source,
    offset,
  });
}

function empty(source: string): ContextError {
  return new ContextError("CONTEXT_EMPTY_DOCUMENT", `${source} has no text`, { actual: source });
}

/** Cuts `pending` text into pieces at whitespace; returns the unfinished tail. */
function* cut(pending: string, flush: boolean): Generator<string, string> {
  let rest = pending;
  while (rest.length >= PIECE_CHARS || (flush && rest.length)) {
    if (rest.length <= PIECE_CHARS) {
      yield rest;
      return "";
    }
    let at = rest.lastIndexOf(" ", PIECE_CHARS);
    const nl = rest.lastIndexOf("\n", PIECE_CHARS);
    if (nl > at) at = nl;
    if (at <= PIECE_CHARS / 2) {
      at = PIECE_CHARS;
      const code = rest.charCodeAt(at - 1);
      if (code >= 0xd800 && code < 0xdc00) at--; // keep a surrogate pair together
    }
    yield rest.slice(0, at);
    rest = rest.slice(at);
  }
  return rest;
}

function* decodePieces(chunks: Iterable<Uint8Array>, source: string): Generator<string> {
  const dec = new TextDecoder("utf-8", { fatal: true });
  let pending = "";
  let offset = 0;
  for (const b of chunks) {
    if (b.indexOf(0) >= 0) throw binary(source, offset + b.indexOf(0), "a NUL byte");
    try {
      pending += dec.decode(b, { stream: true });
    } catch {
      throw binary(source, offset, "invalid UTF-8");
    }
    offset += b.length;
    pending = yield* cut(pending, false);
  }
  try {
    pending += dec.decode();
  } catch {
    throw binary(source, offset, "truncated UTF-8 at the end");
  }
  yield* cut(pending, true);
}

/** A file on disk; `source` defaults to its path. */
export function fileSource(
  path: string,
  opts: { source?: string; maxBytes?: number } = {},
): TextSource {
  const size = regularFileSize(path);
  const source = opts.source ?? path;
  if (size === undefined) {
    throw new ContextError("CONTEXT_NOT_A_FILE", `${path} is not a readable file`, {
      actual: path,
    });
  }
  const max = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  if (size > max) {
    throw new ContextError("CONTEXT_FILE_TOO_LARGE", `${path} is ${size} bytes; at most ${max}`, {
      bytes: size,
      expected: max,
      actual: size,
    });
  }
  if (size === 0) throw empty(source);
  return {
    source,
    bytes: size,
    hash() {
      const h = sha256();
      let text = false;
      for (const piece of decodePieces(hashed(readFilePieces(path), h), source)) {
        if (!text && piece.trim()) text = true;
      }
      if (!text) throw empty(source);
      return h.digest();
    },
    pieces: () => decodePieces(readFilePieces(path), source),
  };
}

function* hashed(
  chunks: Iterable<Uint8Array>,
  h: { update(b: Uint8Array): void },
): Generator<Uint8Array> {
  for (const b of chunks) {
    h.update(b);
    yield b;
  }
}

/** Text already in memory (an upload, stdin). */
export function textSource(source: string, text: string): TextSource {
  const bytes = new TextEncoder().encode(text);
  return {
    source,
    bytes: bytes.length,
    hash() {
      if (text.includes("\0")) throw binary(source, text.indexOf("\0"), "a NUL byte");
      if (!text.trim()) throw empty(source);
      const h = sha256();
      h.update(bytes);
      return h.digest();
    },
    pieces: () => cut(text, true),
  };
}

/** Bytes of an upload as text: binary content is a typed error. */
export function decodeUpload(source: string, bytes: Uint8Array): string {
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw binary(source, nul, "a NUL byte");
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw binary(source, 0, "invalid UTF-8");
  }
}
