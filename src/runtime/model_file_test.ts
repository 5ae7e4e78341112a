import { chmodSync } from "node:fs";
import process from "node:process";
import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { ModelFileError } from "../core/errors.ts";
import { makeTempDir, removeTree } from "./fs_tree.ts";
import { writeFile } from "./host.ts";
import { checkModelFile, fsError, MIN_GGUF_BYTES } from "./model_file.ts";

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    assert(e instanceof ModelFileError, String(e));
    return e.code;
  }
  return "none";
};

test("model file: missing, folder, too small, readable", () => {
  const dir = makeTempDir("rf-mf-");
  try {
    writeFile(`${dir}/small.gguf`, new Uint8Array(MIN_GGUF_BYTES - 1));
    writeFile(`${dir}/ok.gguf`, new Uint8Array(MIN_GGUF_BYTES));
    assertEquals(codeOf(() => checkModelFile(`${dir}/nope.gguf`)), "MODEL_FILE_NOT_FOUND");
    assertEquals(codeOf(() => checkModelFile(dir)), "MODEL_FILE_IS_DIRECTORY");
    assertEquals(codeOf(() => checkModelFile(`${dir}/small.gguf`)), "MODEL_FILE_TOO_SMALL");
    assertEquals(codeOf(() => checkModelFile("")), "MODEL_FILE_NOT_FOUND");
    assertEquals(checkModelFile(`${dir}/ok.gguf`), MIN_GGUF_BYTES);
    const eacces = Object.assign(new Error("denied"), { code: "EACCES" });
    assertEquals(fsError("/x", eacces).code, "MODEL_FILE_PERMISSION");
  } finally {
    removeTree(dir);
  }
});

const root = process.getuid?.() === 0;
test("model file: an unreadable file is MODEL_FILE_PERMISSION", () => {
  const dir = makeTempDir("rf-mf-");
  try {
    writeFile(`${dir}/locked.gguf`, new Uint8Array(64));
    chmodSync(`${dir}/locked.gguf`, 0o000);
    assertThrows(
      () => checkModelFile(`${dir}/locked.gguf`),
      (e: unknown) => e instanceof ModelFileError && e.code === "MODEL_FILE_PERMISSION",
    );
  } finally {
    removeTree(dir);
  }
}, { ignore: root || process.platform === "win32", reason: "root reads every file (no EACCES)" });
