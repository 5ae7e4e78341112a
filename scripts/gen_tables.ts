/**
 * Generates the C/HIP/WASM tables from the one op and type schema (src/core/op_schema.ts,
 * src/gguf/ggml_types.ts, src/gguf/type_schema.ts):
 * - native/rf_ops.gen.h: opcodes, operand word indices, RoPE mode codes, limits (C ABI)
 * - native/rf_schema.gen.h: the op table the native validator checks programs against, the
 *   ggml type facts (block size and bytes, HIP roles, activation format) for host and kernels
 * - kernels/wasm/rf_types.gen.h: the type ids and block bytes of the WebAssembly kernels
 *   (after changing it, rebuild the committed .wasm with `deno task build:wasm`)
 *
 * `--check` regenerates in memory and exits 1 when a committed file differs (CI).
 *
 * usage: deno task gen:tables [--check]
 *
 * @module
 */
import { generatedTables } from "../src/core/op_schema_gen.ts";
import {
  args,
  exit,
  pathExists,
  readTextFile,
  writeFile,
  writeStderr,
  writeStdout,
} from "../src/runtime/host.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** Committed files that differ from a fresh generation (empty when all are current). */
export function staleTables(root = ROOT): string[] {
  const stale: string[] = [];
  for (const [path, text] of generatedTables()) {
    const full = `${root}${path}`;
    if (!pathExists(full) || readTextFile(full) !== text) stale.push(path);
  }
  return stale;
}

if (import.meta.main) {
  const argv = args();
  if (argv.some((a) => a !== "--check")) {
    writeStderr("usage: deno task gen:tables [--check]\n");
    exit(2);
  }
  if (argv.includes("--check")) {
    const stale = staleTables();
    if (stale.length) {
      writeStderr(`gen_tables: out of date: ${stale.join(", ")} (run deno task gen:tables)\n`);
      exit(1);
    }
    writeStdout("gen_tables: all generated tables are current\n");
  } else {
    for (const [path, text] of generatedTables()) writeFile(`${ROOT}${path}`, text);
    writeStdout(`gen_tables: wrote ${[...generatedTables().keys()].join(", ")}\n`);
  }
}
