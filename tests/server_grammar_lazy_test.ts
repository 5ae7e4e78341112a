/**
 * llama.cpp's lazy grammar on /completion, /v1/completions and /v1/chat/completions
 * (`grammar_lazy` with `grammar_triggers` as its server README and server-schema.cpp define
 * them: type 0 token, 1 word, 2 pattern constrained from its first capture group, 3 a pattern
 * matching the whole output): the text before the trigger is free, the rest follows the
 * grammar from the trigger on; bad triggers are 400s naming them; `parse_tool_calls: false`
 * leaves calls in the content; a token that would bring the trigger with text the grammar
 * rejects is not sampled. stories260K.
 */
import { assert, assertEquals } from "./assert.ts";
import { test } from "./harness.ts";
import { type Json, postJson, startServer } from "./_server_util.ts";
import { HAVE_SHARED, NO_SHARED_REASON } from "./shared_data.ts";

const skip = { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON };
/**
 * From the first space on: the space, a word, a full stop, then the end. (The grammar is fed
 * the rest of the token that brings the trigger, as in llama.cpp: these SentencePiece tokens
 * put the space before a word.)
 */
const GRAMMAR = `root ::= " " [a-zA-Z]+ "."`;
const AFTER = /^[^ ]* [a-zA-Z]+\.$/s;

test("grammar_lazy: free until the trigger, then the grammar, on every route", async () => {
  const s = await startServer({ parallel: 1 });
  try {
    const triggers: Json[] = [
      [{ type: 1, value: " " }],
      [{ type: 2, value: "[^ ]*( )" }],
      [{ type: 3, value: "[^ ]*( )" }],
    ];
    let checked = 0;
    for (let seed = 1; seed <= 6; seed++) {
      const grammar_triggers = triggers[seed % 3];
      const lazy = { grammar: GRAMMAR, grammar_lazy: true, grammar_triggers, seed };
      const a = await postJson(`${s.url}/completion`, {
        prompt: "Once upon a time",
        n_predict: 64,
        temperature: 1,
        ...lazy,
      });
      const why = `seed ${seed}: ${JSON.stringify(a.body)}`;
      assertEquals(a.status, 200, why);
      if (a.body.stop_type === "limit") continue;
      assert(AFTER.test(a.body.content), why);
      checked++;
      const b = await postJson(`${s.url}/v1/completions`, {
        prompt: "Once upon a time",
        max_tokens: 64,
        temperature: 1,
        ...lazy,
      });
      assertEquals(b.status, 200, JSON.stringify(b.body));
      assertEquals(b.body.choices[0].text, a.body.content, why);
      const c = await postJson(`${s.url}/v1/chat/completions`, {
        messages: [{ role: "user", content: "Hi" }],
        max_tokens: 64,
        temperature: 1,
        ...lazy,
      });
      assertEquals(c.status, 200, JSON.stringify(c.body));
      const text = c.body.choices[0].message.content;
      if (c.body.choices[0].finish_reason === "stop") assert(AFTER.test(text), text);
    }
    assert(checked >= 4, `${checked} of 6 seeded runs ended`);
    // A token trigger: the grammar starts with that token's text.
    const dot = await postJson(`${s.url}/tokenize`, { content: "." });
    const id = dot.body.tokens.at(-1);
    const piece = await postJson(`${s.url}/detokenize`, { tokens: [id] });
    const tokenLazy = {
      prompt: "Once upon a time",
      n_predict: 200,
      temperature: 1,
      seed: 2,
      grammar: `root ::= ${JSON.stringify(piece.body.content)} "!"`,
      grammar_lazy: true,
      grammar_triggers: [{ type: 0, value: ".", token: id }],
    };
    const t = await postJson(`${s.url}/completion`, tokenLazy);
    assertEquals(t.status, 200, JSON.stringify(t.body));
    if (t.body.stop_type !== "limit") {
      assert(t.body.content.endsWith(`${piece.body.content}!`), t.body.content);
    }
  } finally {
    await s.close();
  }
}, skip);

