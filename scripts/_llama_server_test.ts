/**
 * startLlamaServer without llama.cpp: a binary that exits at once is reported with its output,
 * not waited on until the ready timeout.
 *
 * @module
 */
import { test } from "../tests/harness.ts";
import { assertRejects } from "../tests/assert.ts";
import { startLlamaServer } from "./_llama_server.ts";

test("startLlamaServer: a server that exits before /health answers is an error with its output", async () => {
  await assertRejects(
    () =>
      startLlamaServer({
        bin: "false", // exits 1 at once, whatever its arguments
        model: "model.gguf",
        parallel: 1,
        slotTokens: 64,
        port: 1,
        readyMs: 20_000,
      }),
    /exited before it was ready/,
  );
});
