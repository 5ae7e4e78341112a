/**
 * Child process of the crash and concurrency suites (does nothing unless
 * ROCMFORGE_CONTEXT_CHILD=1). Roles:
 *
 * - `ingest DB COLL DOCS CHUNKS`: adds DOCS documents of CHUNKS chunks each, one
 *   transaction each, printing `committed SOURCE` after every commit (the parent SIGKILLs
 *   it part-way).
 * - `mixed DB COLL WORKER DOCS`: adds DOCS documents `wWORKER-i`, searching after each,
 *   then prints `done N` with the number of documents it saw in its last search.
 *
 * @module
 */
import { writeSync } from "node:fs";
import process from "node:process";
import { ingestText } from "../src/context/ingest.ts";
import { searchCollection } from "../src/context/search.ts";
import { ContextStore } from "../src/context/store.ts";
import { wordEmbedder } from "./context_helpers.ts";

/** Words of document `source`: CHUNKS x 16 distinct-ish words. */
export function documentText(source: string, chunks: number): string {
  const words: string[] = [];
  for (let i = 0; i < chunks * 16; i++) words.push(`${source}w${i % 97} tok${i}`);
  return words.join(" ");
}

async function main(argv: string[]): Promise<void> {
  const [role, db, coll, a, b] = argv;
  const store = await ContextStore.open(db, { busyTimeoutMs: 60_000 });
  const e = wordEmbedder(32);
  const say = (s: string) => writeSync(1, s + "\n");
  if (role === "ingest") {
    for (let i = 0; i < Number(a); i++) {
      const source = `doc-${i}`;
      // Each "word" above is two tokens of the word embedder: 16 words = 2 chunks of 16.
      await ingestText(store, coll, e, { source, text: documentText(source, Number(b) / 2) }, {
        batchSize: 1,
        onProgress: () => {
          // Slow down so the parent's SIGKILL lands inside a transaction.
          const until = Date.now() + 1;
          while (Date.now() < until) { /* spin */ }
        },
      });
      say(`committed ${source}`);
    }
  } else if (role === "mixed") {
    const worker = Number(a);
    let seen = 0;
    for (let i = 0; i < Number(b); i++) {
      const source = `w${worker}-${i}`;
      await ingestText(store, coll, e, { source, text: documentText(source, 2) });
      const hits = await searchCollection(store, coll, `${source}w1`, { k: 5, embedder: e });
      if (!hits.some((h) => h.source === source)) throw new Error(`lost ${source}`);
      seen = store.documents(coll).length;
    }
    say(`done ${seen}`);
  } else {
    throw new Error(`unknown role ${role}`);
  }
  await store.close();
}

if (process.env.ROCMFORGE_CONTEXT_CHILD === "1") {
  main(process.argv.slice(2)).then(
    () => process.exit(0),
    (err) => {
      writeSync(2, `child failed: ${err?.stack ?? err}\n`);
      process.exit(1);
    },
  );
}
