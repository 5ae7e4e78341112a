/**
 * `tokenize` command tests with injected stdin: ids match llama.cpp's golden prompt tokens;
 * usage errors exit 2.
 */
import { assertEquals, assertMatch, assertRejects } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { HAVE_SHARED, NO_SHARED_REASON, sharedPath } from "../../tests/shared_data.ts";
import { readTextFile } from "../runtime/host.ts";
import type { CommandIO } from "./command.ts";
import { runCli } from "./main.ts";
import { makeTokenizeCommand } from "./tokenize.ts";

const shared = { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON };
const MODEL = sharedPath("models", "stories260K.gguf");

/** Runs a tokenize command whose stdin is `input`. */
async function tokenize(input: string, ...argv: string[]) {
  let out = "", err = "";
  const io: CommandIO = { stdout: (t) => void (out += t), stderr: (t) => void (err += t) };
  const code = await makeTokenizeCommand(() => Promise.resolve(input)).run(argv, io);
  return { code, out, err };
}

test("cli tokenize: ids equal llama.cpp's prompt tokens with --add-special", async () => {
  const rows: { prompt: string; prompt_tokens: number[] }[] = readTextFile(
    sharedPath("golden", "stories260K.jsonl"),
  ).trim().split("\n").map((l) => JSON.parse(l));
  for (const row of rows) {
    const r = await tokenize(row.prompt, "-m", MODEL, "--add-special");
    assertEquals(r, { code: 0, out: row.prompt_tokens.join(" ") + "\n", err: "" });
    // Without --add-special there is no BOS.
    const plain = await tokenize(row.prompt, "-m", MODEL);
    assertEquals(plain.out, row.prompt_tokens.slice(1).join(" ") + "\n");
  }
}, shared);

test("cli tokenize: --parse-special turns special-token text into its id", async () => {
  const special = await tokenize("<s>Once", "-m", MODEL, "--parse-special");
  const literal = await tokenize("<s>Once", "-m", MODEL);
  assertEquals(special.out.split(" ")[0], "1");
  assertEquals(literal.out.split(" ").includes("1"), false);
  const empty = await tokenize("", "-m", MODEL);
  assertEquals(empty.out, "\n");
}, shared);

test("cli tokenize: usage errors exit 2; a missing file is an error", async () => {
  let out = "", err = "";
  const io: CommandIO = { stdout: (t) => void (out += t), stderr: (t) => void (err += t) };
  assertEquals(await runCli(["tokenize"], io), 2);
  assertMatch(err, /^error \[USAGE\]: missing -m MODEL$/m);
  err = "";
  assertEquals(await runCli(["tokenize", "-m", MODEL, "stray"], io), 2);
  assertMatch(err, /^error \[USAGE\]: unexpected argument stray$/m);
  err = "";
  assertEquals(await runCli(["tokenize", "--add-special=maybe", "-m", MODEL], io), 2);
  assertEquals(out, "");
  // The command itself throws; runCli turns that into exit 1 with the error's code.
  await assertRejects(() => tokenize("x", "-m", sharedPath("nope.gguf")));
});
