/**
 * POST /v1/responses (and /responses): OpenAI's Responses API for text. `input` (a string or
 * text messages) and `instructions` (a system message) are rendered with the chat template;
 * the answer is one assistant message of `output_text`. With `stream: true` the server-sent
 * events are `response.created`, `response.output_item.added`, `response.content_part.added`,
 * `response.output_text.delta`..., `response.output_text.done`, `response.content_part.done`,
 * `response.output_item.done` and `response.completed` (each `data:` carries its `type` and
 * `sequence_number`). Fields of the API this server does not implement are a 400 `unsupported`.
 *
 * @module
 */
import type { Context, Hono } from "../deps/hono.ts";
import type { GenerateResult } from "../core/generate.ts";
import type { Engine } from "./engine.ts";
import {
  capMaxTokens,
  checkModel,
  checkPromptFits,
  type GenerationJob,
  samplingFrom,
} from "./generation.ts";
import { chatPromptTokens } from "./routes_chat.ts";
import { type ResponseObject, ResponseRequest } from "./schemas.ts";
import { collect, startGeneration } from "./slot_run.ts";
import { sseResponse } from "./sse.ts";

function messagesOf(body: ResponseRequest): { role: string; content: string }[] {
  const sys = body.instructions ? [{ role: "system", content: body.instructions }] : [];
  if (typeof body.input === "string") return [...sys, { role: "user", content: body.input }];
  return [
    ...sys,
    ...body.input.map((m) => ({
      role: m.role,
      content: typeof m.content === "string" ? m.content : m.content.map((p) => p.text).join(""),
    })),
  ];
}

/** Registers POST /v1/responses and /responses. */
export function registerResponses(app: Hono, engine: Engine): void {
  const handler = async (c: Context) => {
    const ready = engine.ready();
    const body = await engine.parse(c.req.raw, ResponseRequest);
    checkModel(engine, ready, body.model);
    const ctx = ready.contextLength;
    const prompt = chatPromptTokens(ready, messagesOf(body), engine.chatTemplate);
    checkPromptFits(prompt, ctx, "input");
    const job: GenerationJob = {
      prompt,
      maxTokens: capMaxTokens(body.max_output_tokens, ctx, prompt.length, ctx),
      sampling: samplingFrom(body, ready.model.config.vocabSize),
      stop: [],
      ignoreEos: false,
    };
    const id = `resp_${crypto.randomUUID().replaceAll("-", "")}`;
    const msgId = `msg_${crypto.randomUUID().replaceAll("-", "")}`;
    const created = Math.floor(Date.now() / 1000);
    const shape = (
      text: string,
      done?: { result: GenerateResult; cachedTokens: number },
    ): ResponseObject => {
      const cut = done?.result.finishReason === "length";
      const status = !done ? "in_progress" : cut ? "incomplete" : "completed";
      return {
        id,
        object: "response",
        created_at: created,
        status,
        model: engine.modelId,
        output: done || text
          ? [{
            type: "message",
            id: msgId,
            status,
            role: "assistant",
            content: [{ type: "output_text", text, annotations: [] }],
          }]
          : [],
        incomplete_details: cut ? { reason: "max_output_tokens" } : null,
        usage: done
          ? {
            input_tokens: done.result.promptTokens,
            input_tokens_details: { cached_tokens: done.cachedTokens },
            output_tokens: done.result.completionTokens,
            output_tokens_details: { reasoning_tokens: 0 },
            total_tokens: done.result.promptTokens + done.result.completionTokens,
          }
          : null,
      };
    };
    if (!body.stream) {
      const signal = engine.requestSignal(c.req.raw.signal);
      const [done] = await collect(await startGeneration(engine, ready, [job], signal));
      return c.json(shape(done.result.text, done));
    }
    const ac = new AbortController();
    const signal = engine.requestSignal(AbortSignal.any([c.req.raw.signal, ac.signal]));
    const gen = await startGeneration(engine, ready, [job], signal);
    const events = async function* () {
      let seq = 0;
      const ev = (type: string, fields: Record<string, unknown>) => ({
        type,
        sequence_number: seq++,
        ...fields,
      });
      const where = { item_id: msgId, output_index: 0, content_index: 0 };
      const part = (text: string) => ({ type: "output_text", text, annotations: [] });
      yield ev("response.created", { response: shape("") });
      const item = { type: "message", id: msgId, status: "in_progress", role: "assistant" };
      yield ev("response.output_item.added", { output_index: 0, item: { ...item, content: [] } });
      yield ev("response.content_part.added", { ...where, part: part("") });
      let text = "";
      for await (const e of gen.events) {
        if (e.kind === "chunk") {
          if (e.chunk.text === "") continue;
          text += e.chunk.text;
          yield ev("response.output_text.delta", { ...where, delta: e.chunk.text, logprobs: [] });
          continue;
        }
        const final = shape(e.result.text, e);
        yield ev("response.output_text.done", { ...where, text, logprobs: [] });
        yield ev("response.content_part.done", { ...where, part: part(text) });
        yield ev("response.output_item.done", { output_index: 0, item: final.output[0] });
        const type = final.status === "completed" ? "response.completed" : "response.incomplete";
        yield ev(type, { response: final });
      }
    };
    return sseResponse(events(), {
      done: false,
      onCancel: () => ac.abort(),
      onEnd: () => gen.close(),
    });
  };
  app.post("/v1/responses", handler);
  app.post("/responses", handler);
}
