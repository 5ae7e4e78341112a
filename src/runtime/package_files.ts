/**
 * Files of installed npm packages, found the way Node resolves packages from this module's
 * location (`node_modules` folders upwards: the repository's under Deno, the installing
 * project's for the npm package). The web chat page serves its browser libraries from here.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { RocmForgeError } from "../core/errors.ts";

/** A package file could not be found or read. */
export class PackageFileError extends RocmForgeError<"PACKAGE_FILE_MISSING"> {}

const require = createRequire(import.meta.url);

/**
 * The bytes of `file` in the folder of the module `specifier` resolves to (e.g.
 * `("dompurify", "purify.es.mjs")`: the ES module beside the package's main file).
 */
export function packageFileBeside(specifier: string, file: string): Uint8Array {
  let path = "";
  try {
    path = join(dirname(require.resolve(specifier)), file);
    const b = readFileSync(path);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    throw new PackageFileError(
      "PACKAGE_FILE_MISSING",
      `${file} of npm package ${specifier} was not found (${e instanceof Error ? e.message : e})`,
      { expected: path || `${specifier}/${file}` },
      { cause: e },
    );
  }
}

/** The bytes of a file beside module `base` (an `import.meta.url`), e.g. static web files. */
export function fileBeside(base: string, file: string): Uint8Array {
  const url = new URL(file, base);
  try {
    const b = readFileSync(url);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    throw new PackageFileError("PACKAGE_FILE_MISSING", `${url.href} was not found`, {
      expected: url.href,
    }, { cause: e });
  }
}
