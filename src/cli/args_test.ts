import { assertEquals, assertMatch, assertStrictEquals, assertThrows } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { formatFlags, parseArgs, UsageError } from "./args.ts";

const SPEC = {
  json: { type: "boolean" },
  ctx: { type: "integer", short: "c", valueName: "N", description: "context" },
  temp: { type: "number", default: 0.8 },
  name: { type: "string", short: "n" },
  stop: { type: "string", multiple: true, description: "stop string" },
} as const;

const isUsage = (re: RegExp) => (e: unknown) =>
  e instanceof UsageError && e.code === "USAGE" && re.test(e.message);

test("args: every flag form, positionals and --", () => {
  const r = parseArgs(
    [
      "model.gguf",
      "--json",
      "-c",
      "128",
      "--temp=0.5",
      "-n=x",
      "--stop",
      "a",
      "--stop=b",
      "--",
      "--not-a-flag",
      "-",
    ],
    SPEC,
  );
  assertEquals(r.flags, { json: true, ctx: 128, temp: 0.5, name: "x", stop: ["a", "b"] });
  assertEquals(r.positionals, ["model.gguf", "--not-a-flag", "-"]);
  const typed: number | undefined = r.flags.ctx;
  const temp: number = r.flags.temp;
  const stop: string[] = r.flags.stop;
  assertEquals([typed, temp, stop.length], [128, 0.5, 2]);
});

test("args: defaults, last value wins, boolean forms", () => {
  assertEquals(parseArgs([], SPEC).flags, {
    json: false,
    ctx: undefined,
    temp: 0.8,
    name: undefined,
    stop: [],
  });
  assertStrictEquals(parseArgs(["--ctx", "1", "--ctx", "2"], SPEC).flags.ctx, 2);
  assertStrictEquals(parseArgs(["--json", "--no-json"], SPEC).flags.json, false);
  assertStrictEquals(parseArgs(["--json=false"], SPEC).flags.json, false);
  assertStrictEquals(parseArgs(["--json=1"], SPEC).flags.json, true);
  assertStrictEquals(parseArgs(["--name", "-x"], SPEC).flags.name, "-x");
});

test("args: usage errors", () => {
  assertThrows(() => parseArgs(["--bogus"], SPEC), isUsage(/unknown flag --bogus/));
  assertThrows(() => parseArgs(["--bogus=1"], SPEC), isUsage(/unknown flag --bogus$/));
  assertThrows(() => parseArgs(["-z"], SPEC), isUsage(/unknown flag -z/));
  assertThrows(() => parseArgs(["--no-ctx"], SPEC), isUsage(/unknown flag/));
  assertThrows(() => parseArgs(["--ctx"], SPEC), isUsage(/needs a value/));
  assertThrows(() => parseArgs(["--ctx", "abc"], SPEC), isUsage(/integer/));
  assertThrows(() => parseArgs(["--ctx", "1.5"], SPEC), isUsage(/integer/));
  assertThrows(() => parseArgs(["--temp", ""], SPEC), isUsage(/number/));
  assertThrows(() => parseArgs(["--json=maybe"], SPEC), isUsage(/true or false/));
  assertThrows(() => parseArgs(["--toString"], SPEC), isUsage(/unknown flag/));
});

test("args: help lines", () => {
  const help = formatFlags(SPEC);
  assertEquals(help.split("\n").length, 5);
  assertEquals(help.includes("-c, --ctx N"), true);
  assertEquals(help.includes("(default 0.8)"), true);
  assertEquals(help.includes("stop string (repeatable)"), true);
});

test("args: aliases (llama.cpp spellings) map to the flag", () => {
  const spec = {
    "gpu-layers": { type: "integer", aliases: ["-ngl", "--n-gpu-layers"] },
    ctx: { type: "integer", short: "c", aliases: ["--ctx-size"] },
  } as const;
  assertEquals(parseArgs(["-ngl", "3", "--ctx-size=64"], spec).flags, {
    "gpu-layers": 3,
    ctx: 64,
  });
  assertEquals(parseArgs(["--n-gpu-layers", "5", "-c", "8"], spec).flags, {
    "gpu-layers": 5,
    ctx: 8,
  });
  assertThrows(() => parseArgs(["-ng", "1"], spec), isUsage(/unknown flag -ng/));
  assertMatch(formatFlags(spec), /--gpu-layers, -ngl, --n-gpu-layers INTEGER/);
});
