/**
 * Tool calling on /v1/chat/completions (stories260K, ChatML: the generic JSON call format):
 * with tool_choice "required" or a named function every seeded answer is a call whose
 * arguments validate against the function's schema, in OpenAI's shape (finish reason
 * "tool_calls", content null); streamed `delta.tool_calls` (arguments in pieces as they are
 * generated) add up to the same calls as the unstreamed answer of the same seed; assistant
 * calls and tool results in the history go into the prompt; bad tools, choices and arguments
 * are 400s naming the field.
 */
import { assert, assertEquals } from "./assert.ts";
import { test } from "./harness.ts";
import { checkJson } from "./_json_schema_check.ts";
import { type Json, postJson, sseEvents, startServer, testModel } from "./_server_util.ts";
import { HAVE_SHARED, NO_SHARED_REASON } from "./shared_data.ts";
import { readFileSync } from "node:fs";
import { renderConversation } from "../src/chat/render.ts";
import { LLAMACPP_TREE, llamacppPath, NO_LLAMACPP_REASON } from "./llamacpp_tree.ts";

const opts = { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON };
const WEATHER = {
  type: "object",
  properties: {
    city: { type: "string", maxLength: 6 },
    days: { type: "integer", minimum: 1, maximum: 7 },
  },
  required: ["city"],
  additionalProperties: false,
};
const ALARM = {
  type: "object",
  properties: { loud: { type: "boolean" } },
  required: ["loud"],
  additionalProperties: false,
};
const TOOLS = [
  {
    type: "function",
    function: { name: "get_weather", description: "Weather", parameters: WEATHER },
  },
  { type: "function", function: { name: "set_alarm", parameters: ALARM } },
];
const SCHEMAS: Record<string, Json> = { get_weather: WEATHER, set_alarm: ALARM };
const ASK = [{ role: "user", content: "Weather in Paris?" }];

function checkCalls(calls: Json[], why: string): void {
  assert(calls.length >= 1, why);
  for (const c of calls) {
    assertEquals(c.type, "function", why);
    assert(/^call_[A-Za-z0-9]{24}$/.test(c.id), `${why}: id ${c.id}`);
    const schema = SCHEMAS[c.function.name];
    assert(schema, `${why}: unknown function ${c.function.name}`);
    assertEquals(typeof c.function.arguments, "string", why);
    assertEquals(checkJson(JSON.parse(c.function.arguments), schema), [], why);
  }
}

test("server tools: required and named choices always give valid calls", async () => {
  const s = await startServer({ parallel: 1 });
  try {
    for (let seed = 1; seed <= 8; seed++) {
      const named = seed % 2 === 0;
      const r = await postJson(`${s.url}/v1/chat/completions`, {
        messages: ASK,
        tools: TOOLS,
        tool_choice: named ? { type: "function", function: { name: "set_alarm" } } : "required",
        // A random model seldom ends a list of calls: one call each, but one run may list more.
        parallel_tool_calls: seed === 7,
        max_tokens: seed === 7 ? 400 : 120,
        temperature: 1.2,
        seed,
      });
      assertEquals(r.status, 200, JSON.stringify(r.body));
      const choice = r.body.choices[0];
      const why = `seed ${seed}: ${JSON.stringify(choice.message)}`;
      if (seed === 7 && choice.finish_reason === "length") continue;
      assertEquals(choice.finish_reason, "tool_calls", why);
      assertEquals(choice.message.content, null, why);
      checkCalls(choice.message.tool_calls, why);
      if (named) assertEquals(choice.message.tool_calls[0].function.name, "set_alarm", why);
      if (seed !== 7) assertEquals(choice.message.tool_calls.length, 1, why);
    }
  } finally {
    await s.close();
  }
}, opts);

