/**
 * `chat --context NAME`: each question is answered from a context collection (see
 * `rocmforge context`): its top-k chunks for the question are quoted, with their sources,
 * before the question (src/context/rag.ts), and the chunk ids used are printed to stderr.
 * The collection's own embedding model is loaded for the search.
 *
 * @module
 */
import { modelEmbedder } from "../context/model_embedder.ts";
import { DEFAULT_RAG_K, retrieveContext, withContext } from "../context/rag.ts";
import { ContextStore } from "../context/store.ts";
import { defaultStorePath } from "../runtime/context_io.ts";
import type { CommandIO } from "./command.ts";
import { loadFromFlags } from "./_load.ts";

/** The retrieval flags. */
export const CONTEXT_FLAGS = {
  context: {
    type: "string",
    valueName: "NAME",
    description: "answer from the context collection NAME (retrieval; see `context`)",
  },
  "context-k": {
    type: "integer",
    valueName: "N",
    description: `with --context: chunks quoted per question (default ${DEFAULT_RAG_K})`,
  },
  store: {
    type: "string",
    valueName: "PATH",
    description: "with --context: the context store (default: user data dir)",
  },
} as const;

/** Turns a question into the question with its retrieved sources. */
export interface Retrieval {
  augment(question: string, signal?: AbortSignal): Promise<string>;
  close(): Promise<void>;
}

/** Opens the collection and its embedding model (a typed error when it does not exist). */
export async function openRetrieval(
  name: string,
  opts: { store?: string; k?: number; backend?: string },
  io: CommandIO,
): Promise<Retrieval> {
  const store = await ContextStore.open(opts.store ?? defaultStorePath());
  try {
    const c = store.collection(name);
    const model = await loadFromFlags({ model: c.embedModel, backend: opts.backend ?? "auto" }, io);
    const embedder = modelEmbedder(model, { name: c.embedModel });
    return {
      async augment(question, signal) {
        const ctx = await retrieveContext(store, name, question, {
          embedder,
          k: opts.k,
          signal,
        });
        io.stderr(`[context ${name}: chunks ${ctx.chunkIds.join(", ") || "none"}]\n`);
        return withContext([{ role: "user", content: question }], ctx)[0].content;
      },
      async close() {
        embedder.dispose();
        model.dispose();
        await store.close();
      },
    };
  } catch (e) {
    await store.close();
    throw e;
  }
}
