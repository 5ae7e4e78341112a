import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { InvalidArgumentError } from "../core/errors.ts";
import { GrammarError, JsonSchemaError } from "../grammar/errors.ts";
import type { GrammarVocab } from "../grammar/token_trie.ts";
import { GreedySampler } from "../samplers/greedy.ts";
import { responseFormatGrammar, withGrammar } from "./constrain.ts";

test("responseFormatGrammar: each format, and typed errors for bad input", () => {
  assertEquals(responseFormatGrammar(undefined), undefined);
  assertEquals(responseFormatGrammar({ type: "text" }), undefined);
  assert(responseFormatGrammar({ type: "json_object" })!.matches('{"a": [1]}'));
  assert(!responseFormatGrammar({ type: "json_object" })!.matches("[1]"));
  const s = responseFormatGrammar({ type: "json_schema", schema: { enum: ["x", 2] } })!;
  assert(s.matches('"x"') && s.matches("2") && !s.matches('"y"'));
  assert(responseFormatGrammar({ type: "grammar", grammar: 'root ::= "hi"' })!.matches("hi"));
  assertThrows(
    () => responseFormatGrammar({ type: "json_schema", schema: { type: "number", maximum: 1 } }),
    JsonSchemaError,
  );
  assertThrows(
    () => responseFormatGrammar({ type: "grammar", grammar: "root ::= (" }),
    GrammarError,
  );
  assertThrows(() => responseFormatGrammar({ type: "yaml" } as never), InvalidArgumentError);
});

test("withGrammar: the grammar filters before the base sampler picks", () => {
  const texts = ["", "no", "yes", "maybe"];
  const vocab: GrammarVocab = {
    vocabSize: texts.length,
    tokenBytes: (id) => new TextEncoder().encode(texts[id]),
    isEog: (id) => id === 0,
  };
  const chain = withGrammar(
    new GreedySampler(),
    responseFormatGrammar({ type: "grammar", grammar: 'root ::= "yes" | "maybe"' })!,
    vocab,
  );
  // Greedy alone would take "no" (logit 5); the grammar leaves "yes" and "maybe".
  assertEquals(chain.sample(Float32Array.of(0, 5, 1, 2)), 3);
  assertEquals(chain.sample(Float32Array.of(0, 5, 1, 2)), 0); // then only EOS
});
