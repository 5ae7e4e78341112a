/**
 * `response_format` on the chat and completion routes: a JSON Schema answer always parses and
 * matches the schema (seeded sampling on stories260K, whose vocabulary falls back to bytes),
 * json_object gives an object, and a schema the grammar cannot enforce is a 400 naming
 * response_format.
 */
import { assert, assertEquals } from "./assert.ts";
import { test } from "./harness.ts";
import { postJson, startServer } from "./_server_util.ts";
import { HAVE_SHARED, NO_SHARED_REASON } from "./shared_data.ts";

const opts = { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON };
const schema = {
  type: "object",
  properties: { ok: { type: "boolean" }, n: { type: "integer", minimum: 0, maximum: 9 } },
  required: ["ok", "n"],
  additionalProperties: false,
};

test("server: response_format json_schema answers parse and match the schema", async () => {
  const s = await startServer({ parallel: 1 });
  try {
    for (let seed = 1; seed <= 6; seed++) {
      const chat = seed % 2 === 0;
      const r = await postJson(`${s.url}/v1/${chat ? "chat/completions" : "completions"}`, {
        ...(chat ? { messages: [{ role: "user", content: "Tell me." }] } : { prompt: "Once" }),
        max_tokens: 64,
        temperature: 1,
        seed,
        response_format: { type: "json_schema", json_schema: { name: "answer", schema } },
      });
      assertEquals(r.status, 200, JSON.stringify(r.body));
      const c = r.body.choices[0];
      const text: string = chat ? c.message.content : c.text;
      assertEquals(c.finish_reason, "stop", text);
      const v = JSON.parse(text);
      assertEquals(Object.keys(v).sort(), ["n", "ok"], text);
      assert(typeof v.ok === "boolean" && Number.isInteger(v.n) && v.n >= 0 && v.n <= 9, text);
    }
  } finally {
    await s.close();
  }
}, opts);

test(
  "server: an unenforceable schema is a 400 on response_format; text is unconstrained",
  async () => {
    const s = await startServer({ parallel: 1 });
    try {
      const bad = await postJson(`${s.url}/v1/chat/completions`, {
        messages: [{ role: "user", content: "Hi" }],
        response_format: {
          type: "json_schema",
          json_schema: { name: "x", schema: { type: "string", format: "email" } },
        },
      });
      assertEquals([bad.status, bad.body.error.param], [400, "response_format"]);
      assert(/format/.test(bad.body.error.message), bad.body.error.message);
      const wrong = await postJson(`${s.url}/v1/chat/completions`, {
        messages: [{ role: "user", content: "Hi" }],
        response_format: { type: "yaml" },
      });
      assertEquals(wrong.status, 400);
      const text = await postJson(`${s.url}/v1/completions`, {
        prompt: "Once",
        max_tokens: 4,
        response_format: { type: "text" },
      });
      assertEquals(text.status, 200);
    } finally {
      await s.close();
    }
  },
  opts,
);

test("server: llama.cpp's grammar and json_schema fields on /completion and /v1/*", async () => {
  const s = await startServer({ parallel: 1 });
  try {
    const grammar = 'root ::= ("yes" | "no") "."';
    for (let seed = 1; seed <= 3; seed++) {
      const native = await postJson(`${s.url}/completion`, {
        prompt: "Once",
        grammar,
        n_predict: 16,
        temperature: 1,
        seed,
      });
      assertEquals(native.status, 200, JSON.stringify(native.body));
      assert(["yes.", "no."].includes(native.body.content), native.body.content);
      const chat = await postJson(`${s.url}/v1/chat/completions`, {
        messages: [{ role: "user", content: "Tell me." }],
        json_schema: schema,
        max_tokens: 64,
        temperature: 1,
        seed,
      });
      assertEquals(chat.status, 200, JSON.stringify(chat.body));
      const v = JSON.parse(chat.body.choices[0].message.content);
      assertEquals(Object.keys(v).sort(), ["n", "ok"]);
      const text = await postJson(`${s.url}/v1/completions`, {
        prompt: "Once",
        grammar,
        max_tokens: 16,
        temperature: 1,
        seed,
      });
      assert(["yes.", "no."].includes(text.body.choices[0].text), text.body.choices[0].text);
    }
    const schemaOnly = await postJson(`${s.url}/completion`, {
      prompt: "Once",
      json_schema: { type: "array", items: { type: "boolean" }, minItems: 1, maxItems: 2 },
      n_predict: 64,
      temperature: 1,
      seed: 9,
    });
    const arr = JSON.parse(schemaOnly.body.content);
    assert(Array.isArray(arr) && arr.length >= 1 && arr.length <= 2, schemaOnly.body.content);
    const cases: [string, Record<string, unknown>, string][] = [
      ["/v1/completions", { prompt: "a", grammar: "root ::= (" }, "grammar"],
      [
        "/completion",
        { prompt: "a", json_schema: { type: "string", format: "email" } },
        "json_schema",
      ],
      ["/v1/completions", { prompt: "a", grammar, json_schema: {} }, "grammar"],
      [
        "/v1/chat/completions",
        {
          messages: [{ role: "user", content: "x" }],
          response_format: { type: "json_object" },
          json_schema: {},
        },
        "json_schema",
      ],
    ];
    for (const [path, body, param] of cases) {
      const r = await postJson(`${s.url}${path}`, body);
      assertEquals([r.status, r.body.error.param], [400, param], JSON.stringify(r.body));
    }
  } finally {
    await s.close();
  }
}, opts);

test("server: llama.cpp's response_format spellings and chat_template_kwargs", async () => {
  const template = "{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}" +
    "{% if enable_thinking is defined and not enable_thinking %}[no think]{% endif %}assistant:";
  const s = await startServer({ parallel: 1, chatTemplate: template });
  try {
    const messages = [{ role: "user", content: "Tell me." }];
    for (const format of [{ type: "json_object", schema }, { type: "json_schema", schema }]) {
      const r = await postJson(`${s.url}/v1/chat/completions`, {
        messages,
        response_format: format,
        max_tokens: 64,
        temperature: 1,
        seed: 2,
      });
      assertEquals(r.status, 200, JSON.stringify(r.body));
      const v = JSON.parse(r.body.choices[0].message.content);
      assertEquals(Object.keys(v).sort(), ["n", "ok"]);
    }
    const both = await postJson(`${s.url}/v1/chat/completions`, {
      messages,
      response_format: { type: "json_schema", schema, json_schema: { name: "x", schema } },
    });
    assertEquals([both.status, both.body.error.param], [400, "response_format.json_schema"]);
    const t = await postJson(`${s.url}/apply-template`, {
      messages,
      chat_template_kwargs: { enable_thinking: false },
    });
    assertEquals(t.body.prompt, "user: Tell me.\n[no think]assistant:");
    const plain = await postJson(`${s.url}/apply-template`, { messages });
    assertEquals(plain.body.prompt, "user: Tell me.\nassistant:");
    const reserved = await postJson(`${s.url}/v1/chat/completions`, {
      messages,
      chat_template_kwargs: { messages: [] },
    });
    assertEquals([reserved.status, reserved.body.error.param], [400, "chat_template_kwargs"]);
  } finally {
    await s.close();
  }
}, opts);
