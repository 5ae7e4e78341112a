import { assertEquals, assertThrows } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { z } from "zod";
import { InvalidArgumentError } from "./errors.ts";
import { closestName, editDistance, parseOptions } from "./options.ts";

test("options: edit distance (case-insensitive, transpositions cost 1) and closest name", () => {
  assertEquals(editDistance("topk", "topK"), 0);
  assertEquals(editDistance("temprature", "temperature"), 1);
  assertEquals(editDistance("maxTokesn", "maxTokens"), 1);
  assertEquals(editDistance("", "abc"), 3);
  assertEquals(closestName("temprature", ["topK", "temperature", "seed"]), "temperature");
  assertEquals(closestName("x", []), undefined);
});

test("options: parseOptions reports unknown keys (nested too) before other problems", () => {
  const schema = z.strictObject({
    a: z.number().optional(),
    inner: z.strictObject({ count: z.number() }).optional(),
  });
  assertEquals(parseOptions(schema, undefined, "test option"), {});
  const check = (v: unknown, field: string, expected: unknown) =>
    assertThrows(
      () => parseOptions(schema, v, "test option"),
      (e: unknown) =>
        e instanceof InvalidArgumentError && e.facts.field === field &&
        e.facts.expected === expected,
    );
  check({ b: 1 }, "b", "a");
  check({ inner: { cuont: 1 } }, "inner.cuont", "count");
  check({ a: "x" }, "a", "invalid_type");
  assertThrows(() => parseOptions(schema, [], "test option"), InvalidArgumentError);
  assertThrows(() => parseOptions(schema, 5, "test option"), InvalidArgumentError);
});
