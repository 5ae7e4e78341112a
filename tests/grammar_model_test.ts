/**
 * Constrained generation on real model paths: stories260K (SPM, 512 tokens) and the
 * qwen2-tiny64 synthetic model (BPE, 32k tokens), seeded sampling at a high temperature
 * through `generate()` with the grammar sampler first in the chain. Every output must parse
 * as JSON and validate against its schema (tests/_json_schema_check.ts, independent of the
 * converter); a raw GBNF grammar is checked with the grammar's own matcher.
 *
 * @module
 */
import { createSession, loadModel } from "../src/api.ts";
import { generate } from "../src/core/generate.ts";
import { createGrammar, type Grammar } from "../src/grammar/grammar.ts";
import { createGrammarForJsonSchema } from "../src/grammar/json_schema.ts";
import { SamplerChain } from "../src/samplers/chain.ts";
import { GrammarSampler } from "../src/samplers/grammar.ts";
import { TemperatureSampler } from "../src/samplers/temperature.ts";
import { TopKSampler } from "../src/samplers/top_k.ts";
import { checkJson } from "./_json_schema_check.ts";
import { assert, assertEquals } from "./assert.ts";
import { HAVE_SHARED, NO_SHARED_REASON, sharedPath } from "./shared_data.ts";
import { test } from "./harness.ts";

const SCHEMAS: Record<string, unknown>[] = [
  {
    type: "object",
    properties: {
      name: { type: "string", maxLength: 6 },
      age: { type: "integer", minimum: 0, maximum: 120 },
      pet: { enum: ["cat", "dog", null] },
    },
    required: ["name", "age"],
    additionalProperties: false,
  },
  { type: "array", items: { type: "integer", minimum: -5, maximum: 5 }, minItems: 1, maxItems: 4 },
  {
    type: "array",
    prefixItems: [{ type: "boolean" }, { type: "string", format: "date" }, { const: "ok" }],
  },
  {
    anyOf: [
      { type: "integer", minimum: 0, maximum: 99 },
      { type: "boolean" },
      { type: "string", maxLength: 2 },
    ],
  },
];
const GBNF = `root ::= "(" item (", " item){0,2} ")"\nitem ::= [a-c]{1,3} | [0-9]`;

async function runAll(path: string, seeds: number): Promise<number> {
  const model = await loadModel(path, { backend: "cpu", log: () => {} });
  const tok = model.tokenizer;
  const session = createSession(model);
  // The last schema runs in exact mode (every candidate masked), the others on the fast path.
  const cases: [Grammar, (text: string) => string[], boolean][] = SCHEMAS.map((s, i) => [
    createGrammarForJsonSchema(s),
    (text: string) => checkJson(JSON.parse(text), s),
    i === SCHEMAS.length - 1,
  ]);
  const g = createGrammar(GBNF);
  cases.push([g, (text: string) => (g.matches(text) ? [] : ["no match"]), false]);
  let runs = 0;
  for (const [grammar, check, exact] of cases) {
    const distinct = new Set<string>();
    for (let seed = 1; seed <= seeds; seed++) {
      const sampler = new SamplerChain(
        [
          new GrammarSampler(grammar, tok, { exact }),
          new TopKSampler(20),
          new TemperatureSampler(1.5),
        ],
        { seed },
      );
      const it = generate(session, "Once upon a time", { maxTokens: 200, sampler });
      let text = "";
      let r = await it.next();
      while (!r.done) {
        text += r.value.text;
        r = await it.next();
      }
      assertEquals(r.value.finishReason, "stop", `${path} seed ${seed}: ${text}`);
      let errs: string[];
      try {
        errs = check(text);
      } catch (e) {
        errs = [String(e)];
      }
      assertEquals(errs, [], `${path} seed ${seed}: ${JSON.stringify(text)}`);
      distinct.add(text);
      runs++;
    }
    // Sampling really explores the grammar (not one forced answer).
    assert(distinct.size >= 3, `${path}: only ${distinct.size} distinct outputs`);
  }
  return runs;
}

test("seeded sampling under schemas and a GBNF grammar: stories260K (SPM)", async () => {
  assert(await runAll(sharedPath("models", "stories260K.gguf"), 30) === 150);
}, { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON });

test(
  "seeded sampling under schemas and a GBNF grammar: qwen2-tiny64 (BPE, 32k vocab)",
  async () => {
    assert(await runAll(sharedPath("models", "synthetic", "qwen2-tiny64-Q8_0.gguf"), 12) === 60);
  },
  { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON },
);
