/**
 * startLineProcess: request/answer lines with a child, and a clear error when it exits.
 *
 * @module
 */
import { test } from "../../tests/harness.ts";
import { assertRejects, assertStrictEquals } from "../../tests/assert.ts";
import { startLineProcess } from "./line_process.ts";

test("startLineProcess exchanges lines and reports the exit code", async () => {
  const p = startLineProcess("sh", ["-c", 'echo ready; while read l; do echo "got $l"; done']);
  assertStrictEquals(await p.readLine(), "ready");
  p.send("one");
  p.send("two");
  assertStrictEquals(await p.readLine(), "got one");
  assertStrictEquals(await p.readLine(), "got two");
  assertStrictEquals(await p.close(), 0);
});

test("startLineProcess rejects a read when the child exits without answering", async () => {
  const p = startLineProcess("sh", ["-c", "echo oops >&2; exit 3"]);
  await assertRejects(() => p.readLine(), /exited \(3\)[\s\S]*oops/);
  assertStrictEquals(await p.close(), 3);
});
