import { mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readTextFile } from "../src/runtime/host.ts";
import { assertEquals, assertMatch } from "../tests/assert.ts";
import { test } from "../tests/harness.ts";
import { runSteps, staleSteps, type Step } from "./_native_steps.ts";

/** A step that concatenates `inputs` into `output` with sh (fails when `fail`). */
function cat(dir: string, output: string, inputs: string[], fail = false): Step {
  const ins = inputs.map((i) => join(dir, i));
  return {
    cmd: "sh",
    args: [
      "-c",
      fail ? "echo broken >&2; exit 3" : `cat "$@" > ${join(dir, output)}`,
      "sh",
      ...ins,
    ],
    output: join(dir, output),
    inputs: ins,
  };
}

test("steps: dependency order, then only what an edit makes stale", async () => {
  const dir = mkdtempSync(join(tmpdir(), "rf-steps-"));
  try {
    writeFileSync(join(dir, "a.src"), "A");
    writeFileSync(join(dir, "b.src"), "B");
    const steps = [
      cat(dir, "a.o", ["a.src"]),
      cat(dir, "b.o", ["b.src"]),
      cat(dir, "lib", ["a.o", "b.o"]),
    ];
    assertEquals(staleSteps(steps, false).length, 3);
    assertEquals(await runSteps(steps, 2, dir), []);
    assertEquals(readTextFile(join(dir, "lib")), "AB");
    assertEquals(staleSteps(steps, false), []);
    assertEquals(staleSteps(steps, true).length, 3);
    // A newer source reruns its object and everything built from it.
    writeFileSync(join(dir, "b.src"), "C");
    const later = Date.now() / 1000 + 5;
    utimesSync(join(dir, "b.src"), later, later);
    assertEquals(staleSteps(steps, false).map((s) => s.output), [steps[1].output, steps[2].output]);
    // A changed command line reruns that step.
    const changed = [{ ...steps[0], args: [...steps[0].args, "extra"] }, steps[1], steps[2]];
    assertEquals(staleSteps(changed, false).length, 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("steps: a failure is reported and what depends on it does not run", async () => {
  const dir = mkdtempSync(join(tmpdir(), "rf-steps-"));
  try {
    writeFileSync(join(dir, "a.src"), "A");
    const steps = [cat(dir, "a.o", ["a.src"], true), cat(dir, "lib", ["a.o"])];
    const failures = await runSteps(steps, 2, dir);
    assertEquals(failures.length, 1);
    assertMatch(failures[0], /broken/);
    assertEquals(staleSteps(steps, false).length, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
