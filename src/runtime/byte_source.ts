/**
 * Random-access bytes: a file read lazily by offset, or an in-memory buffer. The GGUF
 * reader works on this interface so that inspecting a multi-GB model never loads it whole.
 *
 * @module
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";

/** Bytes readable at any offset. */
export interface ByteSource {
  /** Total size in bytes. */
  readonly size: number;
  /** Reads exactly `length` bytes at `offset` (the caller checks bounds against `size`). */
  read(offset: number, length: number): Uint8Array;
  /**
   * Reads `target.byteLength` bytes at `offset` straight into `target` (for a file: one
   * positioned read loop, no intermediate buffer).
   */
  readInto(offset: number, target: Uint8Array): void;
  /** Releases the underlying file, if any. */
  close(): void;
}

/** A ByteSource over memory. */
export function memorySource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.byteLength,
    read(offset, length) {
      if (offset < 0 || length < 0 || offset + length > bytes.byteLength) {
        throw new RangeError(
          `read [${offset}, ${offset + length}) outside ${bytes.byteLength} bytes`,
        );
      }
      return bytes.subarray(offset, offset + length);
    },
    readInto(offset, target) {
      target.set(this.read(offset, target.byteLength));
    },
    close() {},
  };
}

/** A ByteSource over a file, read with positioned reads (no whole-file buffer). */
export function fileSource(path: string): ByteSource {
  const fd = openSync(path, "r");
  let size: number;
  try {
    size = fstatSync(fd).size;
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  let open = true;
  const readInto = (offset: number, out: Uint8Array) => {
    const length = out.byteLength;
    if (!open) throw new Error(`file ${path} is closed`);
    if (offset < 0 || offset + length > size) {
      throw new RangeError(`read [${offset}, ${offset + length}) outside ${size} bytes`);
    }
    let done = 0;
    while (done < length) {
      const n = readSync(fd, out, done, length - done, offset + done);
      if (n <= 0) throw new RangeError(`unexpected end of ${path} at ${offset + done}`);
      done += n;
    }
  };
  return {
    size,
    read(offset, length) {
      if (length < 0) throw new RangeError(`read of ${length} bytes at ${offset}`);
      const out = new Uint8Array(length);
      readInto(offset, out);
      return out;
    },
    readInto,
    close() {
      if (open) {
        open = false;
        closeSync(fd);
      }
    },
  };
}
