import { test } from "../../tests/harness.ts";
import { assertEquals, assertMatch, assertRejects, assertThrows } from "../../tests/assert.ts";
import { UsageError } from "./args.ts";
import { cacheOptions, corsOrigins, serveCommand } from "./serve.ts";

test("serve: --cors-origin defaults to * on loopback hosts and off elsewhere", () => {
  assertEquals(corsOrigins(undefined, "127.0.0.1"), ["*"]);
  assertEquals(corsOrigins(undefined, "::1"), ["*"]);
  assertEquals(corsOrigins(undefined, "0.0.0.0"), []);
  assertEquals(corsOrigins("none", "127.0.0.1"), []);
  assertEquals(corsOrigins("http://a.example, https://b.example:8443", "0.0.0.0"), [
    "http://a.example",
    "https://b.example:8443",
  ]);
  assertThrows(() => corsOrigins("a.example", "0.0.0.0"), UsageError);
});

test("serve: --prompt-cache-tokens and --choice-forks pass through, 0 allowed, absent = engine default", () => {
  assertEquals(cacheOptions({}), { promptCacheTokens: undefined, choiceForks: undefined });
  assertEquals(cacheOptions({ "prompt-cache-tokens": 0, "choice-forks": 0 }), {
    promptCacheTokens: 0,
    choiceForks: 0,
  });
  assertEquals(cacheOptions({ "prompt-cache-tokens": 4096, "choice-forks": 3 }), {
    promptCacheTokens: 4096,
    choiceForks: 3,
  });
  assertMatch(serveCommand.usage, /--prompt-cache-tokens N/);
  assertMatch(serveCommand.usage, /--choice-forks N/);
});

test("serve: a bad --prompt-cache-tokens or --choice-forks is a UsageError before any model loads", async () => {
  const io = { stdout: () => {}, stderr: () => {} };
  for (
    const bad of [
      ["--prompt-cache-tokens", "-1"],
      ["--prompt-cache-tokens", "1.5"],
      ["--prompt-cache-tokens", "many"],
      ["--choice-forks", "-2"],
      ["--choice-forks", "2x"],
      ["--choice-forks"],
    ]
  ) {
    // The model path does not exist: a UsageError (exit 2) shows the flag was refused first.
    await assertRejects(
      () => serveCommand.run(["-m", "/nonexistent/model.gguf", "--port", "0", ...bad], io),
      UsageError,
    );
  }
});
