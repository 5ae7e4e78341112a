/**
 * The model cache folder: `$ROCMFORGE_MODELS`, else `$XDG_DATA_HOME/rocmforge/models`, else
 * `~/.local/share/rocmforge/models`. Files keep their URI's path (see uri.ts), so a cached
 * model is found again without an index; `.part` files are downloads in progress.
 *
 * @module
 */
import { ModelFileError } from "../core/errors.ts";
import { tensorStats } from "../gguf/describe.ts";
import { meta } from "../gguf/gguf_file.ts";
import { openGGUF } from "../gguf/reader.ts";
import { isDir, joinPath, listFiles, removeTree } from "../runtime/fs_tree.ts";
import { env, homeDir, pathExists } from "../runtime/host.ts";

/** The cache folder (not created). */
export function modelCacheDir(): string {
  const own = env("ROCMFORGE_MODELS");
  if (own) return own;
  const xdg = env("XDG_DATA_HOME");
  return joinPath(xdg ? xdg : joinPath(homeDir(), ".local", "share"), "rocmforge", "models");
}

/** One cached model. */
export interface CachedModel {
  /** Path inside the cache, e.g. "hf/owner/repo/main/model.gguf". */
  readonly name: string;
  readonly path: string;
  readonly size: number;
  /** general.architecture, or "?" when the file cannot be read. */
  readonly architecture: string;
  /** The weight type holding most bytes (e.g. "Q4_K"), or "?". */
  readonly quant: string;
}

/** Every complete .gguf in the cache, sorted by name. */
export function listCachedModels(dir = modelCacheDir()): CachedModel[] {
  if (!isDir(dir)) return [];
  return listFiles(dir).filter((n) => n.endsWith(".gguf")).map((name) => {
    const path = joinPath(dir, ...name.split("/"));
    let architecture = "?", quant = "?", size = 0;
    try {
      const f = openGGUF(path);
      try {
        size = f.source.size;
        architecture = String(meta(f, "general.architecture") ?? "?");
        const byType = Object.entries(tensorStats(f).byType);
        byType.sort((a, b) => b[1].bytes - a[1].bytes);
        quant = byType[0]?.[0] ?? "?";
      } finally {
        f.source.close();
      }
    } catch {
      // An unreadable file is still listed (so it can be removed).
    }
    return { name, path, size, architecture, quant };
  });
}

/** Removes a cached model by its name (as `list` prints it) or its URI's cache path. */
export function removeCachedModel(name: string, dir = modelCacheDir()): string {
  const segs = name.split("/");
  if (segs.some((s) => s === "" || s === "." || s === "..")) {
    throw new ModelFileError("MODEL_FILE_NOT_FOUND", `no cached model named ${name}`, {
      actual: name,
    });
  }
  const path = joinPath(dir, ...segs);
  if (!pathExists(path) || isDir(path)) {
    throw new ModelFileError("MODEL_FILE_NOT_FOUND", `no cached model named ${name}`, {
      actual: name,
      expected: listCachedModels(dir).map((m) => m.name),
    });
  }
  removeTree(path);
  removeTree(path + ".part");
  return path;
}
