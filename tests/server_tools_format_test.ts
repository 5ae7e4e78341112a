/**
 * `tools` with a response format for the final answer (OpenAI allows both): with tool_choice
 * "auto" every seeded answer is either calls whose arguments validate against their function's
 * schema or content that is valid JSON of the response_format schema (or matches the GBNF
 * `grammar`), in the generic call format (stories260K's ChatML) and Hermes/Qwen's
 * `<tool_call>`; streamed and unstreamed answers of one seed agree; an unenforceable format is
 * still a 400 naming it.
 */
import { assert, assertEquals } from "./assert.ts";
import { test } from "./harness.ts";
import { checkJson } from "./_json_schema_check.ts";
import { type Json, postJson, sseEvents, startServer } from "./_server_util.ts";
import { HAVE_SHARED, NO_SHARED_REASON } from "./shared_data.ts";
import { readFileSync } from "node:fs";
import { createGrammar } from "../src/grammar/grammar.ts";
import { LLAMACPP_TREE, llamacppPath, NO_LLAMACPP_REASON } from "./llamacpp_tree.ts";

const opts = { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON };
const WEATHER = {
  type: "object",
  properties: { city: { type: "string", maxLength: 6 } },
  required: ["city"],
  additionalProperties: false,
};
const TOOLS = [{ type: "function", function: { name: "get_weather", parameters: WEATHER } }];
const ANSWER = {
  type: "object",
  properties: { ok: { type: "boolean" }, level: { enum: ["low", "high"] } },
  required: ["ok", "level"],
  additionalProperties: false,
};
const FORMAT = { type: "json_schema", json_schema: { name: "answer", schema: ANSWER } };
const ASK = [{ role: "user", content: "Weather in Paris?" }];
const GBNF = `root ::= "yes" | "no" | "maybe " [0-9]`;

/** Checks one answer: valid calls, or content in the format; returns which it was. */
function check(choice: Json, why: string, gbnf?: string): "call" | "answer" {
  const m = choice.message;
  if (choice.finish_reason === "tool_calls") {
    assertEquals(m.content, null, why);
    for (const c of m.tool_calls) {
      assertEquals(c.function.name, "get_weather", why);
      assertEquals(checkJson(JSON.parse(c.function.arguments), WEATHER), [], why);
    }
    return "call";
  }
  assertEquals(choice.finish_reason, "stop", why);
  assertEquals(m.tool_calls, undefined, why);
  if (gbnf) assert(createGrammar(gbnf).matches(m.content), why);
  else assertEquals(checkJson(JSON.parse(m.content), ANSWER), [], why);
  return "answer";
}

async function streamed(url: string, body: Json): Promise<{ content: string; calls: Json[] }> {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ...body, stream: true }),
  });
  let content = "";
  const calls: Json[] = [];
  for await (const ev of sseEvents(res)) {
    if (ev === "[DONE]") break;
    const d = ev.choices[0]?.delta;
    if (!d) continue;
    content += d.content ?? "";
    for (const t of d.tool_calls ?? []) {
      calls[t.index] ??= { name: "", arguments: "" };
      calls[t.index].name += t.function.name ?? "";
      calls[t.index].arguments += t.function.arguments ?? "";
    }
  }
  return { content, calls };
}

async function seededRuns(template?: string): Promise<Record<string, number>> {
  const s = await startServer({ parallel: 1, ...(template ? { chatTemplate: template } : {}) });
  const seen: Record<string, number> = { call: 0, answer: 0 };
  try {
    for (let seed = 1; seed <= 12; seed++) {
      const gbnf = seed % 4 === 0 ? GBNF : undefined;
      const body = {
        messages: ASK,
        tools: TOOLS,
        parallel_tool_calls: false,
        ...(gbnf ? { grammar: gbnf } : { response_format: FORMAT }),
        max_tokens: 200,
        temperature: 1.3,
        seed,
      };
      const r = await postJson(`${s.url}/v1/chat/completions`, body);
      assertEquals(r.status, 200, JSON.stringify(r.body));
      const choice = r.body.choices[0];
      const why = `seed ${seed}: ${JSON.stringify(choice)}`;
      if (choice.finish_reason === "length") continue;
      seen[check(choice, why, gbnf)]++;
      if (seed <= 3) {
        const st = await streamed(s.url, body);
        const parsed = (calls: Json[]) =>
          calls.map((f) => ({ name: f.name, arguments: JSON.parse(f.arguments) }));
        const calls = (choice.message.tool_calls ?? []).map((c: Json) => c.function);
        assertEquals(parsed(st.calls), parsed(calls), `${why}: streamed calls`);
        assertEquals(st.content, choice.message.content ?? "", `${why}: streamed content`);
      }
    }
    // The format must still be enforceable, and must be one.
    const bad: [Json, string][] = [
      [{
        response_format: {
          type: "json_schema",
          json_schema: { name: "x", schema: { type: "string", format: "email" } },
        },
      }, "response_format"],
      [{ grammar: "root ::= (" }, "grammar"],
      [{ grammar: GBNF, json_schema: ANSWER }, "grammar"],
    ];
    for (const [extra, param] of bad) {
      const r = await postJson(`${s.url}/v1/chat/completions`, {
        messages: ASK,
        tools: TOOLS,
        ...extra,
      });
      assertEquals([r.status, r.body.error?.param], [400, param], JSON.stringify(r.body));
    }
  } finally {
    await s.close();
  }
  return seen;
}

test("server tools + format: generic calls or a schema-valid answer, every seed", async () => {
  const seen = await seededRuns();
  // These seeds give both kinds (9 calls and 3 answers on stories260K).
  assert(seen.call > 0 && seen.answer > 0 && seen.call + seen.answer >= 8, JSON.stringify(seen));
}, opts);

test(
  "server tools + format: Hermes/Qwen <tool_call> or a schema-valid answer, every seed",
  async () => {
    const qwen = readFileSync(
      llamacppPath("models", "templates", "Qwen-Qwen2.5-7B-Instruct.jinja"),
      "utf8",
    );
    const seen = await seededRuns(qwen);
    // These seeds give both kinds (9 calls and 3 answers on stories260K).
    assert(seen.call > 0 && seen.answer > 0 && seen.call + seen.answer >= 8, JSON.stringify(seen));
  },
  { ...opts, ...(LLAMACPP_TREE ? {} : { ignore: true, reason: NO_LLAMACPP_REASON }) },
);
