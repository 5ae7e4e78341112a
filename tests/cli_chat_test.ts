/**
 * `rocmforge chat` for real: the CLI as a child process fed through a pipe (answers
 * streamed, /system, /save, /reset, unknown commands, end of input exits 0, Ctrl-C at the
 * prompt twice exits 0, every answer follows --json-schema), `generate --chat --json-schema`,
 * usage errors (exit 2), `chat --context NAME` quoting the collection's chunks before the
 * question (ids on stderr), and the loop in-process with Ctrl-C pressed while an answer streams
 * (the answer stops there, the next question is still answered, a second Ctrl-C leaves).
 *
 * @module
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import process from "node:process";
import { ChatSession } from "../src/chat/chat_session.ts";
import { Session } from "../src/core/session.ts";
import { chatRepl } from "../src/cli/chat_repl.ts";
import { contextCommand } from "../src/cli/context.ts";
import type { LineReader } from "../src/runtime/line_reader.ts";
import { assert, assertEquals } from "./assert.ts";
import { test } from "./harness.ts";
import { join } from "./_path.ts";
import { MODEL_PATH, testModel, waitFor } from "./_server_util.ts";
import { HAVE_SHARED, NO_SHARED_REASON } from "./shared_data.ts";
import { tempStoreDir } from "./context_helpers.ts";

const opts = { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON };
const IS_DENO = "Deno" in globalThis;
/** The CLI child runs from TypeScript sources, so under Deno only. */
const cliOpts = IS_DENO
  ? opts
  : { ignore: true, reason: "the CLI runs from TypeScript sources under Deno only" };
const MAIN = new URL("../src/cli/main.ts", import.meta.url).pathname;

interface Child {
  write(text: string): void;
  end(): void;
  out(): string;
  err(): string;
  signal(sig: "SIGINT"): void;
  exited: Promise<number | null>;
}

function cli(args: string[]): Child {
  const child = spawn(process.execPath, ["run", "-A", MAIN, ...args], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "", err = "";
  child.stdout!.setEncoding("utf8");
  child.stderr!.setEncoding("utf8");
  child.stdout!.on("data", (d: string) => out += d);
  child.stderr!.on("data", (d: string) => err += d);
  return {
    write: (t) => child.stdin!.write(t),
    end: () => child.stdin!.end(),
    out: () => out,
    err: () => err,
    signal: (sig) => {
      if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, sig);
    },
    exited: new Promise((r) => child.on("exit", (code) => r(code))),
  };
}

const tmp = () => mkdtempSync(join(tmpdir(), "rf-chat-"));
const MODEL = ["-m", MODEL_PATH, "--backend", "cpu"];

test("chat CLI through a pipe: answers, /system, /save, /reset, end of input", async () => {
  const dir = tmp();
  const c = cli(["chat", ...MODEL, "--system", "You tell stories.", "-n", "16"]);
  c.write("Once upon a time\n/system Be brief.\n/system\n");
  c.write(`/save ${join(dir, "a.json")}\n/reset\n/save ${join(dir, "b.json")}\n/frob\n`);
  c.end();
  assertEquals(await c.exited, 0, c.err());
  const a = JSON.parse(readFileSync(join(dir, "a.json"), "utf8"));
  assertEquals(a.messages.map((m: { role: string }) => m.role), ["system", "user", "assistant"]);
  assertEquals(a.messages[0].content, "Be brief.");
  assertEquals(a.messages[1].content, "Once upon a time");
  const answer: string = a.messages[2].content;
  assert(answer.length > 0 && c.out().startsWith(answer + "\n"), c.out());
  assert(c.out().includes("[system: Be brief.]"), c.out());
  const b = JSON.parse(readFileSync(join(dir, "b.json"), "utf8"));
  assertEquals(b.messages, [{ role: "system", content: "Be brief." }]);
  assert(c.err().includes("unknown command /frob"), c.err());
}, cliOpts);

test("chat CLI: Ctrl-C at the prompt warns, a second one exits 0", async () => {
  const c = cli(["chat", ...MODEL, "-n", "4"]);
  c.write("/system x\n");
  await waitFor("the command to run", () => c.out().includes("[system prompt set]"), 60000);
  c.signal("SIGINT");
  await waitFor("the warning", () => c.err().includes("[Ctrl-C again to exit]"), 20000);
  c.signal("SIGINT");
  assertEquals(await c.exited, 0, c.err());
}, cliOpts);

