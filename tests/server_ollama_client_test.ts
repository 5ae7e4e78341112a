/**
 * ollama's API through the official `ollama` npm client: generate and chat (streamed and not),
 * embed, list, show, ps, version; greedy text equals generate()'s; `format` (json and a
 * schema) and `tools` on chat.
 */
import { Ollama } from "ollama";
import { test } from "./harness.ts";
import { assert, assertStrictEquals } from "./assert.ts";
import { HAVE_SHARED, NO_SHARED_REASON } from "./shared_data.ts";
import { greedyText, startServer } from "./_server_util.ts";

const skip = { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON };

/** Every item of an async iterable (Array.fromAsync, which Node 20 lacks). */
async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

test("ollama client: generate, chat, embed, list, show, ps, version", async () => {
  const s = await startServer({ parallel: 1 });
  try {
    const client = new Ollama({ host: s.url });
    const want = await greedyText("Once upon a time", 8);
    const opts = { num_predict: 8, temperature: 0 };
    const g = await client.generate({
      model: "llama3",
      prompt: "Once upon a time",
      raw: true,
      options: opts,
    });
    assertStrictEquals(g.response, want.text);
    assertStrictEquals(g.done, true);
    assertStrictEquals(g.eval_count, 8);
    let streamed = "";
    let last: { done: boolean; done_reason?: string } | undefined;
    const it = await client.generate({
      model: "llama3",
      prompt: "Once upon a time",
      raw: true,
      options: opts,
      stream: true,
    });
    for await (const part of it) {
      streamed += part.response;
      last = part;
    }
    assertStrictEquals(streamed, want.text);
    assertStrictEquals(last?.done_reason, "length");
    const chat = await client.chat({
      model: "x",
      messages: [{ role: "user", content: "Hi" }],
      options: { num_predict: 4, temperature: 0 },
    });
    assertStrictEquals(chat.message.role, "assistant");
    assertStrictEquals(chat.eval_count, 4);
    const e = await client.embed({ model: "x", input: ["a dog", "a cat"] });
    assertStrictEquals(e.embeddings.length, 2);
    const list = await client.list();
    assertStrictEquals(list.models[0].name, "stories260K");
    const show = await client.show({ model: "stories260K" });
    assertStrictEquals(show.details.format, "gguf");
    const ps = await client.ps();
    assertStrictEquals(ps.models.length, 1);
    const v = await client.version();
    assert(/^\d+\.\d+\.\d+$/.test(v.version));
    let refused = "";
    try {
      await client.chat({
        model: "x",
        messages: [{ role: "user", content: "Hi" }],
        format: { type: "string", format: "email" },
      });
    } catch (err) {
      refused = (err as Error).message;
    }
    assert(refused.includes("format"), `unenforceable format named: ${refused}`);
  } finally {
    await s.close();
  }
}, skip);

test("ollama client: format constrains, tools come back as tool_calls", async () => {
  const s = await startServer({ parallel: 1 });
  try {
    const client = new Ollama({ host: s.url });
    const schema = {
      type: "object",
      properties: { ok: { type: "boolean" } },
      required: ["ok"],
      additionalProperties: false,
    };
    for (const format of ["json", schema]) {
      const r = await client.chat({
        model: "x",
        messages: [{ role: "user", content: "Answer in JSON." }],
        format,
        options: { num_predict: 64, temperature: 1, seed: 3 },
      });
      assertStrictEquals(r.done_reason, "stop", r.message.content);
      const v = JSON.parse(r.message.content);
      assert(typeof v === "object" && v !== null, r.message.content);
      if (format !== "json") assertStrictEquals(typeof v.ok, "boolean");
    }
    const g = await client.generate({
      model: "x",
      prompt: "Once",
      format: schema,
      options: { num_predict: 64, temperature: 1, seed: 4 },
    });
    assertStrictEquals(typeof JSON.parse(g.response ?? "").ok, "boolean");
    const tools = [{
      type: "function",
      function: {
        name: "set_alarm",
        description: "Sets an alarm",
        parameters: schema,
      },
    }];
    let calls = 0;
    for (let seed = 1; seed <= 4; seed++) {
      for (const stream of [false, true]) {
        const messages = [{ role: "user", content: "Wake me." }];
        const options = { num_predict: 96, temperature: 1, seed };
        const parts = stream
          ? await collect(await client.chat({ model: "x", messages, tools, options, stream: true }))
          : [await client.chat({ model: "x", messages, tools, options })];
        for (const p of parts) {
          for (const c of p.message.tool_calls ?? []) {
            assertStrictEquals(c.function.name, "set_alarm");
            assertStrictEquals(typeof c.function.arguments.ok, "boolean");
            calls++;
          }
        }
      }
    }
    assert(calls > 0, "some seeded answer calls the tool");
    // tools with format: a call, or an answer in the format.
    for (let seed = 1; seed <= 4; seed++) {
      const messages = [{ role: "user", content: "Wake me." }];
      const options = { num_predict: 96, temperature: 1, seed };
      const r = await client.chat({ model: "x", messages, tools, format: schema, options });
      const why = JSON.stringify(r.message);
      if (r.message.tool_calls?.length) {
        assertStrictEquals(typeof r.message.tool_calls[0].function.arguments.ok, "boolean", why);
      } else if (r.done_reason === "stop") {
        assertStrictEquals(typeof JSON.parse(r.message.content).ok, "boolean", why);
      }
    }
    const round = await client.chat({
      model: "x",
      messages: [
        { role: "user", content: "Wake me." },
        {
          role: "assistant",
          content: "",
          tool_calls: [{ function: { name: "set_alarm", arguments: { ok: true } } }],
        },
        { role: "tool", content: "done", tool_name: "set_alarm" },
      ],
      tools,
      options: { num_predict: 8, temperature: 0 },
    });
    assertStrictEquals(round.done, true);
  } finally {
    await s.close();
  }
}, skip);
