/**
 * ollama's API: POST /api/generate and /api/chat (NDJSON streaming unless `stream: false`),
 * POST /api/embed, GET /api/tags, POST /api/show, GET /api/ps and GET /api/version. The one
 * served model answers to any model name (unless `--strict-model`). `options` map to the
 * engine's sampling (omitted fields keep the engine's defaults: greedy); `num_predict` caps
 * the tokens (-1 and -2: up to the context), `num_ctx` limits the context the request may
 * use, up to the slot's. `format` ("json" or a JSON Schema) constrains the answer; `tools`
 * on /api/chat go through the chat template and the model may call them (calls constrained
 * to each function's schema, answered as `message.tool_calls` with object arguments, streamed
 * in one chunk once the answer ends). Durations are nanoseconds, as ollama reports them;
 * errors are `{ "error": "..." }`.
 *
 * @module
 */
import type { Hono } from "../deps/hono.ts";
import { meta } from "../gguf/gguf_file.ts";
import { typeTraits } from "../gguf/ggml_types.ts";
import { now } from "../runtime/host.ts";
import type { ConversationMessage } from "../chat/render.ts";
import { ToolCallStream } from "../chat/tool_call_stream.ts";
import type { ToolCall, ToolCallFamily } from "../chat/tool_calls.ts";
import type { Engine, ReadyEngine } from "./engine.ts";
import { ApiError } from "./errors.ts";
import {
  capMaxTokens,
  checkModel,
  checkPromptFits,
  constraintGrammar,
  type GenerationJob,
  samplingFrom,
} from "./generation.ts";
import { toolPlan } from "./chat_tools.ts";
import { chatPromptTokens } from "./routes_chat.ts";
import { embedAll, inputTokens } from "./routes_embeddings.ts";
import {
  OllamaChatRequest,
  OllamaEmbedRequest,
  type OllamaFormat,
  OllamaGenerateRequest,
  type OllamaOptions,
  OllamaShowRequest,
} from "./schemas.ts";
import { type ChoiceEvent, startGeneration } from "./slot_run.ts";
import { jsonWithHeartbeat } from "./heartbeat.ts";
import { ndjsonResponse } from "./ndjson.ts";
import { SERVER_VERSION } from "./version.ts";

const NS_PER_MS = 1e6;

function job(
  ready: ReadyEngine,
  prompt: number[],
  o: OllamaOptions = {},
  constraint: Pick<GenerationJob, "grammar" | "grammarTriggers"> = {},
): GenerationJob {
  const ctx = Math.min(ready.contextLength, o.num_ctx ?? ready.contextLength);
  checkPromptFits(prompt, ctx, "prompt");
  const predict = o.num_predict === undefined || o.num_predict < 0 ? undefined : o.num_predict;
  return {
    prompt,
    maxTokens: capMaxTokens(predict, ctx, prompt.length, ctx),
    sampling: samplingFrom(o, ready.model.config.vocabSize),
    stop: (o.stop ?? []).filter((s) => s !== ""),
    ignoreEos: false,
    ...constraint,
  };
}

/** The grammar of `format` (a 400 naming format when its schema cannot be enforced). */
function formatGrammar(format: OllamaFormat | undefined): Pick<GenerationJob, "grammar"> {
  if (format === undefined) return {};
  const response_format = format === "json"
    ? { type: "json_object" as const }
    : { type: "json_schema" as const, json_schema: { name: "format", schema: format } };
  try {
    const grammar = constraintGrammar({ response_format });
    return grammar ? { grammar } : {};
  } catch (e) {
    if (e instanceof ApiError) {
      throw new ApiError(
        400,
        "invalid_value",
        e.message.replace(/^response_format/, "format"),
        "format",
      );
    }
    throw e;
  }
}

/** ollama's messages as a conversation (a tool result names its function in `tool_name`). */
function conversation(messages: OllamaChatRequest["messages"]): ConversationMessage[] {
  return messages.map((m) => ({
    role: m.role,
    content: m.content,
    ...(m.tool_name !== undefined ? { name: m.tool_name } : {}),
    ...(m.tool_calls?.length
      ? {
        toolCalls: m.tool_calls.map((c) => ({
          name: c.function.name,
          arguments: c.function.arguments,
        })),
      }
      : {}),
  }));
}

