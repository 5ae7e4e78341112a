/**
 * Chunking by tokens of the embedding model: windows of `size` tokens, consecutive windows
 * sharing `overlap` tokens. The text arrives in pieces (cut at whitespace by the sources),
 * so memory stays bounded by one piece plus one window whatever the file's size.
 *
 * @module
 */
import { ContextError } from "./errors.ts";

/** What chunking needs from the embedder. */
export interface ChunkTokenizer {
  tokenize(text: string): number[];
  detokenize(tokens: readonly number[]): string;
}

/** One chunk: its text (decoded from its tokens) and token count. */
export interface TextChunk {
  readonly text: string;
  readonly tokens: number;
}

/** Checks chunking parameters. */
export function checkChunking(size: number, overlap: number): void {
  if (!Number.isInteger(size) || size < 1) {
    throw new ContextError("CONTEXT_BAD_OPTION", "chunk size must be a positive integer", {
      param: "chunkTokens",
      actual: size,
    });
  }
  if (!Number.isInteger(overlap) || overlap < 0 || overlap >= size) {
    throw new ContextError("CONTEXT_BAD_OPTION", "chunk overlap must be in 0..size-1", {
      param: "chunkOverlap",
      actual: overlap,
    });
  }
}

/** Chunks the text of `pieces`; whitespace-only windows are dropped. */
export async function* chunkPieces(
  pieces: AsyncIterable<string> | Iterable<string>,
  tok: ChunkTokenizer,
  size: number,
  overlap: number,
): AsyncGenerator<TextChunk> {
  checkChunking(size, overlap);
  let buf: number[] = [];
  let fresh = 0;
  const emit = (tokens: number[]): TextChunk | undefined => {
    const text = tok.detokenize(tokens);
    return text.trim() ? { text, tokens: tokens.length } : undefined;
  };
  for await (const piece of pieces) {
    if (!piece) continue;
    const ids = tok.tokenize(piece);
    for (const id of ids) buf.push(id);
    fresh += ids.length;
    while (buf.length >= size) {
      const c = emit(buf.slice(0, size));
      if (c) yield c;
      buf = buf.slice(size - overlap);
      fresh = Math.max(0, buf.length - overlap);
    }
  }
  if (fresh > 0 && buf.length) {
    const c = emit(buf);
    if (c) yield c;
  }
}
