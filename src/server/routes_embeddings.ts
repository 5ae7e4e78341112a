/**
 * POST /v1/embeddings (and /embeddings): each input (a string, token ids, or a list of
 * either) is evaluated from position 0 in a slot, its final hidden states are pooled (the
 * model's own pooling, e.g. BERT's CLS, else the mean) and L2-normalized; `dimensions` other
 * than the model's is a 400. `encoding_format: "base64"` returns
 * little-endian float32 bytes in base64, as OpenAI does.
 *
 * Short inputs share forward passes (up to the engine's batch size in tokens, see embedAll).
 * A large request never holds the engine: each pass takes a slot on its own (a generation
 * waiting for a slot gets it between two passes), and every forward batch is a separate step
 * of the request scheduler, so generations, health checks and other requests interleave with
 * it; a client that disconnects stops it at the next batch (a long request
 * streams keep-alive spaces before its JSON so that a gone client is noticed: heartbeat.ts).
 *
 * @module
 */
import { modelPooling, poolHidden } from "../core/embed.ts";
import { embedTokens, packInputs } from "../core/embed_batch.ts";
import type { Context, Hono } from "../deps/hono.ts";
import type { Engine, ReadyEngine } from "./engine.ts";
import { checkModel, checkPromptFits, checkTokenIds } from "./generation.ts";
import { ApiError } from "./errors.ts";
import { jsonWithHeartbeat } from "./heartbeat.ts";
import { EmbeddingRequest, type EmbeddingResponse } from "./schemas.ts";

/** Most inputs one embeddings pass packs. */
const MAX_SEQUENCES = 64;

/** Little-endian float32 bytes in base64. */
export function float32Base64(v: Float32Array): string {
  const bytes = new Uint8Array(v.byteLength);
  const view = new DataView(bytes.buffer);
  v.forEach((x, i) => view.setFloat32(i * 4, x, true));
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

/**
 * Token lists of an embedding input (strings tokenized with BOS per the model, each as one
 * step of the request scheduler, so a long list does not hold the event loop).
 */
export async function inputTokens(
  engine: Engine,
  ready: ReadyEngine,
  input: EmbeddingRequest["input"],
  signal: AbortSignal,
  truncate = false,
): Promise<number[][]> {
  const tok = ready.model.tokenizer;
  const vocab = ready.model.config.vocabSize;
  const list: (string | number[])[] = typeof input === "string"
    ? [input]
    : input.every((x) => typeof x === "number")
    ? [input as number[]]
    : (input as (string | number[])[]);
  const out: number[][] = [];
  for (const [i, x] of list.entries()) {
    const param = list.length > 1 ? `input[${i}]` : "input";
    let t: number[];
    if (typeof x === "string") {
      t = await engine.scheduler.run(
        () => tok.encode(x, { addSpecial: true, parseSpecial: false }),
        signal,
        "tokenize",
      );
    } else {
      checkTokenIds(x, vocab, param);
      t = x;
    }
    if (truncate) t = t.slice(0, ready.contextLength);
    checkPromptFits(t, ready.contextLength, param, 0);
    out.push(t);
  }
  return out;
}

/**
 * Embeds the token lists, several per forward pass (core/embed_batch.ts: consecutive inputs
 * up to the engine's batch size in tokens, one pass each, as one scheduler step), each pass
 * holding a slot (a generation waiting for one gets it between passes); an input that runs
 * alone uses the slot's session. Cancelled by `signal` between passes.
 */
export async function embedAll(
  engine: Engine,
  ready: ReadyEngine,
  inputs: readonly number[][],
  signal: AbortSignal,
): Promise<Float32Array[]> {
  const dim = ready.model.config.embeddingLength;
  const pooling = modelPooling(ready.model);
  const pool = (h: Float32Array, rows: number) => poolHidden(h, rows, dim, pooling);
  const budget = engine.opts.batchSize ?? 256;
  const out: Float32Array[] = [];
  for (const pack of packInputs(inputs.map((t) => t.length), budget, MAX_SEQUENCES)) {
    const lists = pack.map((i) => inputs[i]);
    const lease = await ready.slots.acquire(lists[0], signal);
    let evaluated = 0;
    try {
      lease.session.reset();
      out.push(
        ...await embedTokens(ready.model, lists, pool, {
          batchSize: budget,
          sequences: MAX_SEQUENCES,
          session: lease.session,
          gate: engine.scheduler,
          signal,
        }),
      );
      evaluated = lists.reduce((a, t) => a + t.length, 0);
    } finally {
      engine.metrics.promptTokens += evaluated || lease.session.nPast;
      lease.release();
    }
  }
  return out;
}

/** Registers POST /v1/embeddings and /embeddings. */
export function registerEmbeddings(app: Hono, engine: Engine): void {
  const handler = async (c: Context) => {
    const ready = engine.ready();
    const body = await engine.parse(c.req.raw, EmbeddingRequest);
    checkModel(engine, ready, body.model);
    const dim = ready.model.config.embeddingLength;
    if (body.dimensions != null && body.dimensions !== dim) {
      throw new ApiError(
        400,
        "invalid_value",
        `this model's embeddings have ${dim} dimensions; it cannot produce ${body.dimensions}`,
        "dimensions",
      );
    }
    const ac = new AbortController();
    const signal = engine.requestSignal(AbortSignal.any([c.req.raw.signal, ac.signal]));
    const inputs = await inputTokens(engine, ready, body.input, signal);
    const total = inputs.reduce((a, t) => a + t.length, 0);
    const work = embedAll(engine, ready, inputs, signal).then((vectors): EmbeddingResponse => ({
      object: "list",
      data: vectors.map((v, index) => ({
        object: "embedding",
        index,
        embedding: body.encoding_format === "base64" ? float32Base64(v) : [...v],
      })),
      model: engine.modelId,
      usage: { prompt_tokens: total, total_tokens: total },
    }));
    return await jsonWithHeartbeat(work, { onCancel: () => ac.abort() });
  };
  app.post("/v1/embeddings", handler);
  app.post("/embeddings", handler);
}
