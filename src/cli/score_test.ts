/**
 * `score` command tests, in-process through runCli: one JSON line per position whose top-1
 * entry matches llama.cpp's golden log-probabilities; usage errors exit 2.
 */
import { assert, assertEquals, assertMatch, assertThrows } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { HAVE_SHARED, NO_SHARED_REASON, sharedPath } from "../../tests/shared_data.ts";
import { readTextFile } from "../runtime/host.ts";
import { UsageError } from "./args.ts";
import type { CommandIO } from "./command.ts";
import { runCli } from "./main.ts";
import { parseTokenList } from "./score.ts";

const shared = { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON };
const MODEL = sharedPath("models", "stories260K.gguf");

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "", err = "";
  const io: CommandIO = { stdout: (t) => void (out += t), stderr: (t) => void (err += t) };
  const code = await runCli(argv, io);
  return { code, out, err };
}

interface GoldenRow {
  prompt_tokens: number[];
  tokens: number[];
  top_logprobs: [number, number][][];
}

interface ScoreLine {
  pos: number;
  token: number;
  logprob: number;
  top: [number, number][];
}

test("cli score: top-1 of every position matches llama.cpp within 5e-3", async () => {
  const rows: GoldenRow[] = readTextFile(sharedPath("golden", "stories260K.jsonl")).trim()
    .split("\n").map((l) => JSON.parse(l));
  for (const row of rows.slice(0, 2)) {
    const ids = [...row.prompt_tokens, ...row.tokens];
    const r = await cli("score", "-m", MODEL, "--backend", "cpu", "--tokens", ids.join(" "));
    assertEquals(r.code, 0, r.err);
    const lines: ScoreLine[] = r.out.trimEnd().split("\n").map((l) => JSON.parse(l));
    assertEquals(lines.map((l) => l.pos), ids.slice(1).map((_, i) => i + 1));
    assertEquals(lines.map((l) => l.token), ids.slice(1));
    let worst = 0;
    for (const l of lines) {
      assertEquals(l.top.length, 8);
      assert(l.logprob <= 0 && l.logprob <= l.top[0][1] + 1e-6, `pos ${l.pos}`);
      const j = l.pos - row.prompt_tokens.length;
      if (j < 0) continue;
      const [gid, glp] = row.top_logprobs[j][0];
      assertEquals(l.top[0][0], gid, `pos ${l.pos} top-1 id`);
      worst = Math.max(worst, Math.abs(l.top[0][1] - glp));
      // The scored token is the greedy one here, so its logprob is the top-1's.
      if (ids[l.pos] === gid) worst = Math.max(worst, Math.abs(l.logprob - glp));
    }
    assert(worst <= 5e-3, `largest top-1 difference ${worst}`);
  }
}, shared);

test("cli score: --top sets the number of alternatives", async () => {
  const r = await cli(
    "score",
    "-m",
    MODEL,
    "--backend",
    "cpu",
    "--tokens",
    "1,403,407",
    "--top",
    "2",
  );
  assertEquals(r.code, 0, r.err);
  const lines: ScoreLine[] = r.out.trimEnd().split("\n").map((l) => JSON.parse(l));
  assertEquals(lines.map((l) => [l.pos, l.token, l.top.length]), [[1, 403, 2], [2, 407, 2]]);
}, shared);

test("cli score: token lists are parsed strictly", () => {
  assertEquals(parseTokenList(" 1 2,3  4 "), [1, 2, 3, 4]);
  for (const bad of ["1 x", "-1", "1.5", "0x10"]) {
    assertThrows(() => parseTokenList(bad), UsageError, bad);
  }
});

test("cli score: usage errors exit 2", async () => {
  for (
    const [argv, pattern] of [
      [["score", "--tokens", "1 2"], /missing -m MODEL/],
      [["score", "-m", MODEL], /missing --tokens/],
      [["score", "-m", MODEL, "--tokens", "1 abc"], /"abc" is not a token id/],
      [["score", "-m", MODEL, "--tokens", "7"], /at least 2 ids/],
      [["score", "-m", MODEL, "--tokens", "1 2", "--top", "-1"], /--top must be >= 0/],
    ] as const
  ) {
    const r = await cli(...argv);
    assertEquals(r.code, 2, `${argv.join(" ")}: ${r.err}`);
    assertMatch(r.err, /^error \[USAGE\]: /);
    assertMatch(r.err, pattern);
    assertEquals(r.out, "");
  }
});

test("cli score: a token id outside the vocabulary is a typed error, exit 1", async () => {
  // As the scored target (last, never evaluated) and as an evaluated id.
  for (const ids of ["1 99999", "1 512 5"]) {
    const r = await cli("score", "-m", MODEL, "--backend", "cpu", "--tokens", ids);
    assertEquals(r.code, 1, `${ids}: ${r.out}`);
    assertMatch(r.err, /^error \[INVALID_ARGUMENT\]: token id \d+ is outside the vocabulary/m);
    assertEquals(r.out, "");
  }
}, shared);
