/**
 * Constrained output: GBNF grammars (llama.cpp's dialect), JSON Schema → grammar, and the
 * grammar sampler that keeps generation inside them.
 *
 * ```ts
 * const grammar = createGrammarForJsonSchema({ type: "object", properties: { a: { type: "integer" } } });
 * const sampler = new SamplerChain([createGrammarSampler(grammar, model.tokenizer), new TemperatureSampler(0.8)]);
 * ```
 *
 * @module
 */
export { createGrammar, Grammar, type GrammarOptions } from "./grammar.ts";
export { GrammarMatcher, type MatchPoint } from "./matcher.ts";
export {
  createGrammarForJsonSchema,
  type JsonSchemaOptions,
  jsonSchemaToGbnf,
} from "./json_schema.ts";
export { GrammarError, JsonSchemaError } from "./errors.ts";
export { type GrammarVocab, tokenTrie } from "./token_trie.ts";
export {
  createGrammarSampler,
  GrammarSampler,
  type GrammarSamplerOptions,
} from "../samplers/grammar.ts";
