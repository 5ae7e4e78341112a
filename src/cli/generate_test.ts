/**
 * `generate` command tests, in-process through runCli with captured output: stdout carries
 * exactly the generated text (greedy stories260K equals llama.cpp's golden text), stderr
 * the load and speed lines; usage errors exit 2, other errors 1.
 */
import { assert, assertEquals, assertMatch } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { HAVE_SHARED, NO_SHARED_REASON, sharedPath } from "../../tests/shared_data.ts";
import { readTextFile } from "../runtime/host.ts";
import type { CommandIO } from "./command.ts";
import { runCli } from "./main.ts";

const shared = { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON };
const MODEL = sharedPath("models", "stories260K.gguf");

/** Runs the CLI with captured streams. */
async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "", err = "";
  const io: CommandIO = { stdout: (t) => void (out += t), stderr: (t) => void (err += t) };
  const code = await runCli(argv, io);
  return { code, out, err };
}

function golden(): { prompt: string; tokens: number[]; text: string } {
  return JSON.parse(readTextFile(sharedPath("golden", "stories260K.jsonl")).split("\n")[0]);
}

test("cli generate: greedy stdout is exactly llama.cpp's text; speed goes to stderr", async () => {
  const row = golden();
  const r = await cli(
    "generate",
    "-m",
    MODEL,
    "-p",
    row.prompt,
    "-n",
    String(row.tokens.length),
    "--temp",
    "0",
    "--ignore-eos",
    "--backend",
    "cpu",
  );
  assertEquals(r.code, 0, r.err);
  assertEquals(r.out, row.text + "\n");
  assertMatch(r.err, /^loaded .*stories260K\.gguf \(llama, 5 layers\) in \d+ ms; cpu: /m);
  assertMatch(
    r.err,
    /^prompt 5 tokens in \d+ ms \([\d.]+ tokens\/s\); generated 48 tokens, [\d.]+ tokens\/s; finish: length$/m,
  );
  assert(!r.out.includes("tokens/s") && !r.out.includes("loaded"));
}, shared);

test("cli generate: --stop cuts the text; a seed reproduces sampled text", async () => {
  const base = ["generate", "-m", MODEL, "-p", "Once upon a time", "--backend", "cpu"];
  const stop = await cli(...base, "-n", "40", "--temp", "0", "--stop", "Lily", "--stop", "zzz");
  assertEquals(stop.code, 0, stop.err);
  assertEquals(stop.out, ", there was a little girl named \n");
  assertMatch(stop.err, /finish: stop$/m);
  const sampled = (seed: string) => cli(...base, "-n", "24", "--temp", "0.9", "--seed", seed);
  const a = await sampled("7"), b = await sampled("7");
  assertEquals(a.code, 0, a.err);
  assertEquals(a.out, b.out);
  assert(a.out.length > 24, a.out);
  const zero = await cli(...base, "-n", "0");
  assertEquals([zero.code, zero.out], [0, "\n"]);
}, shared);

test("cli generate: usage errors exit 2 with one error line", async () => {
  for (
    const [argv, pattern] of [
      [["generate", "-p", "hi"], /^error \[USAGE\]: missing -m MODEL$/m],
      [["generate", "-m", MODEL], /^error \[USAGE\]: missing -p PROMPT$/m],
      [["generate", "-m", MODEL, "-p", "x", "-n", "-1"], /^error \[USAGE\]: -n must be >= 0/m],
      [["generate", "-m", MODEL, "-p", "x", "-n", "many"], /^error \[USAGE\]/m],
      [["generate", "-m", MODEL, "-p", "x", "--bogus"], /^error \[USAGE\]/m],
      [["generate", "-m", MODEL, "-p", "x", "extra"], /^error \[USAGE\]: unexpected argument/m],
      [["generate", "-m", MODEL, "-p", "x", "--ctx", "0"], /^error \[USAGE\]: --ctx must be >= 1/m],
    ] as const
  ) {
    const r = await cli(...argv);
    assertEquals(r.code, 2, `${argv.join(" ")}: ${r.err}`);
    assertMatch(r.err, pattern);
    assertEquals(r.out, "");
  }
});

test("cli generate: runtime errors exit 1 with their code", async () => {
  const missing = await cli("generate", "-m", sharedPath("no-such-model.gguf"), "-p", "x");
  assertEquals(missing.code, 1);
  assertMatch(missing.err, /^error \[[A-Z_]+\]: /);
  const backend = await cli("generate", "-m", MODEL, "-p", "x", "--backend", "nosuch");
  assertEquals(backend.code, 1, backend.err);
  assertMatch(backend.err, /^error \[PLUGIN_NOT_FOUND\]: no backend named nosuch/m);
  assertEquals(backend.out, "");
}, shared);