/** Calls in ollama's shape. */
function ollamaCalls(calls: readonly ToolCall[]) {
  return calls.map((c, index) => ({
    function: { index, name: c.name, arguments: c.arguments as Record<string, unknown> },
  }));
}

function modelDetails(ready: ReadyEngine) {
  const file = ready.model.file;
  const arch = String(meta(file, "general.architecture") ?? "unknown");
  let params = 0;
  const bytesByType = new Map<number, number>();
  for (const t of file.tensors) {
    params += t.nElements;
    bytesByType.set(t.type, (bytesByType.get(t.type) ?? 0) + t.nBytes);
  }
  const main = [...bytesByType].sort((a, b) => b[1] - a[1])[0]?.[0];
  const size = params >= 1e9
    ? `${(params / 1e9).toFixed(1)}B`
    : params >= 1e6
    ? `${(params / 1e6).toFixed(1)}M`
    : `${(params / 1e3).toFixed(1)}K`;
  return {
    format: "gguf" as const,
    family: arch,
    families: [arch],
    parameter_size: size,
    quantization_level: main === undefined ? "unknown" : typeTraits(main).name,
  };
}

function modelEntry(engine: Engine, ready: ReadyEngine) {
  return {
    name: engine.modelId,
    model: engine.modelId,
    modified_at: new Date(engine.createdAt * 1000).toISOString(),
    size: ready.model.file.source.size,
    digest: engine.fingerprint.replace(/^fp_/, ""),
    details: modelDetails(ready),
  };
}

/** The statistics fields of a final generate/chat object. */
function stats(ev: Extract<ChoiceEvent, { kind: "end" }>, t0: number, first: number) {
  const end = now();
  return {
    done_reason: ev.result.finishReason === "length" ? "length" as const : "stop" as const,
    total_duration: Math.round((end - t0) * NS_PER_MS),
    load_duration: 0,
    prompt_eval_count: ev.result.promptTokens,
    prompt_eval_duration: Math.round((first - t0) * NS_PER_MS),
    eval_count: ev.result.completionTokens,
    eval_duration: Math.round((end - first) * NS_PER_MS),
  };
}

/** Runs one generation job, streamed as NDJSON or answered as one object. */
async function respond(
  engine: Engine,
  ready: ReadyEngine,
  j: GenerationJob,
  raw: Request,
  stream: boolean,
  shape: (text: string, calls?: readonly ToolCall[]) => Record<string, unknown>,
  family?: ToolCallFamily,
): Promise<Response> {
  const t0 = now();
  const ac = new AbortController();
  const signal = engine.requestSignal(AbortSignal.any([raw.signal, ac.signal]));
  const gen = await startGeneration(engine, ready, [j], signal);
  const head = () => ({ model: engine.modelId, created_at: new Date().toISOString() });
  const split = family ? new ToolCallStream(family) : undefined;
  let shown = "";
  let first: number | undefined;
  const events = async function* () {
    for await (const ev of gen.events) {
      first ??= now();
      if (ev.kind === "end") {
        const end = split?.finish();
        const rest = end ? end.rest : "";
        const calls = end?.toolCalls ?? [];
        if (stream && (rest !== "" || calls.length > 0)) {
          yield { ...head(), ...shape(rest, calls), done: false };
        }
        const text = stream ? "" : split ? shown + rest : ev.result.text;
        yield {
          ...head(),
          ...shape(text, stream ? [] : calls),
          done: true,
          ...stats(ev, t0, first),
        };
      } else {
        const text = split ? split.push(ev.chunk.text) : ev.chunk.text;
        shown += text;
        if (stream && text !== "") yield { ...head(), ...shape(text), done: false };
      }
    }
  };
  if (stream) {
    return ndjsonResponse(events(), { onCancel: () => ac.abort(), onEnd: () => gen.close() });
  }
  try {
    let last: unknown;
    for await (const obj of events()) last = obj;
    return Response.json(last);
  } finally {
    gen.close();
  }
}

