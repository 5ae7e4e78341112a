/**
 * POST /v1/responses (and /responses): OpenAI's Responses API. `input` (a string, or text
 * messages, `function_call` and `function_call_output` items) and `instructions` (a system
 * message) are rendered with the chat template; the answer is an assistant message of
 * `output_text` and, with function `tools`, `function_call` items (calls constrained to each
 * function's parameters as on /v1/chat/completions, see chat_tools.ts). `text.format`
 * (`json_schema`, `json_object`) constrains the answer as the chat route's `response_format`
 * (with tool_choice auto: a call, or an answer in the format). With `stream: true` the
 * server-sent events are `response.created`, then each item's events (responses_output.ts:
 * `response.output_text.delta`, `response.function_call_arguments.delta` and their `.done`),
 * then `response.completed` (each `data:` carries its `type` and `sequence_number`). Fields of
 * the API this server does not implement are a 400 `unsupported`.
 *
 * @module
 */
import type { Context, Hono } from "../deps/hono.ts";
import type { GenerateResult } from "../core/generate.ts";
import type { ConversationMessage } from "../chat/render.ts";
import type { ToolCall } from "../chat/tool_calls.ts";
import { splitAnswer, ToolCallDeltas, type ToolPlan, toolPlan } from "./chat_tools.ts";
import type { Engine } from "./engine.ts";
import { ApiError } from "./errors.ts";
import type { Grammar } from "../grammar/grammar.ts";
import {
  capMaxTokens,
  checkModel,
  checkPromptFits,
  constraintGrammar,
  type GenerationJob,
  samplingFrom,
} from "./generation.ts";
import { callItem, messageItem, type OutputItem, ResponseOutput } from "./responses_output.ts";
import { chatPromptTokens } from "./routes_chat.ts";
import { type ResponseObject, ResponseRequest } from "./schemas.ts";
import { collect, startGeneration } from "./slot_run.ts";
import { sseResponse } from "./sse.ts";

const textOf = (c: string | readonly { text: string }[]) =>
  typeof c === "string" ? c : c.map((p) => p.text).join("");

/** The input as a conversation: calls join the assistant turn before them, outputs are tool messages. */
function conversationOf(body: ResponseRequest): ConversationMessage[] {
  const out: ConversationMessage[] = body.instructions
    ? [{ role: "system", content: body.instructions }]
    : [];
  if (typeof body.input === "string") return [...out, { role: "user", content: body.input }];
  const names = new Map<string, string>();
  body.input.forEach((item, i) => {
    if (item.type === "function_call") {
      let args: unknown;
      try {
        args = JSON.parse(item.arguments);
      } catch {
        const param = `input[${i}].arguments`;
        throw new ApiError(400, "invalid_value", `${param} is not JSON`, param);
      }
      const call: ToolCall = { id: item.call_id, name: item.name, arguments: args };
      names.set(item.call_id, item.name);
      const last = out.at(-1);
      if (last?.role === "assistant") last.toolCalls = [...(last.toolCalls ?? []), call];
      else out.push({ role: "assistant", content: "", toolCalls: [call] });
    } else if (item.type === "function_call_output") {
      const name = names.get(item.call_id);
      out.push({
        role: "tool",
        content: textOf(item.output),
        toolCallId: item.call_id,
        ...(name ? { name } : {}),
      });
    } else {
      out.push({ role: item.role, content: textOf(item.content) });
    }
  });
  return out;
}

/** The tool plan of the request's function tools (400s name the Responses API's fields). */
function planOf(body: ResponseRequest, template: string | undefined): ToolPlan | undefined {
  const choice = body.tool_choice;
  try {
    return toolPlan({
      tools: body.tools?.length
        ? body.tools.map((t) => ({
          type: "function" as const,
          function: {
            name: t.name,
            description: t.description ?? undefined,
            parameters: t.parameters ?? undefined,
          },
        }))
        : undefined,
      tool_choice: typeof choice === "object" && choice !== null
        ? { type: "function", function: { name: choice.name } }
        : choice,
      parallel_tool_calls: body.parallel_tool_calls,
      // With tool_choice auto the plan's grammar allows a call or an answer in this format.
      response_format: responseFormatOf(body),
    }, template);
  } catch (e) {
    if (e instanceof ApiError && e.param !== null) {
      const param = e.param.replace(/^(tools\[\d+\])\.function\./, "$1.")
        .replace(/^response_format(\.json_schema)?/, "text.format");
      throw new ApiError(e.status, "invalid_value", e.message.replaceAll(e.param, param), param);
    }
    throw e;
  }
}

