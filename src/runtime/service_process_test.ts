/**
 * startService: output kept, stop by SIGTERM (and SIGKILL when SIGTERM is ignored), a failed
 * start settles `exited` with -1.
 *
 * @module
 */
import { test } from "../../tests/harness.ts";
import { assert, assertStrictEquals } from "../../tests/assert.ts";
import { startService } from "./service_process.ts";

test("startService keeps the output and stops the child with SIGTERM", async () => {
  const p = startService("sh", ["-c", "echo up; echo err >&2; exec sleep 60"]);
  for (let i = 0; i < 100 && !p.output().includes("err"); i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  assert(p.output().includes("up") && p.output().includes("err"), p.output());
  const code = await p.stop();
  assertStrictEquals(code, -1); // ended by a signal
  assertStrictEquals(await p.stop(), -1); // stopping again answers at once
});

test("startService kills a child that ignores SIGTERM after the grace period", async () => {
  const p = startService("sh", ["-c", "trap '' TERM; echo ready; while :; do sleep 0.05; done"]);
  for (let i = 0; i < 100 && !p.output().includes("ready"); i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  assertStrictEquals(await p.stop(200), -1);
});

test("startService: a command that cannot start settles exited with -1", async () => {
  const p = startService("/nonexistent/rocmforge-no-such-binary", []);
  assertStrictEquals(await p.exited, -1);
});
