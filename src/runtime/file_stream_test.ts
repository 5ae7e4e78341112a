/**
 * createFileSink writes chunks in order.
 *
 * @module
 */
import { test } from "../../tests/harness.ts";
import { assertEquals } from "../../tests/assert.ts";
import { createFileSink } from "./file_stream.ts";
import { readFile } from "./host.ts";

test("createFileSink appends chunks and truncates an existing file", async () => {
  const { mkdtempSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const path = `${mkdtempSync(`${tmpdir()}/rf-sink-`)}/out.bin`;
  for (const round of [0, 1]) {
    const s = createFileSink(path);
    s.write(new Uint8Array([1, 2, 3]));
    s.write(new Uint8Array(0));
    s.write(new Uint8Array([4, 5 + round]));
    s.close();
    s.close();
    assertEquals([...readFile(path)], [1, 2, 3, 4, 5 + round]);
  }
});
