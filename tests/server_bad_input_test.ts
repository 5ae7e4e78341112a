/**
 * Malformed requests: each gets the documented status and an OpenAI-shaped error body
 * whose `param` names the field at fault, and the server keeps serving afterwards.
 */
import { test } from "./harness.ts";
import { assert, assertEquals, assertStrictEquals } from "./assert.ts";
import { HAVE_SHARED, NO_SHARED_REASON } from "./shared_data.ts";
import { startServer } from "./_server_util.ts";

interface Case {
  name: string;
  path?: string;
  method?: string;
  /** A JSON value, or a string sent verbatim. */
  body?: unknown;
  status: number;
  code: string;
  param?: string | null;
}

const C = "/v1/completions";
const CHAT = "/v1/chat/completions";
const msgs = [{ role: "user", content: "Hi" }];
const long = "Once upon a time there was a cat. ".repeat(40);

const CASES: Case[] = [
  {
    name: "invalid JSON",
    path: C,
    body: "{prompt: 'x'",
    status: 400,
    code: "invalid_json",
    param: null,
  },
  { name: "empty body", path: C, body: "", status: 400, code: "invalid_json", param: null },
  {
    name: "body is an array",
    path: C,
    body: "[1,2]",
    status: 400,
    code: "invalid_type",
    param: null,
  },
  {
    name: "body is a string",
    path: C,
    body: '"hello"',
    status: 400,
    code: "invalid_type",
    param: null,
  },
  {
    name: "missing prompt",
    path: C,
    body: { max_tokens: 3 },
    status: 400,
    code: "missing_field",
    param: "prompt",
  },
  {
    name: "prompt is a number",
    path: C,
    body: { prompt: 5 },
    status: 400,
    code: "invalid_value",
    param: "prompt",
  },
  {
    name: "prompt is empty",
    path: C,
    body: { prompt: "", max_tokens: 1, echo: false },
    status: 200,
    code: "",
  },
  {
    name: "prompt token out of vocab",
    path: C,
    body: { prompt: [1, 99999] },
    status: 400,
    code: "invalid_value",
    param: "prompt[1]",
  },
  {
    name: "max_tokens negative",
    path: C,
    body: { prompt: "a", max_tokens: -1 },
    status: 400,
    code: "invalid_value",
    param: "max_tokens",
  },
  {
    name: "max_tokens fractional",
    path: C,
    body: { prompt: "a", max_tokens: 2.5 },
    status: 400,
    code: "invalid_type",
    param: "max_tokens",
  },
  {
    name: "max_tokens a string",
    path: C,
    body: { prompt: "a", max_tokens: "10" },
    status: 400,
    code: "invalid_type",
    param: "max_tokens",
  },
  {
    name: "temperature 5",
    path: C,
    body: { prompt: "a", temperature: 5 },
    status: 400,
    code: "invalid_value",
    param: "temperature",
  },
  {
    name: "temperature negative",
    path: CHAT,
    body: { messages: msgs, temperature: -0.1 },
    status: 400,
    code: "invalid_value",
    param: "temperature",
  },
  {
    name: "top_p 2",
    path: C,
    body: { prompt: "a", top_p: 2 },
    status: 400,
    code: "invalid_value",
    param: "top_p",
  },
  {
    name: "top_k negative",
    path: C,
    body: { prompt: "a", top_k: -3 },
    status: 400,
    code: "invalid_value",
    param: "top_k",
  },
  {
    name: "min_p 1.5",
    path: CHAT,
    body: { messages: msgs, min_p: 1.5 },
    status: 400,
    code: "invalid_value",
    param: "min_p",
  },
  {
    name: "presence_penalty 3",
    path: C,
    body: { prompt: "a", presence_penalty: 3 },
    status: 400,
    code: "invalid_value",
    param: "presence_penalty",
  },
  {
    name: "frequency_penalty a string",
    path: C,
    body: { prompt: "a", frequency_penalty: "x" },
    status: 400,
    code: "invalid_type",
    param: "frequency_penalty",
  },
  {
    name: "seed fractional",
    path: C,
    body: { prompt: "a", seed: 1.5 },
    status: 400,
    code: "invalid_type",
    param: "seed",
  },
  {
    name: "stream not boolean",
    path: C,
    body: { prompt: "a", stream: "yes" },
    status: 400,
    code: "invalid_type",
    param: "stream",
  },
  {
    name: "stop a number",
    path: C,
    body: { prompt: "a", stop: 7 },
    status: 400,
    code: "invalid_value",
    param: "stop",
  },
  {
    name: "stop too many",
    path: C,
    body: { prompt: "a", stop: Array(17).fill("x") },
    status: 400,
    code: "invalid_value",
    param: "stop",
  },
  {
    name: "n = 17",
    path: C,
    body: { prompt: "a", n: 17 },
    status: 400,
    code: "invalid_value",
    param: "n",
  },
  {
    name: "response_format (not wired yet)",
    path: CHAT,
    body: { messages: msgs, response_format: { type: "json_object" } },
    status: 400,
    code: "unsupported",
    param: "response_format",
  },
  {
    name: "tools (not supported yet)",
    path: CHAT,
    body: { messages: msgs, tools: [] },
    status: 400,
    code: "unsupported",
    param: "tools",
  },
  {
    name: "unknown field",
    path: C,
    body: { prompt: "a", frobnicate: true },
    status: 400,
    code: "unsupported",
    param: "frobnicate",
  },
  {
    name: "unknown message field",
    path: CHAT,
    body: { messages: [{ role: "user", content: "x", tool_calls: [] }] },
    status: 400,
    code: "unsupported",
    param: "messages[0].tool_calls",
  },
  {
    name: "logprobs 50",
    path: C,
    body: { prompt: "a", logprobs: 50 },
    status: 400,
    code: "invalid_value",
    param: "logprobs",
  },
  {
    name: "logit_bias non-numeric key",
    path: C,
    body: { prompt: "a", logit_bias: { abc: 1 } },
    status: 400,
    code: "invalid_value",
    param: "logit_bias.abc",
  },
  {
    name: "logit_bias value 500",
    path: C,
    body: { prompt: "a", logit_bias: { "5": 500 } },
    status: 400,
    code: "invalid_value",
    param: "logit_bias.5",
  },
  {
    name: "logit_bias token out of vocab",
    path: C,
    body: { prompt: "a", logit_bias: { "70000": 1 } },
    status: 400,
    code: "invalid_value",
    param: "logit_bias.70000",
  },
  {
    name: "unknown model",
    path: C,
    body: { prompt: "a", model: "gpt-9" },
    status: 404,
    code: "model_not_found",
    param: "model",
  },
  {
    name: "unknown model (chat)",
    path: CHAT,
    body: { messages: msgs, model: "nope" },
    status: 404,
    code: "model_not_found",
    param: "model",
  },
  {
    name: "missing messages",
    path: CHAT,
    body: { max_tokens: 2 },
    status: 400,
    code: "missing_field",
    param: "messages",
  },
  {
    name: "empty messages",
    path: CHAT,
    body: { messages: [] },
    status: 400,
    code: "invalid_value",
    param: "messages",
  },
  {
    name: "messages not an array",
    path: CHAT,
    body: { messages: "hi" },
    status: 400,
    code: "invalid_type",
    param: "messages",
  },
  {
    name: "bad role",
    path: CHAT,
    body: { messages: [{ role: "wizard", content: "x" }] },
    status: 400,
    code: "invalid_value",
    param: "messages[0].role",
  },
  {
    name: "missing role",
    path: CHAT,
    body: { messages: [msgs[0], { content: "x" }] },
    status: 400,
    code: "missing_field",
    param: "messages[1].role",
  },
  {
    name: "content a number",
    path: CHAT,
    body: { messages: [{ role: "user", content: 42 }] },
    status: 400,
    code: "invalid_value",
    param: "messages[0].content",
  },
  {
    name: "image content part",
    path: CHAT,
    body: {
      messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "x" } }] }],
    },
    status: 400,
    code: "invalid_value",
    param: "messages[0].content",
  },
  {
    name: "top_logprobs without logprobs",
    path: CHAT,
    body: { messages: msgs, top_logprobs: 2 },
    status: 400,
    code: "invalid_value",
    param: "top_logprobs",
  },
  {
    name: "max_completion_tokens negative",
    path: CHAT,
    body: { messages: msgs, max_completion_tokens: -5 },
    status: 400,
    code: "invalid_value",
    param: "max_completion_tokens",
  },
  {
    name: "prompt too long",
    path: C,
    body: { prompt: long },
    status: 400,
    code: "context_length_exceeded",
    param: "prompt",
  },
  {
    name: "chat too long",
    path: CHAT,
    body: { messages: [{ role: "user", content: long }] },
    status: 400,
    code: "context_length_exceeded",
    param: "messages",
  },
  {
    name: "oversized body",
    path: C,
    body: JSON.stringify({ prompt: "x".repeat(5000) }),
    status: 413,
    code: "request_too_large",
    param: null,
  },
  {
    name: "embeddings missing input",
    path: "/v1/embeddings",
    body: {},
    status: 400,
    code: "missing_field",
    param: "input",
  },
  {
    name: "embeddings empty list",
    path: "/v1/embeddings",
    body: { input: [] },
    status: 400,
    code: "invalid_value",
    param: "input",
  },
  {
    name: "embeddings bad format",
    path: "/v1/embeddings",
    body: { input: "a", encoding_format: "hex" },
    status: 400,
    code: "invalid_value",
    param: "encoding_format",
  },
  {
    name: "tokenize missing content",
    path: "/tokenize",
    body: { text: "a" },
    status: 400,
    code: "missing_field",
    param: "content",
  },
  {
    name: "detokenize negative id",
    path: "/detokenize",
    body: { tokens: [1, -2] },
    status: 400,
    code: "invalid_value",
    param: "tokens[1]",
  },
  {
    name: "detokenize id past vocab",
    path: "/detokenize",
    body: { tokens: [600] },
    status: 400,
    code: "invalid_value",
    param: "tokens[0]",
  },
  {
    name: "unknown route",
    path: "/v1/engines",
    method: "GET",
    status: 404,
    code: "not_found",
    param: null,
  },
  {
    name: "unknown model id route",
    path: "/v1/models/gpt-4",
    method: "GET",
    status: 404,
    code: "model_not_found",
    param: "model",
  },
  {
    name: "wrong method",
    path: C,
    method: "GET",
    status: 405,
    code: "method_not_allowed",
    param: null,
  },
  {
    name: "wrong method on models",
    path: "/v1/models",
    method: "DELETE",
    status: 405,
    code: "method_not_allowed",
    param: null,
  },
];

