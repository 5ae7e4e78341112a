/**
 * The checks a model path gets before the GGUF reader opens it, so a wrong path is a
 * ModelFileError (not found, a folder, no permission, too small to be GGUF) instead of a
 * raw ENOENT / EISDIR from the file system.
 *
 * @module
 */
import { accessSync, constants, statSync } from "node:fs";
import { ModelFileError } from "../core/errors.ts";

/** Smallest GGUF file: magic, version, tensor count and metadata count (4 + 4 + 8 + 8). */
export const MIN_GGUF_BYTES = 24;

/** Checks that `path` is a readable file of at least MIN_GGUF_BYTES; returns its size. */
export function checkModelFile(path: string): number {
  if (typeof path !== "string" || path === "") {
    throw new ModelFileError("MODEL_FILE_NOT_FOUND", "model path must be a non-empty string", {
      path,
      actual: typeof path,
    });
  }
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw fsError(path, e);
  }
  if (st.isDirectory()) {
    throw new ModelFileError(
      "MODEL_FILE_IS_DIRECTORY",
      `model path ${path} is a folder, not a GGUF file`,
      { path, expected: "a .gguf file" },
    );
  }
  try {
    accessSync(path, constants.R_OK);
  } catch (e) {
    throw fsError(path, e);
  }
  if (st.size < MIN_GGUF_BYTES) {
    throw new ModelFileError(
      "MODEL_FILE_TOO_SMALL",
      `model file ${path} has ${st.size} bytes; a GGUF file has at least ${MIN_GGUF_BYTES}`,
      { path, expected: MIN_GGUF_BYTES, actual: st.size },
    );
  }
  return st.size;
}

/** The ModelFileError for a file-system error `e` on `path` (EACCES/EPERM: permission). */
export function fsError(path: string, e: unknown): ModelFileError {
  const code = (e as { code?: string }).code;
  if (code === "EACCES" || code === "EPERM") {
    return new ModelFileError(
      "MODEL_FILE_PERMISSION",
      `model file ${path} is not readable (permission denied)`,
      { path, actual: code },
      { cause: e },
    );
  }
  return new ModelFileError("MODEL_FILE_NOT_FOUND", `model file ${path} does not exist`, {
    path,
    actual: code,
  }, { cause: e });
}
