/**
 * A fake op added through the op schema alone is validated by every layer: the TypeScript
 * encoder (encodeOp), the generated C tables read by the native validator (compiled here
 * with the host C++ compiler against headers generated from the extended schema; skipped
 * without one), and the HIP capability check the scheduler asks (hipSupportsOp).
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { hipSupportsOp } from "../src/backends/hip/support.ts";
import type { Backend } from "../src/core/backend.ts";
import { BackendError, InvalidArgumentError } from "../src/core/errors.ts";
import { type Graph, GraphBuilder, type GraphNode } from "../src/core/graph.ts";
import {
  encodeOp,
  PROGRAM_OPS,
  PROGRAM_SCHEMA,
  type ProgramOpSpec,
  programSchema,
} from "../src/core/op_schema.ts";
import { assignNodes } from "../src/core/scheduler.ts";
import { GGMLType } from "../src/gguf/ggml_types.ts";
import { generatedTables } from "../src/core/op_schema_gen.ts";
import { join } from "./_path.ts";
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { test } from "./harness.ts";
import { REPO_ROOT } from "./shared_data.ts";

/** out[t, c] = x[t, c] * w[c] * alpha, with an F32/F16 weight (read in the "norm" role). */
const SCALE_ROWS: ProgramOpSpec = {
  name: "scale_rows",
  code: 42,
  words: [
    { name: "out", kind: "slot", elems: ["T", "cols"] },
    { name: "x", kind: "slot", elems: ["T", "cols"] },
    { name: "T", kind: "dim" },
    { name: "cols", kind: "dim" },
    { name: "wSlot", kind: "weight", type: "wType", shape: ["cols"] },
    { name: "wType", kind: "type", use: "norm" },
    { name: "alpha", kind: "f32" },
  ],
  weights: { weight: "wType" },
};
const EXTENDED = programSchema([...PROGRAM_OPS, SCALE_ROWS]);
const OPERANDS = { out: 0, x: 4, T: 2, cols: 128, wSlot: 0, wType: GGMLType.F32, alpha: 0.5 };

test("fake op: the TypeScript encoder lays out and checks its words from the schema", () => {
  const words = encodeOp(EXTENDED, "scale_rows", OPERANDS);
  assertEquals(words.slice(0, 7), [42, 0, 4, 2, 128, 0, GGMLType.F32]);
  assertEquals(new Float32Array(Int32Array.of(words[7]).buffer)[0], 0.5);
  const rejects = (values: Record<string, number>, re: RegExp) =>
    assertThrows(() => encodeOp(EXTENDED, "scale_rows", values), InvalidArgumentError, re.source);
  rejects({ ...OPERANDS, T: 0 }, /T must be positive/);
  rejects({ ...OPERANDS, x: -1 }, /x must not be negative/);
  rejects({ ...OPERANDS, wType: GGMLType.Q4_0 }, /not read by the HIP kernels as norm/);
  rejects({ ...OPERANDS, cols: 1.5 }, /cols is not an int32/);
  rejects({ ...OPERANDS, extra: 1 }, /unknown operand extra/);
  const { alpha: _, ...noAlpha } = OPERANDS;
  rejects(noAlpha, /alpha is missing/);
  assertThrows(() => encodeOp(PROGRAM_SCHEMA, "scale_rows", OPERANDS), InvalidArgumentError);
  // A malformed entry is refused when the schema is built.
  assertThrows(() => programSchema([...PROGRAM_OPS, { ...SCALE_ROWS, code: 3 }]));
  assertThrows(() =>
    programSchema([{ ...SCALE_ROWS, words: [{ name: "x", kind: "slot", elems: ["rows"] }] }])
  );
});

/** A C++ compiler here, or undefined. */
function cxx(): string | undefined {
  for (const c of ["c++", "g++", "clang++"]) {
    try {
      execFileSync(c, ["--version"], { stdio: "ignore" });
      return c;
    } catch {
      // try the next
    }
  }
  return undefined;
}
const CXX = cxx();
/** The validator source (absent in the npm package, whose tests run under Node). */
const HAVE_NATIVE = existsSync(join(REPO_ROOT, "native", "rf_program_check.cpp"));

