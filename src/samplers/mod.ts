/**
 * Samplers: llama.cpp-style plugins over a candidate set, composed in a chain.
 *
 * ```ts
 * const chain = createSamplerChain({ temperature: 0.7, topK: 40, topP: 0.9, seed: 42 });
 * const token = chain.sample(logits, historyTokens);
 * ```
 *
 * @module
 */
export * from "./types.ts";
export * from "./rng.ts";
export * from "./greedy.ts";
export * from "./temperature.ts";
export * from "./top_k.ts";
export * from "./top_p.ts";
export * from "./min_p.ts";
export * from "./typical_p.ts";
export * from "./penalties.ts";
export * from "./logit_bias.ts";
export * from "./dist.ts";
export * from "./chain.ts";
export * from "./params.ts";
export * from "./builtin_plugins.ts";
