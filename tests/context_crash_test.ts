/**
 * Crash safety and concurrency across processes (tests/context_child.ts):
 * - a child ingesting 1,000 chunks (100 documents x 10) is killed with SIGKILL part-way; the
 *   store reopens, passes `PRAGMA integrity_check`, and holds exactly the documents whose
 *   transactions committed, each whole;
 * - 8 processes add and search at once; no document is lost.
 *
 * @module
 */
import { spawn } from "node:child_process";
import process from "node:process";
import { ContextStore } from "../src/context/store.ts";
import { assert, assertEquals } from "./assert.ts";
import { childCommand, tempStoreDir, wordEmbedder } from "./context_helpers.ts";
import "./context_child.ts";
import { test } from "./harness.ts";

function startChild(args: string[]) {
  const c = childCommand(args);
  const child = spawn(c.cmd, c.args, {
    env: { ...process.env, ROCMFORGE_CONTEXT_CHILD: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8");
  child.stderr.setEncoding("utf8");
  const listeners: (() => void)[] = [];
  child.stdout.on("data", (d: string) => {
    out += d;
    for (const l of listeners) l();
  });
  child.stderr.on("data", (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal }))
  );
  return {
    child,
    exited,
    out: () => out,
    err: () => err,
    /** Resolves once stdout holds `n` lines. */
    lines: (n: number) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (out.split("\n").filter(Boolean).length >= n) resolve();
        };
        listeners.push(check);
        check();
      }),
  };
}

const e = wordEmbedder(32);

test("SIGKILL mid-ingest of 1,000 chunks: integrity ok, exactly the committed documents", async () => {
  const t = tempStoreDir();
  try {
    const s = await ContextStore.open(t.db);
    s.createCollection({
      name: "crash",
      embedModel: e.model,
      dimension: 32,
      chunkTokens: 16,
      chunkOverlap: 0,
    });
    await s.close();
    const c = startChild(["ingest", t.db, "crash", "100", "10"]);
    const timer = setTimeout(() => c.child.kill("SIGKILL"), 60_000);
    await c.lines(20);
    c.child.kill("SIGKILL");
    const how = await c.exited;
    clearTimeout(timer);
    assertEquals(how.signal, "SIGKILL", `child: ${c.err()}`);
    const printed = c.out().split("\n").filter((l) => l.startsWith("committed ")).map((l) =>
      l.slice(10)
    );
    assert(printed.length >= 20 && printed.length < 100, `killed part-way (${printed.length})`);

    const r = await ContextStore.open(t.db);
    try {
      const ok = r.reader.get<{ integrity_check: string }>("PRAGMA integrity_check");
      assertEquals(ok?.integrity_check, "ok");
      const fts = r.reader.get<{ n: number }>(
        "SELECT count(*) AS n FROM chunks_fts WHERE chunks_fts MATCH 'tok0'",
      );
      const docs = r.documents("crash");
      const names = docs.map((d) => d.source);
      // The child prints after each commit, so the store holds every printed document and at
      // most one more: the one that committed just before the kill, before its line.
      for (const p of printed) assert(names.includes(p), `committed ${p} is in the store`);
      const extra = names.filter((n) => !printed.includes(n));
      assert(extra.length <= 1, `unexpected documents ${extra}`);
      if (extra.length) assertEquals(extra[0], `doc-${printed.length}`);
      for (const d of docs) assertEquals(d.chunks, 10, `${d.source} is whole`);
      const chunks = r.reader.get<{ n: number }>("SELECT count(*) AS n FROM chunks")?.n;
      assertEquals(chunks, docs.length * 10, "no chunk of an uncommitted document remains");
      assertEquals(fts?.n, docs.length, "the FTS index matches the committed chunks");
    } finally {
      await r.close();
    }
  } finally {
    t.cleanup();
  }
});

test("8 concurrent writer/reader processes lose nothing", async () => {
  const t = tempStoreDir();
  try {
    const s = await ContextStore.open(t.db);
    s.createCollection({ name: "many", embedModel: e.model, dimension: 32, chunkTokens: 16 });
    await s.close();
    const perWorker = 6;
    const kids = Array.from(
      { length: 8 },
      (_, w) => startChild(["mixed", t.db, "many", String(w), String(perWorker)]),
    );
    const results = await Promise.all(kids.map((k) => k.exited));
    results.forEach((r, w) =>
      assertEquals(r.code, 0, `worker ${w}: ${kids[w].err() || kids[w].out()}`)
    );
    for (const k of kids) assert(/^done \d+$/m.test(k.out()));
    const r = await ContextStore.open(t.db);
    try {
      const names = r.documents("many").map((d) => d.source).sort();
      const want: string[] = [];
      for (let w = 0; w < 8; w++) for (let i = 0; i < perWorker; i++) want.push(`w${w}-${i}`);
      assertEquals(names, want.sort());
      const ok = r.reader.get<{ integrity_check: string }>("PRAGMA integrity_check");
      assertEquals(ok?.integrity_check, "ok");
    } finally {
      await r.close();
    }
  } finally {
    t.cleanup();
  }
});
