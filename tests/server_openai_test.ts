/**
 * The server through the official `openai` npm client: completions and chat, streamed and
 * not, equal to what generate() produces; stop strings, logprobs, seeds, the context cap,
 * embeddings, tokenize/detokenize, metrics and the OpenAPI document.
 */
import OpenAI from "openai";
import { test } from "./harness.ts";
import { assert, assertClose, assertEquals, assertMatch, assertStrictEquals } from "./assert.ts";
import { HAVE_SHARED, NO_SHARED_REASON } from "./shared_data.ts";
import {
  greedyText,
  metrics,
  postJson,
  startServer,
  testModel,
  type TestServer,
} from "./_server_util.ts";
import { renderChat } from "../src/tokenizers/chat_template.ts";
import { Session } from "../src/core/session.ts";
import { meta } from "../src/gguf/gguf_file.ts";

const skip = { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON };

async function withServer(fn: (s: TestServer, client: OpenAI) => Promise<void>, opts = {}) {
  const s = await startServer({ parallel: 2, ...opts });
  const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: "unused", maxRetries: 0 });
  try {
    await fn(s, client);
  } finally {
    await s.close();
  }
}

/** The chat prompt built independently of the route: template, BOS, parsed specials. */
async function chatPrompt(messages: { role: string; content: string }[]): Promise<number[]> {
  const model = await testModel();
  const tok = model.tokenizer;
  const t = meta(model.file, "tokenizer.chat_template");
  const text = renderChat(messages, {
    template: typeof t === "string" ? t : undefined,
    bosToken: tok.tokenText(tok.bos!),
    eosToken: tok.tokenText(tok.eos!),
    addGenerationPrompt: true,
  });
  const bos = text.startsWith(tok.tokenText(tok.bos!));
  return tok.encode(text, { addSpecial: !bos, parseSpecial: true });
}

test("openai client: completions, greedy text equals generate()", async () => {
  await withServer(async (s, client) => {
    const prompt = "Once upon a time";
    const want = await greedyText(prompt, 40);
    const res = await client.completions.create({
      model: s.engine.modelId,
      prompt,
      max_tokens: 40,
      temperature: 0,
    });
    assertStrictEquals(res.object, "text_completion");
    assertStrictEquals(res.choices.length, 1);
    assertStrictEquals(res.choices[0].text, want.text);
    assert(want.text.length > 20, "reference text is substantial");
    assertStrictEquals(res.choices[0].finish_reason, want.finish === "length" ? "length" : "stop");
    assertEquals(res.usage, {
      prompt_tokens: want.promptTokens,
      completion_tokens: want.completionTokens,
      total_tokens: want.promptTokens + want.completionTokens,
      prompt_tokens_details: { cached_tokens: 0 },
    });
  });
}, skip);

