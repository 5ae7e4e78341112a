/**
 * The two calls a caller (ChatSession, the server, the CLI) needs to constrain an answer:
 * the grammar for a response format, and a sampler that puts a grammar in front of any other
 * sampler. Invalid input is a typed error the caller can map to a 400 with `param`:
 * JsonSchemaError (`facts.keyword`) for a schema, GrammarError (`facts.offset`) for GBNF,
 * InvalidArgumentError for an unknown format type.
 *
 * @module
 */
import { InvalidArgumentError } from "../core/errors.ts";
import { createGrammar, type Grammar } from "../grammar/grammar.ts";
import { createGrammarForJsonSchema, type JsonSchemaOptions } from "../grammar/json_schema.ts";
import type { GrammarVocab } from "../grammar/token_trie.ts";
import { SamplerChain } from "../samplers/chain.ts";
import { GrammarSampler, type GrammarSamplerOptions } from "../samplers/grammar.ts";
import type { Sampler } from "../samplers/types.ts";

/** What an answer must be (OpenAI's response_format, plus llama.cpp's raw grammar). */
export type ResponseFormat =
  | { type: "text" }
  | { type: "json_object" }
  | { type: "json_schema"; schema: Record<string, unknown> }
  | { type: "grammar"; grammar: string };

/** The grammar enforcing `format` (undefined for none or "text"). */
export function responseFormatGrammar(
  format: ResponseFormat | undefined,
  options: JsonSchemaOptions = {},
): Grammar | undefined {
  if (format === undefined || format.type === "text") return undefined;
  switch (format.type) {
    case "json_object":
      return createGrammarForJsonSchema({ type: "object" }, options);
    case "json_schema":
      return createGrammarForJsonSchema(format.schema, options);
    case "grammar":
      return createGrammar(format.grammar);
  }
  const type = (format as { type: unknown }).type;
  throw new InvalidArgumentError(`unknown responseFormat type '${String(type)}'`, {
    field: "responseFormat.type",
    expected: ["text", "json_object", "json_schema", "grammar"],
    actual: type,
  });
}

/**
 * `base` (e.g. createSamplerChain(params)) with the grammar sampler in front, as one sampler
 * to pass to generate(): the grammar filters, then `base` truncates and picks.
 */
export function withGrammar(
  base: Sampler,
  grammar: Grammar,
  vocab: GrammarVocab,
  options: GrammarSamplerOptions = {},
): SamplerChain {
  return new SamplerChain([new GrammarSampler(grammar, vocab, options), base], {
    fallback: "none",
  });
}
