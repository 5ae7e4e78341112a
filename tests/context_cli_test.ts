/**
 * `rocmforge context ...` in process with stories260K as a (decoder, mean-pooled) embedder:
 * create, add with metadata, re-add, search (vector, keyword, filter, JSON), list, show, rm,
 * and usage errors.
 *
 * @module
 */
import { writeFileSync } from "node:fs";
import { contextCommand } from "../src/cli/context.ts";
import { UsageError } from "../src/cli/args.ts";
import { ContextError } from "../src/context/errors.ts";
import { join } from "./_path.ts";
import { assert, assertEquals, assertMatch, assertRejects } from "./assert.ts";
import { tempStoreDir } from "./context_helpers.ts";
import { test } from "./harness.ts";
import { HAVE_SHARED, NO_SHARED_REASON, sharedPath } from "./shared_data.ts";

const MODEL = sharedPath("models", "stories260K.gguf");
const SKIP = { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON };

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await contextCommand.run(argv, {
    stdout: (s) => void (out += s),
    stderr: (s) => void (err += s),
  });
  return { code, out, err };
}

test("context CLI: create, add, search, list, show, rm", async () => {
  const t = tempStoreDir();
  const st = ["--store", t.db];
  try {
    const a = join(t.dir, "a.md");
    const b = join(t.dir, "b.md");
    writeFileSync(a, "Lily saw a big red ball in the park. She ran to get it.\n".repeat(4));
    writeFileSync(b, "The rocket burned its fuel and climbed into orbit.\n".repeat(3));
    const c = await cli("create", "kb", "--embed-model", MODEL, "--chunk-tokens", "24", ...st);
    assertMatch(c.out, /^created kb \(\d+ dims\)/);
    const add = await cli("add", "kb", a, b, "--meta", "lang=en", ...st, "--backend", "cpu");
    assertEquals(add.code, 0);
    assertMatch(add.out, /^added .*a\.md: \d+ chunks\nadded .*b\.md: \d+ chunks\n$/);
    assertMatch(add.err, /100%/);
    const again = await cli("add", "kb", a, ...st, "--backend", "cpu");
    assertMatch(again.out, /^unchanged /);
    const kw = await cli("search", "kb", '"rocket burned"', "--keyword", "--json", ...st);
    const hits = JSON.parse(kw.out);
    assert(hits.length > 0 && hits.every((h: { source: string }) => h.source === b));
    const vec = await cli("search", "kb", "red ball park", "-k", "3", ...st, "--backend", "cpu");
    assertMatch(vec.out, /^1\. -?\d\.\d{4} {2}.*#\d+\n/);
    const none = await cli("search", "kb", "rocket", "--keyword", "--filter", "lang=de", ...st);
    assertEquals(none.out, "");
    const list = await cli("list", ...st);
    assertMatch(list.out, /^kb\t2 documents\t\d+ chunks\t\d+ dims cosine\t/);
    const show = JSON.parse((await cli("show", "kb", "--json", ...st)).out);
    assertEquals(show.documents.map((d: { source: string }) => d.source), [a, b]);
    assertEquals((await cli("rm", "kb", b, ...st)).out, `removed ${b} from kb\n`);
    assertEquals(JSON.parse((await cli("show", "kb", "--json", ...st)).out).documents.length, 1);
    await cli("rm", "kb", ...st);
    await assertRejects(
      () => cli("show", "kb", ...st),
      (e) => e instanceof ContextError && e.code === "CONTEXT_UNKNOWN_COLLECTION",
    );
  } finally {
    t.cleanup();
  }
}, SKIP);

test("context CLI: usage errors", async () => {
  const t = tempStoreDir();
  try {
    const st = ["--store", t.db];
    await assertRejects(() => cli("frobnicate", ...st), UsageError);
    await assertRejects(() => cli("create", "x", ...st), UsageError);
    await assertRejects(() => cli("list", "--hybrid", ...st), UsageError);
    await assertRejects(
      () => cli("search", "x", "q", "--hybrid", "--keyword", ...st),
      UsageError,
    );
    await assertRejects(() => cli("add", "x", ...st), UsageError);
  } finally {
    t.cleanup();
  }
}, SKIP);