test("openai client: streamed completion concatenates to the same text", async () => {
  await withServer(async (s, client) => {
    const prompt = "The little dog";
    const want = await greedyText(prompt, 30);
    const stream = await client.completions.create({
      model: s.engine.modelId,
      prompt,
      max_tokens: 30,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    let chunks = 0;
    for await (const ch of stream) {
      chunks++;
      if (ch.usage) usage = ch.usage;
      for (const c of ch.choices) {
        text += c.text;
        if (c.finish_reason) finish = c.finish_reason;
      }
    }
    assert(chunks > 5, `expected many chunks, got ${chunks}`);
    assertStrictEquals(text, want.text);
    assertStrictEquals(finish, "length");
    assertStrictEquals(usage?.completion_tokens, want.completionTokens);
    assertStrictEquals(usage?.prompt_tokens, want.promptTokens);
  });
}, skip);

test("openai client: chat completion equals generate() on the templated prompt", async () => {
  await withServer(async (s, client) => {
    const messages = [
      { role: "system" as const, content: "You tell short stories." },
      { role: "user" as const, content: "Tell me about a cat." },
    ];
    const tokens = await chatPrompt(messages);
    const want = await greedyText(tokens, 24);
    const res = await client.chat.completions.create({
      model: s.engine.modelId,
      messages,
      max_tokens: 24,
      temperature: 0,
    });
    assertStrictEquals(res.object, "chat.completion");
    assertStrictEquals(res.choices[0].message.role, "assistant");
    assertStrictEquals(res.choices[0].message.content, want.text);
    assertStrictEquals(res.usage?.prompt_tokens, tokens.length);
    assertStrictEquals(res.usage?.completion_tokens, want.completionTokens);

    const stream = await client.chat.completions.create({
      model: s.engine.modelId,
      messages,
      max_completion_tokens: 24,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let role: string | undefined;
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const ch of stream) {
      if (ch.usage) usage = ch.usage;
      for (const c of ch.choices) {
        role ??= c.delta.role;
        text += c.delta.content ?? "";
        if (c.finish_reason) finish = c.finish_reason;
      }
    }
    assertStrictEquals(role, "assistant");
    assertStrictEquals(text, want.text);
    assertStrictEquals(finish, want.finish === "length" ? "length" : "stop");
    assertStrictEquals(usage?.total_tokens, tokens.length + want.completionTokens);
  });
}, skip);

test("openai client: stop sequences end the text before the match", async () => {
  await withServer(async (s, client) => {
    const prompt = "Once upon a time";
    const full = (await greedyText(prompt, 40)).text;
    const cut = full.indexOf(" named");
    assert(cut > 0, `reference text has the stop string: ${full}`);
    for (const stop of [" named", ["zzz", " named"]]) {
      const res = await client.completions.create({
        model: s.engine.modelId,
        prompt,
        max_tokens: 40,
        temperature: 0,
        stop,
      });
      assertStrictEquals(res.choices[0].text, full.slice(0, cut));
      assertStrictEquals(res.choices[0].finish_reason, "stop");
    }
  });
}, skip);

test("openai client: logprobs in the legacy and the chat shape", async () => {
  await withServer(async (s, client) => {
    const res = await client.completions.create({
      model: s.engine.modelId,
      prompt: "Once upon a time",
      max_tokens: 8,
      temperature: 0,
      logprobs: 3,
    });
    const lp = res.choices[0].logprobs!;
    assertStrictEquals(lp.tokens!.length, res.usage!.completion_tokens);
    assertStrictEquals(lp.tokens!.join(""), res.choices[0].text);
    lp.token_logprobs!.forEach((l, i) => {
      assert(l <= 0, "log-probability <= 0");
      const top = lp.top_logprobs![i];
      assert(Object.keys(top).length >= 1 && Object.keys(top).length <= 3);
      // Greedy: the chosen token is the most likely one.
      assertClose(Math.max(...Object.values(top)), l, 1e-9, "chosen = best");
    });
    assertStrictEquals(lp.text_offset![0], 0);

    const chat = await client.chat.completions.create({
      model: s.engine.modelId,
      messages: [{ role: "user", content: "Hello" }],
      max_tokens: 6,
      temperature: 0,
      logprobs: true,
      top_logprobs: 2,
    });
    const content = chat.choices[0].logprobs!.content!;
    assertStrictEquals(content.length, chat.usage!.completion_tokens);
    for (const t of content) {
      assertStrictEquals(t.top_logprobs.length, 2);
      assertClose(t.top_logprobs[0].logprob, t.logprob, 1e-9, "chosen = best");
      assertEquals(t.bytes, [...new TextEncoder().encode(t.token)]);
    }
  });
}, skip);

test(
  "openai client: seeded sampling repeats; max_tokens is capped by the free context",
  async () => {
    await withServer(async (s, client) => {
      const ask = (seed: number) =>
        client.completions.create({
          model: s.engine.modelId,
          prompt: "One day",
          max_tokens: 20,
          temperature: 1,
          top_k: 0,
          seed,
        } as OpenAI.CompletionCreateParamsNonStreaming);
      const a = await ask(7);
      const b = await ask(7);
      assertStrictEquals(a.choices[0].text, b.choices[0].text);

      const res = await client.completions.create({
        model: s.engine.modelId,
        prompt: "One day",
        max_tokens: 1000,
        temperature: 0,
        ignore_eos: true,
      } as OpenAI.CompletionCreateParamsNonStreaming);
      assertStrictEquals(res.usage!.prompt_tokens + res.usage!.completion_tokens, 48);
      assertStrictEquals(res.choices[0].finish_reason, "length");
    }, { contextLength: 48 });
  },
  skip,
);

test("openai client: models and embeddings", async () => {
  await withServer(async (s, client) => {
    const models = await client.models.list();
    assertEquals(models.data.map((m) => m.id), ["stories260K"]);
    assertStrictEquals(s.engine.modelId, "stories260K");

    const inputs = ["Lily likes cats.", "The sun is hot."];
    const res = await client.embeddings.create({ model: "stories260K", input: inputs });
    const floats = await client.embeddings.create({
      model: "stories260K",
      input: inputs,
      encoding_format: "float",
    });
    const model = await testModel();
    const dim = model.config.embeddingLength;
    assertStrictEquals(res.data.length, 2);
    for (let i = 0; i < 2; i++) {
      const v = res.data[i].embedding;
      assertStrictEquals(v.length, dim);
      assertClose(Math.hypot(...v), 1, 1e-5, "L2 norm");
      // Independent reference: hidden states of a fresh session, mean-pooled, normalized.
      const tokens = model.tokenizer.encode(inputs[i], { addSpecial: true });
      const session = new Session(model);
      const h = await session.eval(tokens, "hidden");
      session.dispose();
      const mean = Array.from({ length: dim }, (_, j) => {
        let sum = 0;
        for (let t = 0; t < tokens.length; t++) sum += h[t * dim + j];
        return sum / tokens.length;
      });
      const norm = Math.hypot(...mean);
      for (let j = 0; j < dim; j++) {
        assertClose(v[j], mean[j] / norm, 1e-5, `embedding[${i}][${j}] (base64)`);
        assertClose(floats.data[i].embedding[j], mean[j] / norm, 1e-5, `embedding[${i}][${j}]`);
      }
    }
    assertStrictEquals(res.usage.prompt_tokens, floats.usage.prompt_tokens);
  });
}, skip);

test("server: tokenize/detokenize, metrics and the OpenAPI document", async () => {
  await withServer(async (s) => {
    const model = await testModel();
    const text = "Once upon a time, Lily";
    const tk = await postJson(`${s.url}/tokenize`, { content: text });
    assertStrictEquals(tk.status, 200);
    assertEquals(tk.body.tokens, model.tokenizer.encode(text, { parseSpecial: true }));
    const withBos = await postJson(`${s.url}/tokenize`, { content: text, add_special: true });
    assertStrictEquals(withBos.body.tokens[0], model.tokenizer.bos);
    const pieces = await postJson(`${s.url}/tokenize`, { content: text, with_pieces: true });
    assertStrictEquals(
      pieces.body.tokens.map((p: { piece: string }) => p.piece).join("").trim(),
      text,
    );
    const dt = await postJson(`${s.url}/detokenize`, { tokens: tk.body.tokens });
    assertEquals(dt.body, { content: text });

    await postJson(`${s.url}/v1/completions`, { prompt: "Hi", max_tokens: 3, temperature: 0 });
    const m = await metrics(s.url);
    assertStrictEquals(m.get('rocmforge_requests_total{endpoint="/tokenize",status="200"}'), 3);
    assertStrictEquals(
      m.get('rocmforge_requests_total{endpoint="/v1/completions",status="200"}'),
      1,
    );
    assert(m.get("rocmforge_generated_tokens_total")! >= 1);
    assert(m.get("rocmforge_prompt_tokens_total")! >= 2);
    assertStrictEquals(m.get("rocmforge_slots_total"), 2);
    assertStrictEquals(m.get("rocmforge_slots_active"), 0);
    assertStrictEquals(m.get("rocmforge_queue_depth"), 0);
    assertStrictEquals(
      m.get('rocmforge_request_duration_seconds_count{endpoint="/v1/completions"}'),
      1,
    );
    const text2 = await (await fetch(`${s.url}/metrics`)).text();
    assertMatch(text2, /# TYPE rocmforge_request_duration_seconds histogram/);

    const doc = await (await fetch(`${s.url}/openapi.json`)).json();
    assertStrictEquals(doc.openapi, "3.1.0");
    for (
      const p of [
        "/v1/completions",
        "/v1/chat/completions",
        "/v1/embeddings",
        "/health",
        "/completions",
        "/chat/completions",
        "/completion",
        "/props",
        "/slots",
        "/apply-template",
        "/api/generate",
        "/api/chat",
        "/api/embed",
        "/api/tags",
        "/api/show",
        "/api/ps",
        "/api/version",
      ]
    ) {
      assert(doc.paths[p], `path ${p} documented`);
    }
    const req = doc.components.schemas.ChatCompletionRequest;
    assertEquals(req.required, ["messages"]);
    assertStrictEquals(req.properties.messages.minItems, 1);
    const temp = doc.components.schemas.CompletionRequest.properties.temperature;
    assertMatch(JSON.stringify(temp), /"maximum":2/);
  });
}, skip);