/** Registers the /api routes. */
export function registerOllama(app: Hono, engine: Engine): void {
  app.post("/api/generate", async (c) => {
    const ready = engine.ready();
    const body = await engine.parse(c.req.raw, OllamaGenerateRequest);
    checkModel(engine, ready, body.model);
    const shape = (text: string) => ({ response: text });
    if (body.prompt === undefined || body.prompt === "") {
      // ollama's "load the model" request: nothing to generate.
      return c.json({
        model: engine.modelId,
        created_at: new Date().toISOString(),
        response: "",
        done: true,
        done_reason: "load",
      });
    }
    let tokens: number[];
    const tok = ready.model.tokenizer;
    if (body.raw) {
      tokens = tok.encode((body.system ?? "") + body.prompt, {
        addSpecial: true,
        parseSpecial: true,
      });
    } else {
      const messages = [
        ...(body.system ? [{ role: "system", content: body.system }] : []),
        { role: "user", content: body.prompt },
      ];
      tokens = chatPromptTokens(ready, messages, engine.chatTemplate);
    }
    const j = job(ready, tokens, body.options, formatGrammar(body.format));
    return await respond(engine, ready, j, c.req.raw, body.stream !== false, shape);
  });

  app.post("/api/chat", async (c) => {
    const ready = engine.ready();
    const body = await engine.parse(c.req.raw, OllamaChatRequest);
    checkModel(engine, ready, body.model);
    if (body.messages.length === 0) {
      return c.json({
        model: engine.modelId,
        created_at: new Date().toISOString(),
        message: { role: "assistant", content: "" },
        done: true,
        done_reason: "load",
      });
    }
    // With tools, `format` shapes the answer when it is not a call (see chat_tools.ts).
    const format = formatGrammar(body.format);
    const plan = toolPlan(
      { tools: body.tools?.length ? body.tools : undefined, grammar: format.grammar?.source },
      engine.chatTemplate,
    );
    const messages = conversation(body.messages);
    const tokens = chatPromptTokens(ready, messages, engine.chatTemplate, plan?.tools);
    const constraint = plan?.grammar
      ? { grammar: plan.grammar.grammar, grammarTriggers: plan.grammar.triggerWords }
      : format;
    const j = job(ready, tokens, body.options, constraint);
    const shape = (text: string, calls: readonly ToolCall[] = []) => ({
      message: {
        role: "assistant",
        content: text,
        ...(calls.length > 0 ? { tool_calls: ollamaCalls(calls) } : {}),
      },
    });
    return await respond(engine, ready, j, c.req.raw, body.stream !== false, shape, plan?.family);
  });

  app.post("/api/embed", async (c) => {
    const t0 = now();
    const ready = engine.ready();
    const body = await engine.parse(c.req.raw, OllamaEmbedRequest);
    checkModel(engine, ready, body.model);
    const ac = new AbortController();
    const signal = engine.requestSignal(AbortSignal.any([c.req.raw.signal, ac.signal]));
    const inputs = await inputTokens(engine, ready, body.input, signal, body.truncate !== false);
    const work = embedAll(engine, ready, inputs, signal).then((vectors) => ({
      model: engine.modelId,
      embeddings: vectors.map((v) => [...v]),
      total_duration: Math.round((now() - t0) * NS_PER_MS),
      load_duration: 0,
      prompt_eval_count: inputs.reduce((a, t) => a + t.length, 0),
    }));
    return await jsonWithHeartbeat(work, { onCancel: () => ac.abort() });
  });

  app.get("/api/tags", (c) => c.json({ models: [modelEntry(engine, engine.ready())] }));

  app.get("/api/ps", (c) => {
    const ready = engine.ready();
    const far = new Date(Date.UTC(2100, 0, 1)).toISOString();
    return c.json({ models: [{ ...modelEntry(engine, ready), expires_at: far, size_vram: 0 }] });
  });

  app.post("/api/show", async (c) => {
    const ready = engine.ready();
    const body = await engine.parse(c.req.raw, OllamaShowRequest);
    checkModel(engine, ready, body.model ?? body.name);
    const cfg = ready.model.config;
    const arch = String(meta(ready.model.file, "general.architecture") ?? "unknown");
    return c.json({
      modelfile: `FROM ${ready.model.path}\n`,
      parameters: "",
      template: engine.chatTemplate ?? "",
      details: modelDetails(ready),
      model_info: {
        "general.architecture": arch,
        [`${arch}.context_length`]: ready.contextLength,
        [`${arch}.embedding_length`]: cfg.embeddingLength,
        [`${arch}.vocab_size`]: cfg.vocabSize,
      },
      capabilities: ["completion", "embedding", "tools"],
    });
  });

  app.get("/api/version", (c) => c.json({ version: SERVER_VERSION }));
}
