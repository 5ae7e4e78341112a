/**
 * ChatSession on real model paths (stories260K, ChatML default template): history and
 * template rendering with prefix reuse, JSON Schema answers returned parsed and valid,
 * functions called with schema-valid arguments and fed back, reset, and option checking.
 *
 * @module
 */
import { createSession, loadModel } from "../src/api.ts";
import { ChatSession } from "../src/chat/chat_session.ts";
import { InvalidArgumentError } from "../src/core/errors.ts";
import { GrammarError } from "../src/grammar/errors.ts";
import { checkJson } from "./_json_schema_check.ts";
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { HAVE_SHARED, NO_SHARED_REASON, sharedPath } from "./shared_data.ts";
import { test } from "./harness.ts";

const SCHEMA = {
  type: "object",
  properties: { mood: { enum: ["happy", "sad"] }, n: { type: "integer", minimum: 0, maximum: 9 } },
  required: ["mood", "n"],
  additionalProperties: false,
};

test("ChatSession: history, JSON Schema answers, functions, reset", async () => {
  const model = await loadModel(sharedPath("models", "stories260K.gguf"), {
    backend: "cpu",
    log: () => {},
  });
  const session = createSession(model);
  const chat = new ChatSession(session, { systemPrompt: "You are a storyteller." });
  assertEquals(chat.family, "generic");
  const sampling = { temperature: 1.2, seed: 7 };

  const first = await chat.prompt("Tell me a story.", { maxTokens: 12, sampling });
  assert(typeof first === "string");
  assertEquals(chat.history.map((m) => m.role), ["system", "user", "assistant"]);
  const evaluated = session.tokens.length;

  for (let seed = 1; seed <= 6; seed++) {
    const v = await chat.prompt("How do you feel?", {
      responseFormat: { type: "json_schema", schema: SCHEMA },
      sampling: { temperature: 1.5, seed },
      maxTokens: 60,
    });
    assertEquals(checkJson(v, SCHEMA), [], JSON.stringify(v));
  }
  // The earlier turns stay a prefix of the prompt, so the KV cache kept them.
  assert(session.tokens.length > evaluated);

  const seen: unknown[] = [];
  const streamed: string[] = [];
  const it = chat.stream("What is the weather?", {
    functions: {
      weather: {
        parameters: {
          type: "object",
          properties: { city: { type: "string", maxLength: 5 } },
          required: ["city"],
          additionalProperties: false,
        },
        handler: (args) => {
          seen.push(args);
          return { sunny: true };
        },
      },
    },
    sampling: { temperature: 1.0, seed: 3 },
    maxTokens: 200,
    maxCallRounds: 2,
  });
  let r = await it.next();
  while (!r.done) {
    streamed.push(r.value);
    r = await it.next();
  }
  // Generic family: every answer is JSON, a call or {"response": ...}.
  for (const args of seen) {
    assertEquals(
      checkJson(args, {
        type: "object",
        properties: { city: { type: "string", maxLength: 5 } },
        required: ["city"],
      }),
      [],
    );
  }
  assert(seen.length >= 1, `no call made: ${r.value.text}`);
  assertEquals(r.value.calls.length, seen.length);
  assertEquals(chat.history.filter((m) => m.role === "tool").length, seen.length);
  assert(streamed.join("").length > 0);

  await assertRejects(
    () =>
      chat.prompt("Again?", {
        responseFormat: { type: "json_schema", schema: SCHEMA },
        maxTokens: 2,
      }),
    (e: unknown) => e instanceof GrammarError && e.code === "GRAMMAR_INCOMPLETE",
  );
  assertEquals(chat.history.at(-1)?.role, "assistant", "the failed turn left no message");
  chat.reset();
  assertEquals(chat.history.map((m) => m.role), ["system"]);
  await assertRejects(() => chat.prompt("x", { temprature: 1 } as never), InvalidArgumentError);
}, { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON });
