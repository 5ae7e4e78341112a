import { test } from "../../tests/harness.ts";
import { assertEquals, assertThrows } from "../../tests/assert.ts";
import { UsageError } from "./args.ts";
import { corsOrigins } from "./serve.ts";

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