test("chat CLI: every answer follows --json-schema; generate --chat too", async () => {
  const dir = tmp();
  const schemaFile = join(dir, "s.json");
  writeFileSync(
    schemaFile,
    JSON.stringify({
      type: "object",
      properties: { ok: { type: "boolean" } },
      required: ["ok"],
      additionalProperties: false,
    }),
  );
  const c = cli(["chat", ...MODEL, "--json-schema", schemaFile, "--temp", "1", "-s", "3"]);
  c.write("Hi\nAgain\n");
  c.end();
  assertEquals(await c.exited, 0, c.err());
  const lines = c.out().trim().split("\n");
  assertEquals(lines.length, 2, c.out());
  for (const l of lines) assertEquals(typeof JSON.parse(l).ok, "boolean", l);
  const g = cli([
    "generate",
    ...MODEL,
    "--chat",
    "--system",
    "Answer in JSON.",
    "-p",
    "Hi",
    "--json-schema",
    schemaFile,
    "--temp",
    "1",
    "--no-echo",
    "-n",
    "64",
  ]);
  g.end();
  assertEquals(await g.exited, 0, g.err());
  assertEquals(typeof JSON.parse(g.out()).ok, "boolean", g.out());
}, cliOpts);

test("chat and generate: unusable constraint flags are usage errors (exit 2)", async () => {
  const dir = tmp();
  const bad = join(dir, "bad.json");
  writeFileSync(bad, JSON.stringify({ type: "string", format: "email" }));
  const cases: [string[], RegExp][] = [
    [["chat", ...MODEL, "--json-schema", join(dir, "none.json")], /--json-schema/],
    [["chat", ...MODEL, "--json-schema", bad], /format/],
    [["chat", ...MODEL, "--grammar", "root ::= ("], /--grammar/],
    [["chat", ...MODEL, "--grammar", 'root ::= "a"', "--json-schema", "{}"], /not both/],
    [["chat", ...MODEL, "--store", dir], /--context/],
    [["generate", ...MODEL, "-p", "x", "--system", "s"], /--chat/],
  ];
  for (const [args, re] of cases) {
    const c = cli(args);
    c.end();
    assertEquals(await c.exited, 2, `${args.join(" ")}: ${c.err()}`);
    assert(re.test(c.err()), c.err());
  }
}, cliOpts);

test("chat CLI --context: the question goes in with the collection's chunks", async () => {
  const t = tempStoreDir();
  try {
    const doc = join(t.dir, "ball.md");
    writeFileSync(doc, "Lily saw a big red ball in the park. She ran to get it.\n".repeat(3));
    const quiet = { stdout: () => {}, stderr: () => {} };
    const st = ["--store", t.db, "--backend", "cpu"];
    assertEquals(
      await contextCommand.run(
        ["create", "kb", "--embed-model", MODEL_PATH, ...st.slice(0, 2)],
        quiet,
      ),
      0,
    );
    assertEquals(await contextCommand.run(["add", "kb", doc, ...st], quiet), 0);
    const save = join(t.dir, "chat.json");
    const c = cli(["chat", ...MODEL, "--context", "kb", "--store", t.db, "-n", "8"]);
    c.write(`Where is the ball?\n/save ${save}\n`);
    c.end();
    assertEquals(await c.exited, 0, c.err());
    assert(/\[context kb: chunks \d+/.test(c.err()), c.err());
    const user = JSON.parse(readFileSync(save, "utf8")).messages[0].content as string;
    assert(
      user.includes("Lily saw a big red ball") && user.endsWith("Question: Where is the ball?"),
      user,
    );
  } finally {
    t.cleanup();
  }
}, cliOpts);

/** Lines from a list; `interrupt()` plays Ctrl-C. */
class FakeReader implements LineReader {
  #handlers = new Set<() => void>();
  constructor(private lines: string[]) {}
  next(): Promise<string | undefined> {
    return Promise.resolve(this.lines.shift());
  }
  onInterrupt(fn: () => void): () => void {
    this.#handlers.add(fn);
    return () => this.#handlers.delete(fn);
  }
  interrupt(): void {
    for (const h of this.#handlers) h();
  }
  close(): void {}
}

test(
  "chat loop: Ctrl-C while an answer streams stops it; the next question is answered",
  async () => {
    const model = await testModel();
    const session = new Session(model);
    try {
      const chat = new ChatSession(session);
      const reader = new FakeReader(["Once upon a time", "Tell me more", "And then?"]);
      let out = "", err = "", pieces = 0, answers = 0;
      const turn = { sampling: { temperature: 0 }, maxTokens: 64 };
      const code = await chatRepl({
        chat,
        reader,
        turn,
        io: {
          stdout: (t) => {
            out += t;
            if (t === "\n") answers++;
            // Ctrl-C at the first answer's second piece, and again during the third answer.
            else if (++pieces === 2 || (answers === 2 && t !== "")) reader.interrupt();
          },
          stderr: (t) => err += t,
        },
        save: () => {},
      });
      assertEquals(code, 0);
      assert(err.includes("[stopped; Ctrl-C again to exit]"), err);
      const h = chat.history;
      assertEquals(h.map((m) => m.role), [
        "user",
        "assistant",
        "user",
        "assistant",
        "user",
        "assistant",
      ]);
      // The first answer stopped after two pieces; the second ran to its end.
      const full = new ChatSession(session);
      const whole = await full.prompt("Once upon a time", turn) as string;
      assert(h[1].content.length < whole.length && whole.startsWith(h[1].content), h[1].content);
      assert(h[3].content.length > 0, out);
    } finally {
      session.dispose();
    }
  },
  opts,
);