const VALIDATOR_MAIN = `
#include <stdio.h>
#include "rf_program_check.h"
using namespace rf;
// argv: scratchBytes arenaBytes words...; prints "ok" or the error.
int main(int argc, char** argv) {
  ProgramBounds b{atoll(argv[1]), 0, 0, atoll(argv[2])};
  int32_t w[64];
  int n = 0;
  for (int i = 3; i < argc; ++i) w[n++] = (int32_t)atol(argv[i]);
  for (int i = 0; i < n;) {
    const OpInfo* op = op_info(w[i]);
    if (!op || i + 1 + op->words > n) { printf("malformed at %d\\n", i); return 0; }
    std::string err;
    if (!check_words(*op, w + i + 1, b, err)) { printf("%s: %s\\n", op->name, err.c_str()); return 0; }
    i += 1 + op->words;
  }
  printf("ok\\n");
  return 0;
}
`;

test("fake op: the native validator checks it from the generated C tables", () => {
  const dir = mkdtempSync(join(tmpdir(), "rocmforge-schema-"));
  try {
    for (const [path, text] of generatedTables(EXTENDED)) {
      if (path.startsWith("native/")) writeFileSync(join(dir, path.slice(7)), text);
    }
    for (const f of ["rf_program_check.h", "rf_program_check.cpp"]) {
      copyFileSync(join(REPO_ROOT, "native", f), join(dir, f));
    }
    writeFileSync(join(dir, "main.cpp"), `#include <stdlib.h>\n${VALIDATOR_MAIN}`);
    const exe = join(dir, "validate");
    execFileSync(CXX!, [
      "-std=c++20",
      "-Wall",
      "-Wextra",
      "-Werror",
      "-I",
      dir,
      join(dir, "rf_program_check.cpp"),
      join(dir, "main.cpp"),
      "-o",
      exe,
    ]);
    const run = (scratch: number, arena: number, words: number[]) =>
      execFileSync(exe, [String(scratch), String(arena), ...words.map(String)]).toString().trim();
    const words = encodeOp(EXTENDED, "scale_rows", OPERANDS);
    // x at slot 4 (1024 bytes) + 2 * 128 floats = 2048 bytes of scratch; w: 512 bytes.
    assertEquals(run(2048, 512, words), "ok");
    assert(/^scale_rows: x range .* exceeds scratch of 2047/.test(run(2047, 512, words)));
    assertEquals(run(2048, 511, words), "scale_rows: wSlot range exceeds the weight arena");
    assertEquals(run(2048, -1, words), "scale_rows: wSlot needs a weight arena");
    const q4 = [...words];
    q4[6] = GGMLType.Q4_0;
    assertEquals(run(2048, 512, q4), "scale_rows: wType is type 2, unsupported in this role");
    assertEquals(run(2048, 512, words.slice(0, 7)), "malformed at 0");
    // An opcode no schema entry has is malformed.
    assertEquals(run(4096, 4096, [99]), "malformed at 0");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, {
  ignore: CXX === undefined || !HAVE_NATIVE,
  reason: HAVE_NATIVE ? "no C++ compiler (c++, g++ or clang++) found" : "no native/ sources here",
});

test("fake op: the scheduler's capability check follows the schema", () => {
  const g = new GraphBuilder(2, 1);
  const x = g.value(2, 128, "x");
  const fake = { op: "scale_rows", layer: 0, out: g.value(2, 128, "y"), x, weight: "w" };
  g.push(fake as unknown as GraphNode);
  const graph: Graph = g.build(1);
  let wType: number = GGMLType.F16;
  const schemaBackend = (schema: typeof PROGRAM_SCHEMA) =>
    ({
      name: "hip-schema",
      supportsOp: (n: GraphNode, t: (name: string) => number | undefined) =>
        hipSupportsOp(n, t, schema),
    }) as unknown as Backend;
  const assign = (schema: typeof PROGRAM_SCHEMA) =>
    assignNodes(graph, () => [schemaBackend(schema)], () => wType as GGMLType);
  assertEquals(assign(EXTENDED).map((b) => b.name), ["hip-schema"]);
  // Without the schema entry, or with a weight type HIP does not read as norm: unsupported.
  assertThrows(() => assign(PROGRAM_SCHEMA), BackendError, "no backend supports scale_rows");
  wType = GGMLType.Q4_0;
  assertThrows(() => assign(EXTENDED), BackendError, "no backend supports scale_rows");
});
