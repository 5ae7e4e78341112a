/**
 * runCommand: exit code and output of a child process, and -1 for a missing command.
 *
 * @module
 */
import { test } from "../../tests/harness.ts";
import { assertStrictEquals } from "../../tests/assert.ts";
import { runCommand } from "./subprocess.ts";

test("runCommand returns the exit code, stdout and stderr", async () => {
  const r = await runCommand("sh", ["-c", "echo out; echo err >&2; exit 3"]);
  assertStrictEquals(r.code, 3);
  assertStrictEquals(r.stdout, "out\n");
  assertStrictEquals(r.stderr, "err\n");
});

test("runCommand passes extra environment variables", async () => {
  const r = await runCommand("sh", ["-c", 'printf %s "$RF_SUBPROCESS_TEST"'], {
    env: { RF_SUBPROCESS_TEST: "yes" },
  });
  assertStrictEquals(r.stdout, "yes");
});

test("runCommand gives -1 for a command that does not exist", async () => {
  const r = await runCommand("rocmforge-no-such-command-xyz", []);
  assertStrictEquals(r.code, -1);
});
