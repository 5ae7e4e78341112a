/**
 * Streaming file output: write a large file chunk by chunk without holding it whole (model
 * generators, converters).
 *
 * @module
 */
import { closeSync, openSync, writeSync } from "node:fs";

/** A file open for writing. */
export interface FileSink {
  /** Appends `chunk` (all of it). */
  write(chunk: Uint8Array): void;
  /** Closes the file. */
  close(): void;
}

/** Creates (or truncates) `path` for writing. */
export function createFileSink(path: string): FileSink {
  const fd = openSync(path, "w");
  let open = true;
  return {
    write(chunk) {
      let off = 0;
      while (off < chunk.byteLength) off += writeSync(fd, chunk, off, chunk.byteLength - off);
    },
    close() {
      if (open) closeSync(fd);
      open = false;
    },
  };
}