/** `text.format` in chat completions' `response_format` shape (undefined for plain text). */
function responseFormatOf(body: ResponseRequest) {
  const f = body.text?.format;
  if (!f || f.type === "text") return undefined;
  return f.type === "json_object" ? { type: "json_object" as const } : {
    type: "json_schema" as const,
    json_schema: { name: f.name, schema: f.schema, strict: f.strict },
  };
}

/**
 * The grammar of `text.format` when no tool plan constrains the answer (through
 * response_format's path; 400s name `text.format`). With callable tools the plan's grammar
 * already holds the format: a call, or (tool_choice auto) an answer in the format.
 */
function formatGrammar(body: ResponseRequest, plan: ToolPlan | undefined): Grammar | undefined {
  const response_format = responseFormatOf(body);
  if (!response_format || plan?.grammar) return undefined;
  try {
    return constraintGrammar({ response_format });
  } catch (e) {
    if (e instanceof ApiError && e.param !== null) {
      const param = e.param.replace(/^response_format(\.json_schema)?/, "text.format");
      throw new ApiError(e.status, "invalid_value", e.message.replaceAll(e.param, param), param);
    }
    throw e;
  }
}

/** Registers POST /v1/responses and /responses. */
export function registerResponses(app: Hono, engine: Engine): void {
  const handler = async (c: Context) => {
    const ready = engine.ready();
    const body = await engine.parse(c.req.raw, ResponseRequest);
    checkModel(engine, ready, body.model);
    const ctx = ready.contextLength;
    const plan = planOf(body, engine.chatTemplate);
    const prompt = chatPromptTokens(ready, conversationOf(body), engine.chatTemplate, plan?.tools);
    checkPromptFits(prompt, ctx, "input");
    const format = formatGrammar(body, plan);
    const job: GenerationJob = {
      prompt,
      maxTokens: capMaxTokens(body.max_output_tokens, ctx, prompt.length, ctx),
      sampling: samplingFrom(body, ready.model.config.vocabSize),
      stop: [],
      ignoreEos: false,
      ...(plan?.grammar
        ? { grammar: plan.grammar.grammar, grammarTriggers: plan.grammar.triggerWords }
        : format
        ? { grammar: format }
        : {}),
    };
    // Calls are split out only when the answer was constrained to the call format.
    const family = plan?.grammar ? plan.family : undefined;
    const id = `resp_${crypto.randomUUID().replaceAll("-", "")}`;
    const created = Math.floor(Date.now() / 1000);
    const shape = (
      output: OutputItem[],
      done?: { result: GenerateResult; cachedTokens: number },
    ): ResponseObject => {
      const cut = done?.result.finishReason === "length";
      return {
        id,
        object: "response",
        created_at: created,
        status: !done ? "in_progress" : cut ? "incomplete" : "completed",
        model: engine.modelId,
        output,
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
      const status = done.result.finishReason === "length" ? "incomplete" : "completed";
      if (!family) return c.json(shape([messageItem(done.result.text, status)], done));
      const { content, calls } = splitAnswer(done.result.text, family);
      const output = [
        ...(content !== null || calls.length === 0 ? [messageItem(content ?? "", status)] : []),
        ...calls.map((k) => callItem(k.id, k.function.name, k.function.arguments, status)),
      ];
      return c.json(shape(output, done));
    }
    const ac = new AbortController();
    const signal = engine.requestSignal(AbortSignal.any([c.req.raw.signal, ac.signal]));
    const gen = await startGeneration(engine, ready, [job], signal);
    const events = async function* () {
      const out = new ResponseOutput();
      const split = family ? new ToolCallDeltas(family) : undefined;
      yield out.event("response.created", { response: shape([]) });
      if (!split) yield* out.openMessage();
      for await (const e of gen.events) {
        if (e.kind === "chunk") {
          if (!split) {
            yield* out.text(e.chunk.text);
            continue;
          }
          const { content, calls } = split.push(e.chunk.text);
          yield* out.text(content);
          for (const d of calls) yield* out.call(d);
          continue;
        }
        if (split) {
          const end = split.finish();
          yield* out.text(end.content);
          for (const d of end.calls) yield* out.call(d);
        }
        const final = shape([], e);
        yield* out.finish(final.status === "completed" ? "completed" : "incomplete");
        const type = final.status === "completed" ? "response.completed" : "response.incomplete";
        yield out.event(type, { response: { ...final, output: out.items } });
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
