/**
 * `generate` command tests, in-process through runCli with captured output: stdout carries
 * exactly the generated text (greedy stories260K equals llama.cpp's golden text), stderr
 * the load and speed lines; usage errors exit 2, other errors 1.
 */
import { assert, assertEquals, assertMatch } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { HAVE_SHARED, NO_SHARED_REASON, sharedPath } from "../../tests/shared_data.ts";
import { makeTempDir, removeTree, urlToPath } from "../runtime/fs_tree.ts";
import { readTextFile, writeFile } from "../runtime/host.ts";
import type { CommandIO } from "./command.ts";
import { runCli } from "./main.ts";

const shared = { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON };
const MODEL = sharedPath("models", "stories260K.gguf");
/** The XTC example plugin (".js" in the npm build's transpiled suite). */
const XTC_FILE = `mod${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`;
const XTC = urlToPath(new URL(`../../plugins/xtc_sampler/${XTC_FILE}`, import.meta.url));

/** Runs the CLI with captured streams (and `stdin` as standard input, when given). */
async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  return await cliWith({}, ...argv);
}

async function cliWith(
  more: Partial<CommandIO>,
  ...argv: string[]
): Promise<{ code: number; out: string; err: string }> {
  let out = "", err = "";
  const io: CommandIO = {
    stdout: (t) => void (out += t),
    stderr: (t) => void (err += t),
    ...more,
  };
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
    "--no-echo",
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
  const base = ["generate", "-m", MODEL, "-p", "Once upon a time", "--backend", "cpu", "--no-echo"];
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
      [["generate", "-m", MODEL], /^error \[USAGE\]: missing -p PROMPT \(or -f FILE/m],
      [
        ["generate", "-m", MODEL, "-p", "x", "--temp", "-1"],
        /^error \[USAGE\]: --temp: temperature/m,
      ],
      [["generate", "-m", MODEL, "-p", "x", "--top-p", "2"], /^error \[USAGE\]: --top-p: topP/m],
      [["generate", "-m", MODEL, "-p", "x", "-t", "0"], /^error \[USAGE\]: --threads must be/m],
      [["generate", "-m", MODEL, "-p", "x", "-f", "y"], /^error \[USAGE\]: give -p PROMPT or -f/m],
      [["generate", "-m", MODEL, "-p", "x", "--stop", ""], /^error \[USAGE\]: --stop needs/m],
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

test("cli generate: a usage error in a sampling flag exits 2 before the model loads", async () => {
  // The model path does not exist: reaching the load would exit 1 (MODEL_FILE_NOT_FOUND).
  const r = await cli("generate", "-m", "/nonexistent/m.gguf", "-p", "x", "--temp", "-1");
  assertEquals(r.code, 2, r.err);
  const missing = await cli("generate", "-m", "/nonexistent/m.gguf", "-p", "x");
  assertEquals(missing.code, 1);
  assertMatch(missing.err, /^error \[MODEL_FILE_NOT_FOUND\]: /m);
});

test("cli generate: echo, --json, -f, stdin and llama.cpp's flag spellings", async () => {
  const base = ["generate", "-m", MODEL, "--backend", "cpu", "-n", "8"];
  const plain = await cli(...base, "-p", "Once upon a time", "--no-echo");
  assertEquals(plain.code, 0, plain.err);
  const text = plain.out;
  const echoed = await cli(...base, "-p", "Once upon a time");
  assertEquals(echoed.out, "Once upon a time" + text);
  assertMatch(echoed.err, /^load: /m);
  const tty = await cliWith(
    { tty: { stdin: false, stdout: true, stderr: false } },
    ...base,
    "-p",
    "Once upon a time",
  );
  assertEquals(tty.out, "\x1b[2mOnce upon a time\x1b[0m" + text);
  const json = await cli(...base, "-p", "Once upon a time", "--json");
  assertEquals(json.code, 0, json.err);
  const obj = JSON.parse(json.out);
  assertEquals(obj.text + "\n", text);
  assertEquals([obj.completionTokens, obj.tokens.length, obj.finishReason], [8, 8, "length"]);
  assert(obj.timings.tokensPerSecond > 0 && obj.timings.promptMs >= 0, json.out);
  assertEquals(json.out.trim().split("\n").length, 1);
  const dir = makeTempDir("rf-cli-");
  try {
    writeFile(`${dir}/p.txt`, "Once upon a time\n");
    const file = await cli(...base, "-f", `${dir}/p.txt`, "--no-echo");
    assertEquals(file.out, text);
  } finally {
    removeTree(dir);
  }
  const stdin = await cliWith(
    { readStdin: () => Promise.resolve("Once upon a time\n") },
    ...base,
    "--no-echo",
  );
  assertEquals(stdin.out, text);
  const llama = await cli(
    "generate",
    "-m",
    MODEL,
    "--backend",
    "cpu",
    "--no-echo",
    "-p",
    "Once upon a time",
    "--n-predict",
    "8",
    "--ctx-size",
    "64",
    "-ngl",
    "0",
    "--n-gpu-layers",
    "0",
    "-t",
    "1",
    "--threads",
    "2",
    "--repeat-penalty",
    "1",
    "--presence-penalty",
    "0",
    "--typical",
    "1",
  );
  assertEquals([llama.code, llama.out], [0, text], llama.err);
}, shared);

test(
  "cli generate: --plugin loads a sampler plugin by path; a module without one is an error",
  async () => {
    const base = ["generate", "-m", MODEL, "--backend", "cpu", "-n", "6", "--no-echo", "-p", "Hi"];
    const xtc = await cli(
      ...base,
      "--plugin",
      XTC,
      "--sampler",
      "xtc",
      "--sampler-options",
      '{"probability":1,"threshold":0.01,"seed":3}',
    );
    assertEquals(xtc.code, 0, xtc.err);
    const greedy = await cli(...base);
    assert(xtc.out !== greedy.out, "XTC (always on) changes the greedy text");
    const dir = makeTempDir("rf-plugin-");
    try {
      writeFile(`${dir}/empty.mjs`, "export const nothing = 1;\n");
      const empty = await cli(...base, "--plugin", `${dir}/empty.mjs`);
      assertEquals(empty.code, 1);
      assertMatch(empty.err, /^error \[PLUGIN_INVALID\]: .*exports no plugin/m);
      const missing = await cli(...base, "--plugin", `${dir}/none.mjs`);
      assertMatch(missing.err, /^error \[PLUGIN_NOT_FOUND\]: cannot import plugin module/m);
      const unknown = await cli(...base, "--sampler", "nosuch");
      assertMatch(unknown.err, /^error \[PLUGIN_NOT_FOUND\]: no sampler named nosuch/m);
    } finally {
      removeTree(dir);
    }
  },
  shared,
);
