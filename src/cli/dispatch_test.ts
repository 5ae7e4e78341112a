import { assert, assertEquals, assertMatch, assertStrictEquals } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { GGUFError } from "../core/errors.ts";
import { type Command, findCommand, listCommands, registerCommand } from "./command.ts";
import { formatError, runCli } from "./dispatch.ts";
import "./inspect.ts";

/** Runs the CLI in-process, capturing output. */
async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runCli(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t) });
  return { code, out, err };
}

const echo: Command = {
  name: "test-echo",
  summary: "echoes its arguments (test only)",
  usage: "test-echo [ARGS...]",
  run(argv, io) {
    if (argv[0] === "fail") return Promise.reject(new GGUFError("GGUF_BAD_MAGIC", "bad\nmagic"));
    if (argv[0] === "crash") return Promise.reject(new TypeError("boom"));
    io.stdout(JSON.stringify(argv));
    return Promise.resolve(argv.length === 0 ? 0 : 3);
  },
};
registerCommand(echo);

test("cli: no arguments and --help list the commands", async () => {
  for (const argv of [[], ["--help"], ["-h"]]) {
    const r = await cli(argv);
    assertStrictEquals(r.code, 0);
    assertMatch(r.out, /^usage: rocmforge/);
    assertMatch(r.out, /\n {2}inspect +show a GGUF/);
    assertMatch(r.out, /\n {2}test-echo +echoes/);
    assertStrictEquals(r.err, "");
  }
});

test("cli: unknown command or flag is a usage error with exit 2", async () => {
  let r = await cli(["frobnicate"]);
  assertStrictEquals(r.code, 2);
  assertStrictEquals(r.out, "");
  assertMatch(r.err, /^error \[USAGE\]: unknown command frobnicate\n/);
  r = await cli(["--frob"]);
  assertStrictEquals(r.code, 2);
  assertMatch(r.err, /^error \[USAGE\]: unknown flag --frob/);
  r = await cli(["inspect", "x.gguf", "--frob"]);
  assertStrictEquals(r.code, 2);
  assertMatch(r.err, /^error \[USAGE\]: unknown flag --frob/);
});

test("cli: dispatch, exit status, command --help, --debug stripped", async () => {
  let r = await cli(["test-echo", "a", "--debug", "--", "--debug", "--help"]);
  assertStrictEquals(r.code, 3);
  assertStrictEquals(r.out, JSON.stringify(["a", "--", "--debug", "--help"]));
  r = await cli(["--debug", "test-echo"]);
  assertEquals([r.code, r.out], [0, "[]"]);
  r = await cli(["test-echo", "x", "--help"]);
  assertEquals([r.code, r.out], [0, "usage: rocmforge test-echo [ARGS...]\n"]);
});

test("cli: errors print one line with the code; the stack only with --debug", async () => {
  let r = await cli(["test-echo", "fail"]);
  assertStrictEquals(r.code, 1);
  assertStrictEquals(r.err, "error [GGUF_BAD_MAGIC]: bad magic\n");
  r = await cli(["test-echo", "crash"]);
  assertStrictEquals(r.err, "error [INTERNAL]: boom\n");
  r = await cli(["--debug", "test-echo", "crash"]);
  assert(r.err.startsWith("error [INTERNAL]: boom\nTypeError: boom\n    at "), r.err);
  const enoent = Object.assign(new Error("no such file"), { code: "ENOENT" });
  assertStrictEquals(formatError(enoent, false), "error [ENOENT]: no such file\n");
  assertStrictEquals(formatError("text", false), "error [INTERNAL]: text\n");
});

test("cli: registry refuses duplicates and bad names", () => {
  assert(findCommand("inspect"));
  assert(listCommands().some((c) => c.name === "test-echo"));
  let threw = 0;
  for (const c of [echo, { ...echo, name: "Bad Name" }]) {
    try {
      registerCommand(c);
    } catch (e) {
      threw += (e as { code?: string }).code === "INVALID_ARGUMENT" ? 1 : 0;
    }
  }
  assertStrictEquals(threw, 2);
});
