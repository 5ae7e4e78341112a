import { assertEquals, assertThrows } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { UnsupportedTypeError } from "../core/errors.ts";
import { GGMLType, tensorBytes, typeByName, typeTraits } from "./ggml_types.ts";

test("type table: block layouts of common types", () => {
  assertEquals(typeTraits(GGMLType.Q4_0).typeSize, 18);
  assertEquals(typeTraits(GGMLType.Q4_K).typeSize, 144);
  assertEquals(typeTraits(GGMLType.Q6_K).typeSize, 210);
  assertEquals(typeByName("mxfp4").typeSize, 17);
  assertEquals(tensorBytes(GGMLType.Q8_0, 64, 32), 68);
});

test("type table: removed and unknown ids are rejected with a typed error", () => {
  for (const id of [4, 5, 31, 36, 40, 255]) {
    assertThrows(() => typeTraits(id), (e: unknown) => e instanceof UnsupportedTypeError);
  }
  assertThrows(() => tensorBytes(GGMLType.Q4_0, 33), /multiple of Q4_0 block size/);
});
