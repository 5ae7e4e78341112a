/**
 * llama.cpp's native routes (/completion, /props, /slots, /apply-template, its error shape)
 * and ollama's /api routes (NDJSON streaming, options, embed, tags, show, ps, version), with
 * plain fetch as their clients send them; greedy text equals generate()'s.
 */
import { test } from "./harness.ts";
import { assert, assertEquals, assertStrictEquals } from "./assert.ts";
import { HAVE_SHARED, NO_SHARED_REASON } from "./shared_data.ts";
import { greedyText, type Json, postJson, sseEvents, startServer } from "./_server_util.ts";

const skip = { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON };

test("llama.cpp API: /completion, streaming, slots, props, apply-template, errors", async () => {
  const s = await startServer({ parallel: 2, contextLength: 128 });
  try {
    const want = await greedyText("Once upon a time", 10);
    const r = await postJson(`${s.url}/completion`, {
      prompt: "Once upon a time",
      n_predict: 10,
      temperature: 0,
      return_tokens: true,
      n_probs: 2,
      id_slot: 1,
    });
    assertStrictEquals(r.status, 200);
    const b = r.body;
    assertStrictEquals(b.content, want.text);
    assertStrictEquals(b.tokens.length, 10);
    assertStrictEquals(b.id_slot, 1);
    assertStrictEquals(b.stop, true);
    assertStrictEquals(b.stop_type, "limit");
    assertStrictEquals(b.tokens_predicted, 10);
    assertStrictEquals(b.tokens_evaluated, want.promptTokens);
    assertStrictEquals(b.completion_probabilities.length, 10);
    assertStrictEquals(b.completion_probabilities[0].top_logprobs.length, 2);
    assertStrictEquals(b.timings.predicted_n, 10);
    assert(b.timings.predicted_per_second > 0);
    // Slot 1 now caches that prompt; slot 0 has nothing.
    const slots = await (await fetch(`${s.url}/slots`)).json();
    assertEquals(slots.map((x: Json) => x.id), [0, 1]);
    assertStrictEquals(slots[0].n_cached, 0);
    assert(slots[1].n_cached >= want.promptTokens, "slot 1 holds the prompt");
    const again = await postJson(`${s.url}/completion`, {
      prompt: "Once upon a time",
      n_predict: 10,
      temperature: 0,
      id_slot: 1,
    });
    assertStrictEquals(again.body.tokens_cached, want.promptTokens - 1);
    assertStrictEquals(again.body.content, want.text);
    // Streaming: one event per token, a final stop event, no [DONE].
    const res = await fetch(`${s.url}/completion`, {
      method: "POST",
      body: JSON.stringify({ prompt: "Once upon a time", n_predict: 10, stream: true }),
    });
    const events: Json[] = [];
    for await (const ev of sseEvents(res)) events.push(ev);
    assert(!events.includes("[DONE]"));
    const last = events.pop();
    assertStrictEquals(last.stop, true);
    assertStrictEquals(events.map((e) => e.content).join(""), want.text);
    // Props, template.
    const props = await (await fetch(`${s.url}/props`)).json();
    assertStrictEquals(props.total_slots, 2);
    assertStrictEquals(props.default_generation_settings.n_ctx, 128);
    const t = await postJson(`${s.url}/apply-template`, {
      messages: [{ role: "user", content: "Hi" }],
    });
    assert(t.body.prompt.includes("Hi"), t.body.prompt);
    // llama.cpp's error shape.
    const long = await postJson(`${s.url}/completion`, { prompt: "cat ".repeat(300) });
    assertStrictEquals(long.status, 400);
    assertStrictEquals(long.body.error.type, "exceed_context_size_error");
    assertStrictEquals(long.body.error.code, 400);
    const bad = await postJson(`${s.url}/completion`, { prompt: "a", grammar: "root ::= (" });
    assertStrictEquals(bad.status, 400);
    assertStrictEquals(bad.body.error.type, "invalid_request_error");
    assertStrictEquals(bad.body.error.param, "grammar");
    const slot = await postJson(`${s.url}/completion`, { prompt: "a", id_slot: 5 });
    assertStrictEquals(slot.status, 400);
    assertStrictEquals(slot.body.error.param, "id_slot");
  } finally {
    await s.close();
  }
}, skip);

async function ndjson(res: Response): Promise<Json[]> {
  const text = await res.text();
  return text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
}

test("ollama API: generate and chat (NDJSON), embed, tags, show, ps, version", async () => {
  const s = await startServer({ parallel: 1 });
  try {
    const want = await greedyText("Once upon a time", 8);
    const g = await fetch(`${s.url}/api/generate`, {
      method: "POST",
      body: JSON.stringify({
        model: "llama3",
        prompt: "Once upon a time",
        raw: true,
        options: { num_predict: 8, temperature: 0 },
      }),
    });
    assertStrictEquals(g.headers.get("content-type"), "application/x-ndjson");
    const lines = await ndjson(g);
    const fin = lines.pop();
    assertStrictEquals(fin.done, true);
    assertStrictEquals(fin.done_reason, "length");
    assertStrictEquals(fin.eval_count, 8);
    assertStrictEquals(fin.prompt_eval_count, want.promptTokens);
    assert(lines.every((l) => l.done === false));
    assertStrictEquals(lines.map((l) => l.response).join(""), want.text);
    const one = await postJson(`${s.url}/api/generate`, {
      model: "x",
      prompt: "Once upon a time",
      raw: true,
      stream: false,
      options: { num_predict: 8, temperature: 0 },
    });
    assertStrictEquals(one.body.response, want.text);
    const chat = await fetch(`${s.url}/api/chat`, {
      method: "POST",
      body: JSON.stringify({
        model: "x",
        messages: [{ role: "user", content: "Hi" }],
        options: { num_predict: 4, seed: 1, temperature: 0.8 },
      }),
    });
    const cl = await ndjson(chat);
    assertStrictEquals(cl[cl.length - 1].done, true);
    assertStrictEquals(cl[0].message.role, "assistant");
    const bad = await postJson(`${s.url}/api/chat`, {
      model: "x",
      messages: [{ role: "user", content: "Hi" }],
      options: { num_gpu: 1 },
    });
    assertStrictEquals(bad.status, 400);
    assert(typeof bad.body.error === "string" && bad.body.error.includes("options.num_gpu"));
    const e = await postJson(`${s.url}/api/embed`, { model: "x", input: ["a dog", "a cat"] });
    assertStrictEquals(e.body.embeddings.length, 2);
    assertStrictEquals(
      e.body.embeddings[0].length,
      s.engine.ready().model.config.embeddingLength,
    );
    const tags = await (await fetch(`${s.url}/api/tags`)).json();
    assertStrictEquals(tags.models[0].name, "stories260K");
    assertStrictEquals(tags.models[0].details.format, "gguf");
    const ps = await (await fetch(`${s.url}/api/ps`)).json();
    assertStrictEquals(ps.models.length, 1);
    const show = await postJson(`${s.url}/api/show`, { model: "stories260K" });
    assertStrictEquals(show.body.model_info["general.architecture"], "llama");
    const v = await (await fetch(`${s.url}/api/version`)).json();
    assert(/^\d+\.\d+\.\d+$/.test(v.version));
  } finally {
    await s.close();
  }
}, skip);
