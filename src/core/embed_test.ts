/** Pooling choices: the model's own, mean by default, and a typed refusal of "none". */
import { assertEquals, assertThrows } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { bertArchitecture } from "../model/bert.ts";
import { modelPooling, poolHidden } from "./embed.ts";
import { InvalidArgumentError } from "./errors.ts";

test("embed: a model's own pooling, mean by default, none refused", () => {
  const m = (pooling?: "none" | "mean" | "cls" | "last") => ({
    pooling,
    architecture: bertArchitecture,
  });
  assertEquals([m().pooling, modelPooling(m()), modelPooling(m("cls")), modelPooling(m("last"))], [
    undefined,
    "mean",
    "cls",
    "last",
  ]);
  assertThrows(() => modelPooling(m("none")), InvalidArgumentError);
});

test("embed: pooling picks rows, then L2-normalizes unless told not to", () => {
  const h = Float32Array.of(3, 0, 0, 4, 6, 8); // 3 rows of 2
  assertEquals(Array.from(poolHidden(h, 3, 2, "cls")), [1, 0]);
  assertEquals(Array.from(poolHidden(h, 3, 2, "last")), [Math.fround(0.6), Math.fround(0.8)]);
  assertEquals(Array.from(poolHidden(h, 3, 2, "mean", false)), [3, 4]);
});
