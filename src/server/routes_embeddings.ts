/**
 * POST /v1/embeddings: each input (a string, token ids, or a list of either) is evaluated
 * from position 0 in a slot, its final normalized hidden states are mean-pooled over the
 * tokens and L2-normalized. `encoding_format: "base64"` returns little-endian float32 bytes
 * in base64, as OpenAI does.
 *
 * @module
 */
import type { Hono } from "hono";
import { parseBody } from "./body.ts";
import type { Engine, ReadyEngine } from "./engine.ts";
import { checkModel, checkPromptFits, checkTokenIds } from "./generation.ts";
import { EmbeddingRequest, type EmbeddingResponse } from "./schemas.ts";

/** Mean over `rows` rows of width `dim`, then L2-normalized (a zero vector stays zero). */
export function meanPoolNormalize(hidden: Float32Array, rows: number, dim: number): Float32Array {
  const out = new Float64Array(dim);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < dim; i++) out[i] += hidden[r * dim + i];
  }
  let norm = 0;
  for (let i = 0; i < dim; i++) {
    out[i] /= rows;
    norm += out[i] * out[i];
  }
  norm = Math.sqrt(norm);
  const v = new Float32Array(dim);
  for (let i = 0; i < dim; i++) v[i] = norm > 0 ? out[i] / norm : 0;
  return v;
}

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

function inputTokens(ready: ReadyEngine, input: EmbeddingRequest["input"]): number[][] {
  const tok = ready.model.tokenizer;
  const vocab = ready.model.config.vocabSize;
  const list: (string | number[])[] = typeof input === "string"
    ? [input]
    : input.every((x) => typeof x === "number")
    ? [input as number[]]
    : (input as (string | number[])[]);
  return list.map((x, i) => {
    const param = list.length > 1 ? `input[${i}]` : "input";
    let t: number[];
    if (typeof x === "string") t = tok.encode(x, { addSpecial: true, parseSpecial: false });
    else {
      checkTokenIds(x, vocab, param);
      t = x;
    }
    checkPromptFits(t, ready.contextLength, param, 0);
    return t;
  });
}

/** Registers POST /v1/embeddings. */
export function registerEmbeddings(app: Hono, engine: Engine): void {
  app.post("/v1/embeddings", async (c) => {
    const ready = engine.ready();
    const body = await parseBody(c.req.raw, EmbeddingRequest, engine.bodyLimit);
    checkModel(engine, ready, body.model);
    const inputs = inputTokens(ready, body.input);
    const signal = engine.requestSignal(c.req.raw.signal);
    const dim = ready.model.config.embeddingLength;
    const data: EmbeddingResponse["data"] = [];
    let total = 0;
    for (let i = 0; i < inputs.length; i++) {
      const tokens = inputs[i];
      const lease = await ready.slots.acquire(tokens, signal);
      let hidden: Float32Array;
      try {
        lease.session.reset();
        hidden = await lease.session.eval(tokens, "hidden");
      } finally {
        lease.release();
      }
      const v = meanPoolNormalize(hidden, tokens.length, dim);
      data.push({
        object: "embedding",
        index: i,
        embedding: body.encoding_format === "base64" ? float32Base64(v) : [...v],
      });
      total += tokens.length;
      engine.metrics.promptTokens += tokens.length;
    }
    const res: EmbeddingResponse = {
      object: "list",
      data,
      model: engine.modelId,
      usage: { prompt_tokens: total, total_tokens: total },
    };
    return c.json(res);
  });
}
