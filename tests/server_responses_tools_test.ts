/**
 * Function tools on /v1/responses through the official openai client: with tool_choice
 * "required" or a named function every seeded answer is `function_call` items whose arguments
 * validate; streamed `response.function_call_arguments.delta` events add up to the `.done`
 * arguments and to the unstreamed call of the same seed; `client.responses.stream()`
 * assembles the same items; `function_call` / `function_call_output` input items make the
 * same prompt as the chat route's assistant `tool_calls` and `tool` messages; bad tools,
 * choices and arguments are 400s naming the Responses API's fields. stories260K (ChatML: the
 * generic JSON call format).
 */
import OpenAI from "openai";
import { assert, assertEquals } from "./assert.ts";
import { test } from "./harness.ts";
import { checkJson } from "./_json_schema_check.ts";
import { type Json, postJson, startServer, type TestServer } from "./_server_util.ts";
import { HAVE_SHARED, NO_SHARED_REASON } from "./shared_data.ts";

const skip = { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON };
const WEATHER = {
  type: "object",
  properties: { city: { type: "string", maxLength: 6 }, days: { type: "integer", minimum: 1 } },
  required: ["city"],
  additionalProperties: false,
};
const TOOLS = [
  { type: "function" as const, name: "get_weather", parameters: WEATHER, strict: true },
  {
    type: "function" as const,
    name: "now",
    description: "The time",
    parameters: { type: "object", properties: {}, additionalProperties: false },
    strict: true,
  },
];
const SCHEMAS: Record<string, Json> = { get_weather: WEATHER, now: TOOLS[1].parameters };

async function withClient(fn: (client: OpenAI, s: TestServer) => Promise<void>): Promise<void> {
  const s = await startServer({ parallel: 1 });
  const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: "unused", maxRetries: 0 });
  try {
    await fn(client, s);
  } finally {
    await s.close();
  }
}

function checkCall(item: Json, why: string): void {
  assertEquals(item.type, "function_call", why);
  assert(/^fc_[0-9a-f]{32}$/.test(item.id), `${why}: id ${item.id}`);
  assert(/^call_[A-Za-z0-9]{24}$/.test(item.call_id), `${why}: call_id ${item.call_id}`);
  assertEquals(item.status, "completed", why);
  assertEquals(checkJson(JSON.parse(item.arguments), SCHEMAS[item.name]), [], why);
}

test("responses tools: required and named choices give valid function_call items", async () => {
  await withClient(async (client) => {
    for (let seed = 1; seed <= 6; seed++) {
      const named = seed % 2 === 0;
      const base = {
        input: "Weather in Paris?",
        tools: TOOLS,
        tool_choice: named ? { type: "function" as const, name: "now" } : "required" as const,
        parallel_tool_calls: false,
        max_output_tokens: 120,
        temperature: 1.2,
        seed,
      };
      const r = await client.responses.create(base);
      const why = `seed ${seed}: ${JSON.stringify(r.output)}`;
      assertEquals(r.status, "completed", why);
      assertEquals(r.output.length, 1, why);
      checkCall(r.output[0], why);
      if (named) assertEquals((r.output[0] as Json).name, "now", why);
      // Streamed: deltas add up to .done, to the final item, and to the unstreamed call.
      const stream = await client.responses.create({ ...base, stream: true });
      const deltas = new Map<string, string>();
      let done: Json, final: Json, added: Json;
      for await (const ev of stream) {
        if (ev.type === "response.output_item.added" && ev.item.type === "function_call") {
          added = ev.item;
        }
        if (ev.type === "response.function_call_arguments.delta") {
          deltas.set(ev.item_id, (deltas.get(ev.item_id) ?? "") + ev.delta);
        }
        if (ev.type === "response.function_call_arguments.done") done = ev;
        if (ev.type === "response.completed") final = ev.response;
      }
      assertEquals(added.name, (r.output[0] as Json).name, why);
      assertEquals(added.arguments, "", why);
      assertEquals(deltas.get(done.item_id), done.arguments, why);
      assertEquals(final.output.length, 1, why);
      checkCall(final.output[0], why);
      assertEquals(final.output[0].arguments, done.arguments, why);
      const args = (x: Json) => JSON.parse(x.arguments);
      assertEquals(args(final.output[0]), args(r.output[0]), why);
    }
    // The client's own accumulator.
    const run = client.responses.stream({
      input: "Weather?",
      tools: TOOLS,
      tool_choice: "required",
      parallel_tool_calls: false,
      max_output_tokens: 120,
      temperature: 1,
      ...{ seed: 3 },
    });
    const res = await run.finalResponse();
    checkCall(res.output[0], JSON.stringify(res.output));
  });
}, skip);

