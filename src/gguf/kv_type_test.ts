import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { InvalidArgumentError } from "../core/errors.ts";
import {
  checkKVShape,
  isDefaultKV,
  kvBlockSize,
  kvBytesPerElement,
  kvTypesLabel,
  parseKVTypes,
} from "./kv_type.ts";

test("kv types: names, both or { k, v }, unknown names and keys are typed errors", () => {
  assertEquals(parseKVTypes(undefined), { k: "f16", v: "f16" });
  assertEquals(parseKVTypes("Q8_0"), { k: "q8_0", v: "q8_0" });
  assertEquals(parseKVTypes({ v: "q4_0" }), { k: "f16", v: "q4_0" });
  for (const bad of ["q8", "", 8, null, ["f16"], { k: "f16", x: "f16" }, { k: "bf16" }]) {
    assertThrows(() => parseKVTypes(bad), InvalidArgumentError, JSON.stringify(bad));
  }
  assert(isDefaultKV(undefined) && isDefaultKV({ k: "f16", v: "f16" }));
  assert(!isDefaultKV({ k: "f32", v: "f16" }));
  assertEquals(kvTypesLabel({ k: "q8_0", v: "q8_0" }), "q8_0");
  assertEquals(kvTypesLabel({ k: "q8_0", v: "f16" }), "q8_0/f16");
});

test("kv types: sizes from the GGML table; heads must be whole blocks", () => {
  assertEquals(["f32", "f16", "q8_0", "q4_0"].map((t) => kvBytesPerElement(t as "f16")), [
    4,
    2,
    34 / 32,
    18 / 32,
  ]);
  assertEquals(kvBlockSize("q8_0"), 32);
  checkKVShape({ k: "q8_0", v: "q4_0" }, 64, 32);
  checkKVShape({ k: "f32", v: "f16" }, 8, 8);
  assertThrows(() => checkKVShape({ k: "q8_0", v: "f16" }, 8, 8), InvalidArgumentError);
  assertThrows(() => checkKVShape({ k: "f16", v: "q4_0" }, 64, 48), InvalidArgumentError);
});
