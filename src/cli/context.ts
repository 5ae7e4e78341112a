/**
 * `context create|add|search|list|show|rm`: the context store from the command line.
 *
 * ```
 * rocmforge context create notes --embed-model model.gguf
 * rocmforge context add notes docs/*.md            # "-" reads stdin
 * rocmforge context search notes "how do I" -k 5 [--hybrid | --keyword] [--filter k=v] [--json]
 * rocmforge context list | show notes | rm notes [DOC]
 * ```
 *
 * The store is `--store PATH` (default: context.db under the user's data directory, see
 * defaultStorePath). A collection remembers its embedding model's path, so `add` and
 * `search` load it from there unless `-m` names it (a different model is a typed error).
 *
 * @module
 */
import { ingestSource } from "../context/ingest.ts";
import { modelEmbedder } from "../context/model_embedder.ts";
import { parseFilters } from "../context/filters.ts";
import { hnswCache, searchCollection } from "../context/search.ts";
import { fileSource, textSource } from "../context/sources.ts";
import { ContextStore } from "../context/store.ts";
import type { Collection } from "../context/types.ts";
import { defaultStorePath, resolvePath } from "../runtime/context_io.ts";
import { readStdin } from "../runtime/host.ts";
import { formatFlags, parseArgs, UsageError } from "./args.ts";
import { type Command, type CommandIO, registerCommand } from "./command.ts";
import { loadFromFlags } from "./_load.ts";
import { formatCollection, formatHit, progressLine } from "./context_format.ts";

const FLAGS = {
  store: { type: "string", valueName: "PATH", description: "store file (default: user data dir)" },
  "embed-model": {
    type: "string",
    short: "m",
    valueName: "MODEL",
    description: "GGUF embedding model (create: required; add/search: default the collection's)",
  },
  backend: { type: "string", default: "auto", valueName: "NAME", description: "auto | cpu | hip" },
  "chunk-tokens": {
    type: "integer",
    valueName: "N",
    description: "create: tokens per chunk (256)",
  },
  overlap: { type: "integer", valueName: "N", description: "create: tokens shared by chunks (32)" },
  metric: { type: "string", valueName: "M", description: "create: cosine (default) | dot | l2" },
  meta: { type: "string", multiple: true, valueName: "K=V", description: "add: document metadata" },
  name: { type: "string", valueName: "SOURCE", description: "add: source name of stdin (-)" },
  k: { type: "integer", short: "k", default: 10, valueName: "N", description: "search: hits" },
  hybrid: { type: "boolean", description: "search: BM25 + vector, fused by rank" },
  keyword: { type: "boolean", description: "search: BM25 keyword search only (no model)" },
  index: { type: "string", default: "auto", valueName: "I", description: "auto | exact | hnsw" },
  filter: { type: "string", multiple: true, valueName: "K=V", description: "search: metadata" },
  json: { type: "boolean", description: "print JSON" },
} as const;

type F = ReturnType<typeof parseArgs<typeof FLAGS>>["flags"];

/** Flags each subcommand accepts besides --store, --json. */
const ALLOWED: Record<string, readonly (keyof typeof FLAGS)[]> = {
  create: ["embed-model", "backend", "chunk-tokens", "overlap", "metric"],
  add: ["embed-model", "backend", "meta", "name"],
  search: ["embed-model", "backend", "k", "hybrid", "keyword", "index", "filter"],
  list: [],
  show: [],
  rm: [],
};

function checkFlags(sub: string, argv: readonly string[]): void {
  const allowed = new Set<string>(["store", "json", ...ALLOWED[sub]]);
  for (const a of argv) {
    if (a === "--") break;
    const m = /^--(?:no-)?([a-z-]+)/.exec(a) ?? /^-([a-z])$/.exec(a);
    if (!m) continue;
    const long = a.startsWith("--") ? m[1] : m[1] === "m" ? "embed-model" : m[1] === "k" ? "k" : "";
    if (long && Object.hasOwn(FLAGS, long) && !allowed.has(long)) {
      throw new UsageError(`context ${sub} does not take --${long}`, { actual: a });
    }
  }
}

async function embedderFor(c: Collection, flags: F, io: CommandIO) {
  const path = flags["embed-model"] !== undefined
    ? resolvePath(flags["embed-model"])
    : c.embedModel;
  const model = await loadFromFlags({ model: path, backend: flags.backend }, io);
  const e = modelEmbedder(model, { name: path });
  return { e, dispose: () => (e.dispose(), model.dispose()) };
}

async function add(store: ContextStore, name: string, files: string[], flags: F, io: CommandIO) {
  if (!files.length) throw new UsageError("context add NAME FILES... (use - for stdin)");
  const c = store.collection(name);
  const metadata = flags.meta.length ? parseFilters(flags.meta) : undefined;
  // Validate every file before loading the model.
  const sources = [];
  for (const f of files) {
    sources.push(
      f === "-" ? textSource(flags.name ?? "stdin", await readStdin()) : fileSource(f),
    );
  }
  const { e, dispose } = await embedderFor(c, flags, io);
  try {
    for (const src of sources) {
      const r = await ingestSource(store, name, e, src, {
        metadata,
        onProgress: (p) => io.stderr(progressLine(p)),
      });
      io.stderr("\n");
      io.stdout(
        flags.json
          ? JSON.stringify({ status: r.status, document: r.document, reused: r.reused }) + "\n"
          : `${r.status} ${r.document.source}: ${r.document.chunks} chunks\n`,
      );
    }
  } finally {
    dispose();
  }
}