test("server tools: streamed tool_calls deltas add up to the unstreamed calls", async () => {
  const s = await startServer({ parallel: 1 });
  try {
    const req = {
      messages: ASK,
      tools: TOOLS,
      tool_choice: "required",
      parallel_tool_calls: false,
      max_tokens: 120,
      seed: 5,
    };
    const whole = await postJson(`${s.url}/v1/chat/completions`, { ...req, temperature: 1 });
    const res = await fetch(`${s.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ...req, temperature: 1, stream: true }),
    });
    const calls: Json[] = [];
    const finishes: string[] = [];
    let pieces = 0;
    for await (const ev of sseEvents(res)) {
      if (ev === "[DONE]") break;
      const ch = ev.choices[0];
      if (!ch) continue;
      if (ch.finish_reason) finishes.push(ch.finish_reason);
      for (const d of ch.delta.tool_calls ?? []) {
        if (d.id) {
          assertEquals([d.type, d.function.arguments], ["function", ""]);
          calls[d.index] = {
            id: d.id,
            type: d.type,
            function: { name: d.function.name, arguments: "" },
          };
        } else {
          calls[d.index].function.arguments += d.function.arguments;
          pieces++;
        }
      }
    }
    assertEquals(finishes, ["tool_calls"]);
    // The arguments arrive in pieces as they are generated (the model's own JSON spacing);
    // they parse to the unstreamed answer's arguments.
    assert(pieces > 1, `${pieces} argument pieces`);
    const want = whole.body.choices[0].message.tool_calls;
    const parsed = (l: Json[]) =>
      l.map((c) => ({ name: c.function.name, args: JSON.parse(c.function.arguments) }));
    assertEquals(parsed(calls), parsed(want));
    checkCalls(calls, JSON.stringify(calls));
  } finally {
    await s.close();
  }
}, opts);

test("server tools: calls and results in the history go into the prompt", async () => {
  const s = await startServer({ parallel: 1 });
  try {
    const call = {
      id: "call_1",
      type: "function",
      function: { name: "get_weather", arguments: '{"city":"Paris"}' },
    };
    const messages = [
      ...ASK,
      { role: "assistant", content: null, tool_calls: [call] },
      { role: "tool", tool_call_id: "call_1", content: '{"temp":21}' },
    ];
    const r = await postJson(`${s.url}/v1/chat/completions`, {
      messages,
      tools: TOOLS,
      tool_choice: "none",
      max_tokens: 4,
      temperature: 0,
    });
    assertEquals(r.status, 200, JSON.stringify(r.body));
    assertEquals(r.body.choices[0].message.tool_calls, undefined);
    const model = await testModel();
    const text = renderConversation([
      ASK[0],
      {
        role: "assistant",
        content: "",
        toolCalls: [{ id: "call_1", name: "get_weather", arguments: { city: "Paris" } }],
      },
      { role: "tool", content: '{"temp":21}', toolCallId: "call_1" },
    ], {
      tools: TOOLS.map((t) => t.function),
      addGenerationPrompt: true,
      bosToken: model.tokenizer.tokenText(model.tokenizer.bos!),
      eosToken: model.tokenizer.tokenText(model.tokenizer.eos!),
    });
    assert(text.includes('{"tool_calls":[{"name":"get_weather","arguments":{"city":"Paris"}}]}'));
    const tokens = model.tokenizer.encode(text, { addSpecial: true, parseSpecial: true });
    assertEquals(r.body.usage.prompt_tokens, tokens.length);
  } finally {
    await s.close();
  }
}, opts);

test("server tools: bad tools, choices and arguments are 400s naming the field", async () => {
  const s = await startServer({ parallel: 1 });
  try {
    const cases: [Json, string][] = [
      [{
        tools: [{
          type: "function",
          function: { name: "f", parameters: { type: "string", format: "email" } },
        }],
      }, "tools[0].function.parameters"],
      [
        { tools: TOOLS, tool_choice: { type: "function", function: { name: "nope" } } },
        "tool_choice",
      ],
      [{ tool_choice: "required" }, "tool_choice"],
      [{ tools: [TOOLS[0], TOOLS[0]] }, "tools[1].function.name"],
      [{ tools: TOOLS, response_format: { type: "json_schema" } }, "response_format.json_schema"],
      [{ tools: [{ type: "function", function: { name: "bad name" } }] }, "tools[0].function.name"],
      [{
        messages: [...ASK, {
          role: "assistant",
          tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: "{oops" } }],
        }],
      }, "messages[1].tool_calls[0].function.arguments"],
      [
        { messages: [{ role: "user", content: "x", tool_call_id: "c" }] },
        "messages[0].tool_call_id",
      ],
    ];
    for (const [extra, param] of cases) {
      const r = await postJson(`${s.url}/v1/chat/completions`, { messages: ASK, ...extra });
      assertEquals([r.status, r.body.error?.param], [400, param], JSON.stringify(r.body));
    }
  } finally {
    await s.close();
  }
}, opts);

test("server tools: auto gives either calls or a plain answer, never raw call JSON", async () => {
  const s = await startServer({ parallel: 1 });
  try {
    for (let seed = 1; seed <= 4; seed++) {
      const r = await postJson(`${s.url}/v1/chat/completions`, {
        messages: ASK,
        tools: TOOLS,
        max_tokens: 120,
        temperature: 1,
        seed,
      });
      assertEquals(r.status, 200, JSON.stringify(r.body));
      const c = r.body.choices[0];
      if (c.finish_reason === "tool_calls") checkCalls(c.message.tool_calls, `seed ${seed}`);
      else if (c.finish_reason === "stop") {
        assertEquals(typeof c.message.content, "string");
        assert(!c.message.content.startsWith('{"response"'), c.message.content);
      }
    }
  } finally {
    await s.close();
  }
}, opts);

test(
  "server tools: /apply-template renders tools, calls and results like the chat route",
  async () => {
    const s = await startServer({ parallel: 1 });
    try {
      const call = {
        id: "c1",
        type: "function",
        function: { name: "get_weather", arguments: '{"city":"Oslo"}' },
      };
      const messages = [...ASK, { role: "assistant", content: null, tool_calls: [call] }, {
        role: "tool",
        tool_call_id: "c1",
        content: "sunny",
      }];
      const r = await postJson(`${s.url}/apply-template`, { messages, tools: TOOLS });
      assertEquals(r.status, 200, JSON.stringify(r.body));
      const p: string = r.body.prompt;
      assert(p.includes("You can call these tools:") && p.includes('"name": "set_alarm"'), p);
      assert(p.includes('{"tool_calls":[{"name":"get_weather","arguments":{"city":"Oslo"}}]}'), p);
      assert(p.includes("<|im_start|>tool\nsunny<|im_end|>"), p);
    } finally {
      await s.close();
    }
  },
  opts,
);

test(
  "server tools: a Hermes/Qwen template (native tools, <tool_call> calls, lazy auto)",
  async () => {
    const qwen = readFileSync(
      llamacppPath("models", "templates", "Qwen-Qwen2.5-7B-Instruct.jinja"),
      "utf8",
    );
    const s = await startServer({ parallel: 1, chatTemplate: qwen });
    try {
      const base = {
        messages: ASK,
        tools: TOOLS,
        parallel_tool_calls: false,
        max_tokens: 120,
        temperature: 1,
      };
      for (let seed = 1; seed <= 3; seed++) {
        const r = await postJson(`${s.url}/v1/chat/completions`, {
          ...base,
          tool_choice: "required",
          seed,
        });
        assertEquals(r.status, 200, JSON.stringify(r.body));
        const c = r.body.choices[0];
        assertEquals(c.finish_reason, "tool_calls", JSON.stringify(c));
        checkCalls(c.message.tool_calls, `seed ${seed}`);
        // The prompt carries the tools in Qwen's <tools> block.
        assert(r.body.usage.prompt_tokens > 100, String(r.body.usage.prompt_tokens));
      }
      // auto: the grammar waits for <tool_call>; a plain answer streams as content.
      const res = await fetch(`${s.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ ...base, max_tokens: 24, seed: 1, stream: true }),
      });
      let content = "", finish = "";
      for await (const ev of sseEvents(res)) {
        if (ev === "[DONE]") break;
        const ch = ev.choices[0];
        if (!ch) continue;
        content += ch.delta.content ?? "";
        if (ch.finish_reason) finish = ch.finish_reason;
      }
      assert(["stop", "length", "tool_calls"].includes(finish), finish);
      if (finish !== "tool_calls") assert(!content.includes("<tool_call>"), content);
    } finally {
      await s.close();
    }
  },
  { ...opts, ...(LLAMACPP_TREE ? {} : { ignore: true, reason: NO_LLAMACPP_REASON }) },
);
