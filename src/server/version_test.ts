import { test } from "../../tests/harness.ts";
import { assertStrictEquals } from "../../tests/assert.ts";
import { readTextFile } from "../runtime/host.ts";
import { SERVER_VERSION } from "./version.ts";

test("server version equals deno.json's", () => {
  const deno = JSON.parse(readTextFile(new URL("../../deno.json", import.meta.url).pathname));
  assertStrictEquals(SERVER_VERSION, deno.version);
});