test(
  "grammar_lazy: a token bringing the trigger with text the grammar rejects is not sampled",
  async () => {
    // Nearly every SentencePiece token with a space is " word": the trigger plus letters that
    // this grammar (one capital letter, then a full stop) rejects (" a", " upon", ...). llama.cpp fails there; here the
    // sampler takes another token, so every request completes.
    const s = await startServer({ parallel: 1 });
    try {
      let ended = 0;
      for (let seed = 1; seed <= 6; seed++) {
        const a = await postJson(`${s.url}/completion`, {
          prompt: "Once upon a time",
          n_predict: 64,
          temperature: 1,
          seed,
          grammar: `root ::= " " [A-Z] "."`,
          grammar_lazy: true,
          grammar_triggers: [{ type: 1, value: " " }],
        });
        const why = `seed ${seed}: ${JSON.stringify(a.body)}`;
        assertEquals(a.status, 200, why);
        if (a.body.stop_type === "limit") continue;
        assert(/^[^ ]* [A-Z]\.$/s.test(a.body.content), why);
        ended++;
      }
      assert(ended >= 3, `${ended} of 6 seeded runs ended`);
    } finally {
      await s.close();
    }
  },
  skip,
);

test("grammar_lazy: bad triggers are 400s naming them; parse_tool_calls false", async () => {
  const s = await startServer({ parallel: 1 });
  try {
    const base = { prompt: "x", n_predict: 4, grammar: GRAMMAR };
    const cases: [Json, string][] = [
      [{ grammar_lazy: true }, "grammar_triggers"],
      [{ grammar_triggers: [{ type: 1, value: " " }] }, "grammar_triggers"],
      [
        { grammar: undefined, grammar_lazy: true, grammar_triggers: [{ type: 1, value: " " }] },
        "grammar_lazy",
      ],
      [
        { grammar_lazy: true, grammar_triggers: [{ type: 2, value: "(" }] },
        "grammar_triggers[0].value",
      ],
      [
        { grammar_lazy: true, grammar_triggers: [{ type: 1, value: "" }] },
        "grammar_triggers[0].value",
      ],
      [
        { grammar_lazy: true, grammar_triggers: [{ type: 0, value: "x", token: 1e6 }] },
        "grammar_triggers[0].token[0]",
      ],
      [{ grammar_lazy: true, grammar_triggers: [{ type: 0, value: "x" }] }, "grammar_triggers[0]"],
    ];
    for (const [extra, param] of cases) {
      const r = await postJson(`${s.url}/completion`, { ...base, ...extra });
      assertEquals([r.status, r.body.error?.param], [400, param], JSON.stringify(r.body));
    }
    const tools = [{
      type: "function",
      function: {
        name: "f",
        parameters: { type: "object", properties: { a: { type: "boolean" } }, required: ["a"] },
      },
    }];
    const ask = { messages: [{ role: "user", content: "Hi" }], tools, tool_choice: "required" };
    const lazyTools = await postJson(`${s.url}/v1/chat/completions`, {
      ...ask,
      grammar: GRAMMAR,
      grammar_lazy: true,
      grammar_triggers: [{ type: 1, value: " " }],
    });
    assertEquals([lazyTools.status, lazyTools.body.error?.param], [400, "grammar_lazy"]);
    for (let seed = 1; seed <= 3; seed++) {
      const body = { ...ask, max_tokens: 120, temperature: 1, seed };
      const parsed = await postJson(`${s.url}/v1/chat/completions`, body);
      const raw = await postJson(`${s.url}/v1/chat/completions`, {
        ...body,
        parse_tool_calls: false,
      });
      const why = JSON.stringify([parsed.body, raw.body]);
      if (parsed.body.choices[0].finish_reason !== "tool_calls") continue;
      const m = raw.body.choices[0].message;
      assertEquals(m.tool_calls, undefined, why);
      assertEquals(raw.body.choices[0].finish_reason, "stop", why);
      // The generic format's call JSON, as the model wrote it.
      const call = JSON.parse(m.content).tool_call;
      assertEquals(call.name, "f", why);
      assertEquals(
        call.arguments,
        JSON.parse(parsed.body.choices[0].message.tool_calls[0].function.arguments),
        why,
      );
    }
  } finally {
    await s.close();
  }
}, skip);
