/**
 * `cli serve` end to end: listens, reports 503 then 200 on /health, answers a completion,
 * and on SIGTERM (and SIGINT) stops and exits 0.
 */
import { test } from "./harness.ts";
import { assertMatch, assertStrictEquals } from "./assert.ts";
import { HAVE_SHARED, NO_SHARED_REASON } from "./shared_data.ts";
import { MODEL_PATH, postJson, spawnCli, waitFor } from "./_server_util.ts";

const IS_DENO = "Deno" in globalThis;
const skip = IS_DENO
  ? { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON }
  : { ignore: true, reason: "the CLI runs from TypeScript sources under Deno only" };

for (const sig of ["SIGTERM", "SIGINT"] as const) {
  test(`cli serve: serves, then exits 0 on ${sig}`, async () => {
    const cli = await spawnCli([
      "serve",
      "-m",
      MODEL_PATH,
      "--port",
      "0",
      "--backend",
      "cpu",
      "--parallel",
      "2",
      "--api-key",
      "secret",
    ]);
    try {
      const url = (await cli.waitFor(/listening on (http:\/\/\S+)/))[1];
      await waitFor("health 200", async () => (await fetch(`${url}/health`)).status === 200, 20000);
      const auth = { authorization: "Bearer secret" };
      const r = await postJson(`${url}/v1/completions`, { prompt: "Once", max_tokens: 4 }, auth);
      assertStrictEquals(r.status, 200);
      assertStrictEquals(r.body.usage.completion_tokens, 4);
      assertStrictEquals((await postJson(`${url}/v1/completions`, { prompt: "x" })).status, 401);
      cli.signal(sig);
      assertStrictEquals(await cli.exited, 0, cli.stderr());
      assertMatch(cli.stderr(), new RegExp(`${sig}: shutting down`));
      assertMatch(cli.stderr(), /stopped/);
    } finally {
      cli.signal("SIGTERM");
    }
  }, skip);
}

test("cli serve: a model that fails to load stops the server with status 1", async () => {
  const cli = await spawnCli(["serve", "-m", "/nonexistent/model.gguf", "--port", "0"]);
  try {
    assertStrictEquals(await cli.exited, 1, cli.stderr());
    assertMatch(cli.stderr(), /load failure: shutting down/);
    assertMatch(cli.stderr(), /^error \[\w+\]: /m);
  } finally {
    cli.signal("SIGTERM");
  }
}, skip);
