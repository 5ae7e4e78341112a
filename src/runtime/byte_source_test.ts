import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assertEquals, assertThrows } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { fileSource, memorySource } from "./byte_source.ts";

test("byte sources: readInto fills a caller's buffer with the bytes read() returns", () => {
  const bytes = Uint8Array.from({ length: 5000 }, (_, i) => (i * 13) & 255);
  const dir = mkdtempSync(join(tmpdir(), "rf-bytes-"));
  try {
    const path = join(dir, "f.bin");
    writeFileSync(path, bytes);
    for (const src of [fileSource(path), memorySource(bytes)]) {
      for (const [off, len] of [[0, 5000], [1, 4096], [4999, 1], [1234, 0]]) {
        const into = new Uint8Array(len + 8).fill(9);
        src.readInto(off, into.subarray(4, 4 + len));
        assertEquals(into.subarray(4, 4 + len), src.read(off, len));
        assertEquals(into.subarray(4, 4 + len), bytes.subarray(off, off + len));
        assertEquals([...into.subarray(0, 4), ...into.subarray(4 + len)], Array(8).fill(9));
      }
      assertThrows(() => src.readInto(4990, new Uint8Array(11)), RangeError);
      assertThrows(() => src.readInto(-1, new Uint8Array(1)), RangeError);
      src.close();
    }
  } finally {
    rmSync(dir, { recursive: true });
  }
});