test(
  `server: ${CASES.length} malformed requests get documented errors; the server keeps serving`,
  async () => {
    const s = await startServer({
      parallel: 1,
      contextLength: 256,
      bodyLimit: 4096,
      strictModel: true,
    });
    try {
      const failures: string[] = [];
      for (const c of CASES) {
        const method = c.method ?? "POST";
        const init: RequestInit = { method, headers: { "content-type": "application/json" } };
        if (c.body !== undefined) {
          init.body = typeof c.body === "string" ? c.body : JSON.stringify(c.body);
        }
        const res = await fetch(`${s.url}${c.path}`, init);
        const text = await res.text();
        if (res.status !== c.status) {
          failures.push(`${c.name}: status ${res.status}, expected ${c.status}: ${text}`);
          continue;
        }
        if (c.status === 200) continue;
        assertStrictEquals(
          res.headers.get("content-type")?.split(";")[0],
          "application/json",
          c.name,
        );
        const body = JSON.parse(text);
        const e = body.error;
        const keys = Object.keys(e ?? {}).sort();
        if (JSON.stringify(keys) !== '["code","message","param","type"]') {
          failures.push(`${c.name}: error body shape ${text}`);
          continue;
        }
        if (e.code !== c.code) {
          failures.push(
            `${c.name}: code ${e.code}, expected ${c.code}: ${text}`,
          );
        }
        if (c.param !== undefined && e.param !== c.param) {
          failures.push(`${c.name}: param ${e.param}, expected ${c.param}: ${text}`);
        }
        if (typeof e.message !== "string" || e.message.length < 5) {
          failures.push(
            `${c.name}: message`,
          );
        }
        if (c.status === 405) assert(res.headers.get("allow"), `${c.name}: Allow header`);
      }
      assertEquals(failures, []);
      assert(CASES.filter((c) => c.status >= 400).length >= 30);
      // Still serving, and every refusal was counted.
      const ok = await fetch(`${s.url}/v1/completions`, {
        method: "POST",
        body: JSON.stringify({ prompt: "Once upon a time", max_tokens: 5, temperature: 0 }),
      });
      assertStrictEquals(ok.status, 200);
      const body = await ok.json();
      assertStrictEquals(body.usage.completion_tokens, 5);
      assertStrictEquals(s.engine.metrics.requestCount("/v1/completions", 200), 2);
      assert(s.engine.metrics.requestCount("/v1/completions", 400) >= 20);
      assertStrictEquals(s.engine.metrics.requestCount("/v1/completions", 413), 1);
    } finally {
      await s.close();
    }
  },
  { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON },
);

test("server: a chunked body past the limit is refused without reading it all", async () => {
  const s = await startServer({ parallel: 1, bodyLimit: 1024 });
  try {
    let sent = 0;
    const TOTAL = 64 << 20;
    const chunk = new TextEncoder().encode(" ".repeat(64 << 10));
    const body = new ReadableStream<Uint8Array>({
      pull(ctrl) {
        if (sent >= TOTAL) return ctrl.close();
        sent += chunk.byteLength;
        ctrl.enqueue(chunk);
      },
    });
    const res = await fetch(`${s.url}/v1/completions`, {
      method: "POST",
      body,
      duplex: "half",
    } as RequestInit);
    assertStrictEquals(res.status, 413);
    assertStrictEquals((await res.json()).error.code, "request_too_large");
    assert(sent < TOTAL / 2, `the server stopped reading early (client sent ${sent} bytes)`);
  } finally {
    await s.close();
  }
}, { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON });
