/**
 * Writer round trip over every shared GGUF: read -> write -> read gives identical metadata
 * (types and nesting included) and tensor bytes; llama.cpp-made files come back byte for byte.
 *
 * @module
 */
import { assertEquals, assertStrictEquals } from "./assert.ts";
import { test } from "./harness.ts";
import { findGGUFFiles } from "./gguf_test_util.ts";
import { HAVE_SHARED, NO_SHARED_REASON, sharedPath } from "./shared_data.ts";
import { tensorData } from "../src/gguf/gguf_file.ts";
import { parseGGUF } from "../src/gguf/reader.ts";
import { writeGGUF, writeGGUFChunks } from "../src/gguf/writer.ts";
import { readFile } from "../src/runtime/host.ts";

const opts = { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON };

test("writer round trip: every shared GGUF", () => {
  const files = HAVE_SHARED ? findGGUFFiles(sharedPath("models")) : [];
  for (const path of files) {
    const original = readFile(path);
    const a = parseGGUF(original);
    const written = writeGGUF(a);
    const b = parseGGUF(written);
    assertStrictEquals(b.version, a.version, path);
    assertStrictEquals(b.alignment, a.alignment, path);
    assertEquals(b.metadata, a.metadata, path);
    assertEquals(b.tensors, a.tensors, path);
    for (const t of a.tensors) {
      assertEquals(tensorData(b, t), tensorData(a, t), `${path} ${t.name}`);
    }
    assertStrictEquals(written.byteLength, original.byteLength, path);
    assertEquals(written, original, path);
  }
}, opts);

test("writer round trip: streamed chunks equal the file", () => {
  const original = readFile(sharedPath("models", "stories260K.gguf"));
  const out = new Uint8Array(original.byteLength);
  let o = 0;
  for (const c of writeGGUFChunks(parseGGUF(original))) (out.set(c, o), o += c.byteLength);
  assertStrictEquals(o, original.byteLength);
  assertEquals(out, original);
}, opts);
