/**
 * Structured output and tools through the official `openai` client, unchanged: a zod schema
 * via `zodResponseFormat` with `chat.completions.parse` (the parsed value passes zod), a
 * streamed call assembled by the client's own accumulator, `runTools` calling a function with
 * schema-valid arguments and sending its result back, and a manual loop (call, tool result,
 * answer). stories260K: ChatML, so the generic JSON call format.
 */
import OpenAI from "openai";
import { zodResponseFormat } from "openai/helpers/zod";
import { z } from "zod";
import { assert, assertEquals } from "./assert.ts";
import { test } from "./harness.ts";
import { startServer, type TestServer } from "./_server_util.ts";
import { HAVE_SHARED, NO_SHARED_REASON } from "./shared_data.ts";

const skip = { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON };

async function withClient(fn: (client: OpenAI, s: TestServer) => Promise<void>): Promise<void> {
  const s = await startServer({ parallel: 1 });
  const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: "unused", maxRetries: 0 });
  try {
    await fn(client, s);
  } finally {
    await s.close();
  }
}

const Answer = z.object({
  ok: z.boolean(),
  level: z.enum(["low", "high"]),
  count: z.number().int().min(0).max(9),
});

const ALARM = {
  type: "object" as const,
  properties: { loud: { type: "boolean" }, hour: { type: "integer", minimum: 0, maximum: 23 } },
  required: ["loud", "hour"],
  additionalProperties: false,
};
const Alarm = z.object({ loud: z.boolean(), hour: z.number().int().min(0).max(23) }).strict();
const TOOLS = [{
  type: "function" as const,
  function: { name: "set_alarm", description: "Sets an alarm", parameters: ALARM },
}];
const ASK = [{ role: "user" as const, content: "Wake me at seven." }];

test("openai client: zodResponseFormat + chat.completions.parse", async () => {
  await withClient(async (client) => {
    for (let seed = 1; seed <= 4; seed++) {
      const r = await client.chat.completions.parse({
        model: "x",
        messages: [{ role: "user", content: "Rate it." }],
        response_format: zodResponseFormat(Answer, "answer"),
        max_tokens: 96,
        temperature: 1,
        seed,
      });
      const m = r.choices[0].message;
      assertEquals(r.choices[0].finish_reason, "stop", m.content ?? "");
      assert(m.parsed !== null, m.content ?? "");
      assertEquals(Answer.parse(m.parsed), m.parsed);
    }
  });
}, skip);

test("openai client: a streamed call assembled by the client's accumulator", async () => {
  await withClient(async (client) => {
    const stream = client.chat.completions.stream({
      model: "x",
      messages: ASK,
      tools: TOOLS,
      tool_choice: "required",
      parallel_tool_calls: false,
      max_tokens: 96,
      temperature: 1,
      seed: 2,
    });
    const done = await stream.finalChatCompletion();
    const c = done.choices[0];
    assertEquals(c.finish_reason, "tool_calls");
    const call = c.message.tool_calls![0];
    assert(call.type === "function");
    assertEquals(call.function.name, "set_alarm");
    Alarm.parse(JSON.parse(call.function.arguments));
  });
}, skip);

test("openai client: runTools calls the function and sends its result back", async () => {
  await withClient(async (client) => {
    const got: unknown[] = [];
    const runner = client.chat.completions.runTools({
      model: "x",
      messages: ASK,
      tool_choice: { type: "function", function: { name: "set_alarm" } },
      parallel_tool_calls: false,
      max_tokens: 96,
      temperature: 1,
      seed: 4,
      tools: [{
        type: "function",
        function: {
          name: "set_alarm",
          description: "Sets an alarm",
          parameters: ALARM,
          parse: (s: string) => Alarm.parse(JSON.parse(s)),
          function: (args: z.infer<typeof Alarm>) => {
            got.push(args);
            return { set: true };
          },
        },
      }],
    });
    await runner.done();
    assertEquals(got.length, 1);
    const roles = runner.messages.map((m) => m.role);
    assertEquals(roles, ["user", "assistant", "tool"]);
    const tool = runner.messages[2] as { content: string };
    assertEquals(JSON.parse(tool.content), { set: true });
    // "required" keeps calling: the second request carries the first call and its result
    // back as the client stores them (with its parsed/parsed_arguments fields).
    const again = client.chat.completions.runTools({
      model: "x",
      messages: ASK,
      tool_choice: "required",
      parallel_tool_calls: false,
      max_tokens: 200,
      temperature: 1,
      seed: 1,
      tools: [{
        type: "function",
        function: {
          name: "set_alarm",
          description: "Sets an alarm",
          parameters: ALARM,
          parse: (s: string) => Alarm.parse(JSON.parse(s)),
          function: () => ({ set: true }),
        },
      }],
    }, { maxChatCompletions: 2 });
    await again.done();
    assertEquals(again.messages.map((m) => m.role), [
      "user",
      "assistant",
      "tool",
      "assistant",
      "tool",
    ]);
  });
}, skip);

test("openai client: a manual loop (call, tool result, answer)", async () => {
  await withClient(async (client) => {
    const first = await client.chat.completions.create({
      model: "x",
      messages: ASK,
      tools: TOOLS,
      tool_choice: "required",
      parallel_tool_calls: false,
      max_tokens: 96,
      temperature: 1,
      seed: 6,
    });
    const msg = first.choices[0].message;
    const call = msg.tool_calls![0];
    assert(call.type === "function");
    Alarm.parse(JSON.parse(call.function.arguments));
    const second = await client.chat.completions.create({
      model: "x",
      messages: [...ASK, msg, { role: "tool", tool_call_id: call.id, content: '{"set":true}' }],
      tools: TOOLS,
      tool_choice: "none",
      max_tokens: 16,
      temperature: 0,
    });
    const answer = second.choices[0].message;
    assertEquals(typeof answer.content, "string");
    assertEquals(answer.tool_calls, undefined);
    assert(second.usage!.prompt_tokens > first.usage!.prompt_tokens);
  });
}, skip);