test("responses tools: auto gives calls or a message; input items round-trip", async () => {
  await withClient(async (client, s) => {
    let kinds = "";
    for (let seed = 1; seed <= 6; seed++) {
      const r = await client.responses.create({
        input: "Weather in Paris?",
        tools: TOOLS,
        max_output_tokens: 120,
        temperature: 1.2,
        ...{ seed }, // not in the client's types; the server takes it
      });
      if (r.status !== "completed") continue;
      for (const item of r.output) {
        kinds += item.type === "function_call" ? "c" : "m";
        if (item.type === "function_call") checkCall(item, JSON.stringify(r.output));
        else {
          const text = item.type === "message" && item.content[0].type === "output_text"
            ? item.content[0].text
            : "";
          assert(!/^\s*\{\s*"tool_calls?"/.test(text), `raw call JSON as a message: ${text}`);
        }
      }
    }
    assert(kinds.length > 0, "some seeded answers complete");
    // A call and its result as input items: the same prompt as the chat route's messages.
    const call = { city: "Oslo" };
    const r = await client.responses.create({
      instructions: "Be brief.",
      input: [
        { role: "user", content: "Weather in Oslo?" },
        {
          type: "function_call",
          call_id: "call_1",
          name: "get_weather",
          arguments: JSON.stringify(call),
        },
        { type: "function_call_output", call_id: "call_1", output: "Sunny, 20 C" },
      ],
      tools: TOOLS,
      tool_choice: "none",
      max_output_tokens: 1,
    });
    const chat = await postJson(`${s.url}/v1/chat/completions`, {
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Weather in Oslo?" },
        {
          role: "assistant",
          content: "",
          tool_calls: [{
            id: "call_1",
            type: "function",
            function: { name: "get_weather", arguments: JSON.stringify(call) },
          }],
        },
        { role: "tool", tool_call_id: "call_1", content: "Sunny, 20 C" },
      ],
      tools: TOOLS.map(({ name, description, parameters }) => ({
        type: "function",
        function: { name, ...(description ? { description } : {}), parameters },
      })),
      tool_choice: "none",
      max_tokens: 1,
    });
    assertEquals(chat.status, 200, JSON.stringify(chat.body));
    assertEquals(r.usage?.input_tokens, chat.body.usage.prompt_tokens);
    assert((r.usage?.input_tokens ?? 0) > 60, String(r.usage?.input_tokens));
    const bad: [Json, string][] = [
      [{
        tools: [{ type: "function", name: "f", parameters: { type: "string", format: "email" } }],
      }, "tools[0].parameters"],
      [{ tools: TOOLS, tool_choice: { type: "function", name: "nope" } }, "tool_choice"],
      [{ tool_choice: "required" }, "tool_choice"],
      [{ tools: [TOOLS[0], TOOLS[0]] }, "tools[1].name"],
      [{
        input: [
          { role: "user", content: "x" },
          { type: "function_call", call_id: "c", name: "f", arguments: "{oops" },
        ],
      }, "input[1].arguments"],
      [{ tools: [{ type: "web_search" }] }, "tools[0].type"],
    ];
    for (const [extra, param] of bad) {
      const b = await postJson(`${s.url}/v1/responses`, { input: "x", ...extra });
      assertEquals([b.status, b.body.error?.param], [400, param], JSON.stringify(b.body));
    }
  });
}, skip);
