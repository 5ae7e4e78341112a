import { assertEquals } from "../../../tests/assert.ts";
import { test } from "../../../tests/harness.ts";
import { InvalidArgumentError } from "../../core/errors.ts";
import { MEMORY_ENV, memoryOverride } from "./backend.ts";

test("ROCMFORGE_WEBGPU_MEMORY: unset or empty means no override", () => {
  assertEquals(memoryOverride(undefined), undefined);
  assertEquals(memoryOverride(""), undefined);
  assertEquals(memoryOverride("  "), undefined);
});

test("ROCMFORGE_WEBGPU_MEMORY: a positive whole number of bytes is taken", () => {
  assertEquals(memoryOverride("17179869184"), 17179869184);
  assertEquals(memoryOverride(" 4096 "), 4096);
});

test("ROCMFORGE_WEBGPU_MEMORY: anything else is a typed error naming the variable", () => {
  for (const bad of ["16G", "-1", "0", "1.5", "NaN", "Infinity", "1e400", "abc"]) {
    let caught: unknown;
    try {
      memoryOverride(bad);
    } catch (e) {
      caught = e;
    }
    if (!(caught instanceof InvalidArgumentError)) throw new Error(`${bad}: no typed error`);
    assertEquals(caught.code, "INVALID_ARGUMENT");
    assertEquals(caught.facts.actual, bad);
    assertEquals(caught.message.includes(MEMORY_ENV), true);
  }
});
