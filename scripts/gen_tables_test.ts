/**
 * The committed C/HIP/WASM tables equal a fresh generation from the schema, and the
 * generated names follow the schema's words.
 *
 * @module
 */
import { test } from "../tests/harness.ts";
import { assert, assertEquals } from "../tests/assert.ts";
import { PROGRAM_OPS } from "../src/core/op_schema.ts";
import { generatedTables, upperSnake } from "../src/core/op_schema_gen.ts";
import { staleTables } from "./gen_tables.ts";

test("committed generated tables are current (deno task gen:tables)", () => {
  assertEquals(staleTables(), []);
});

test("generated headers name every opcode and operand word of the schema", () => {
  assertEquals(
    ["nHeadKV", "wSlot", "T", "hostOffset", "kvLayer"].map(upperSnake),
    ["N_HEAD_KV", "W_SLOT", "T", "HOST_OFFSET", "KV_LAYER"],
  );
  const ops = generatedTables().get("native/rf_ops.gen.h")!;
  for (const op of PROGRAM_OPS) {
    const p = upperSnake(op.name);
    assert(ops.includes(`RF_OP_${p} = ${op.code},`), op.name);
    op.words.forEach((w, i) => assert(ops.includes(`RF_${p}_${upperSnake(w.name)} = ${i}`)));
  }
});
