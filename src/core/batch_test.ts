import { test } from "../../tests/harness.ts";
import { assertEquals } from "../../tests/assert.ts";
import { planStep } from "./batch.ts";

test("planStep: decoding sequences first, then prompt chunks in arrival order", () => {
  // A prompt of 300 tokens arrived before three decoding sequences: they go first, the prompt
  // gets the rest of the budget.
  assertEquals(planStep([300, 1, 1, 1], 256, 8), [253, 1, 1, 1]);
  // Two prompts: the earlier one first.
  assertEquals(planStep([200, 100], 256, 8), [200, 56]);
  // The sequence bound leaves later jobs for the next pass.
  assertEquals(planStep([1, 1, 1, 5], 256, 2), [1, 1, 0, 0]);
  // Finished jobs (0 left) take nothing; an empty budget still moves one token.
  assertEquals(planStep([0, 3], 256, 8), [0, 3]);
  assertEquals(planStep([4, 1], 0, 8), [0, 1]);
});