async function search(store: ContextStore, name: string, q: string[], flags: F, io: CommandIO) {
  if (q.length !== 1) throw new UsageError('context search NAME "query"', { actual: q.length });
  if (flags.hybrid && flags.keyword) {
    throw new UsageError("--hybrid and --keyword exclude each other");
  }
  const index = flags.index as "auto" | "exact" | "hnsw";
  if (!["auto", "exact", "hnsw"].includes(index)) {
    throw new UsageError(`--index must be auto, exact or hnsw`, { actual: flags.index });
  }
  const filter = flags.filter.length ? parseFilters(flags.filter) : undefined;
  const mode = flags.keyword ? "keyword" : flags.hybrid ? "hybrid" : "vector";
  const c = store.collection(name);
  const emb = mode === "keyword" ? undefined : await embedderFor(c, flags, io);
  try {
    const hits = await searchCollection(store, name, q[0], {
      k: flags.k,
      mode,
      index,
      filter,
      embedder: emb?.e,
    });
    if (flags.json) io.stdout(JSON.stringify(hits) + "\n");
    else hits.forEach((h, i) => io.stdout(formatHit(h, i)));
    // An HNSW build that this search started (answered exactly meanwhile) finishes and is
    // saved before the store closes, so the next search uses it.
    await hnswCache(store).pending(c.id, c.metric);
  } finally {
    emb?.dispose();
  }
}

async function run(argv: string[], io: CommandIO): Promise<number> {
  const sub = argv[0];
  if (!sub || !Object.hasOwn(ALLOWED, sub)) {
    throw new UsageError(`context needs one of ${Object.keys(ALLOWED).join("|")}`, { actual: sub });
  }
  checkFlags(sub, argv.slice(1));
  const { flags, positionals: [name, ...rest] } = parseArgs(argv.slice(1), FLAGS);
  const store = await ContextStore.open(flags.store ?? defaultStorePath());
  try {
    if (sub === "list") {
      if (name !== undefined) throw new UsageError("context list takes no arguments");
      const all = store.listCollections();
      if (flags.json) io.stdout(JSON.stringify(all) + "\n");
      else for (const c of all) io.stdout(formatCollection(c));
      return 0;
    }
    if (name === undefined) throw new UsageError(`context ${sub} NAME ...`);
    if (sub === "create") {
      if (rest.length) throw new UsageError(`unexpected argument ${rest[0]}`);
      const path = flags["embed-model"];
      if (!path) throw new UsageError("context create NAME --embed-model MODEL.gguf");
      const model = await loadFromFlags({ model: resolvePath(path), backend: flags.backend }, io);
      const dimension = model.config.embeddingLength;
      model.dispose();
      const c = store.createCollection({
        name,
        embedModel: resolvePath(path),
        dimension,
        metric: flags.metric as Collection["metric"] | undefined,
        chunkTokens: flags["chunk-tokens"],
        chunkOverlap: flags.overlap,
      });
      io.stdout(flags.json ? JSON.stringify(c) + "\n" : `created ${c.name} (${dimension} dims)\n`);
    } else if (sub === "add") {
      await add(store, name, rest, flags, io);
    } else if (sub === "search") {
      await search(store, name, rest, flags, io);
    } else if (sub === "show") {
      if (rest.length) throw new UsageError(`unexpected argument ${rest[0]}`);
      const c = store.listCollections().find((x) => x.name === name) ?? store.collection(name);
      const docs = store.documents(name);
      if (flags.json) io.stdout(JSON.stringify({ ...c, documents: docs }) + "\n");
      else {
        io.stdout(formatCollection(c as Parameters<typeof formatCollection>[0]));
        for (const d of docs) {
          io.stdout(`  ${d.id}\t${d.source}\t${d.chunks} chunks\t${d.bytes} B\n`);
        }
      }
    } else {
      if (rest.length > 1) throw new UsageError(`unexpected argument ${rest[1]}`);
      if (rest.length) {
        const d = await store.removeDocument(name, rest[0]);
        io.stdout(`removed ${d.source} from ${name}\n`);
      } else {
        await store.deleteCollection(name);
        io.stdout(`removed collection ${name}\n`);
      }
    }
    return 0;
  } finally {
    await store.close();
  }
}

/** The context command. */
export const contextCommand: Command = {
  name: "context",
  summary: "context store: create, add files, search, list, show, rm",
  usage: `context create NAME --embed-model MODEL.gguf [--chunk-tokens N] [--overlap N] [--metric M]
context add NAME FILES... [--meta K=V]... [--name SOURCE]   (- reads stdin)
context search NAME "query" [-k N] [--hybrid | --keyword] [--filter K=V]... [--index I] [--json]
context list | show NAME | rm NAME [DOC]
${formatFlags(FLAGS)}`,
  run,
};
registerCommand(contextCommand);
