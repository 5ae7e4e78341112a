/**
 * Sampling parameters and the standard chain built from them, in llama.cpp's common order:
 * logit_bias -> penalties -> top_k -> typical -> top_p -> min_p -> temperature -> dist.
 * Samplers whose setting makes them a no-op are left out. A temperature of 0 gives a greedy
 * chain: the argmax after logit bias and penalties, over the whole vocabulary.
 *
 * ## The default sampling policy (library, CLI and server alike)
 *
 * One rule, read from here by `generate()`, the `generate` command and the HTTP server:
 * every omitted field takes {@link DEFAULT_SAMPLING_PARAMS}. Its temperature is 0, so
 * **the default is greedy** (reproducible: no sampling options, `sampling: {}`, a CLI
 * run without `--temp`, and a request without `temperature` all give the argmax text). A
 * temperature above 0 turns sampling on, and the other omitted fields then take llama.cpp's
 * common defaults (common/common.h): top-k 40, top-p 0.95, min-p 0.05, typical-p 1, no
 * penalties, a random seed unless `seed` is given.
 *
 * Unknown keys are errors (an InvalidArgumentError naming the key and the closest valid
 * one), never silently ignored.
 *
 * @module
 */
import {
  fieldError,
  requireAtLeast,
  requireFinite,
  requireInRange,
  requireInteger,
  requirePositive,
} from "./_validate.ts";
import { z } from "../deps/zod.ts";
import { parseOptions } from "../core/options.ts";
import { SamplerChain } from "./chain.ts";
import { DistSampler } from "./dist.ts";
import { GreedySampler } from "./greedy.ts";
import { LogitBiasSampler, parseLogitBias } from "./logit_bias.ts";
import { MinPSampler } from "./min_p.ts";
import { PenaltiesSampler } from "./penalties.ts";
import { TemperatureSampler } from "./temperature.ts";
import { TopKSampler } from "./top_k.ts";
import { TopPSampler } from "./top_p.ts";
import { TypicalPSampler } from "./typical_p.ts";
import type { Sampler } from "./types.ts";

/** What to sample with. Every field is optional; see {@link DEFAULT_SAMPLING_PARAMS}. */
export interface SamplingParams {
  /** >= 0; 0 = greedy. */
  temperature?: number;
  /** Integer >= 0; 0 = disabled. */
  topK?: number;
  /** In [0, 1]; 1 = disabled. */
  topP?: number;
  /** In [0, 1]; 0 = disabled. */
  minP?: number;
  /** In [0, 1]; 1 = disabled. */
  typicalP?: number;
  /** > 0; 1 = disabled. */
  repeatPenalty?: number;
  /** Finite; 0 = disabled. */
  presencePenalty?: number;
  /** Finite; 0 = disabled. */
  frequencyPenalty?: number;
  /** Integer >= -1: penalty window; -1 = whole history, 0 = disabled. */
  penaltyLastN?: number;
  /** Token id -> bias added to its logit; -Infinity bans the token. */
  logitBias?: Record<number, number> | Map<number, number>;
  /** Integer in [0, 2^32); omitted or -1 = random. */
  seed?: number;
  /** Integer >= 0: top-p, min-p and typical keep at least this many tokens. */
  minKeep?: number;
}

/**
 * The defaults of omitted fields: greedy (temperature 0); the rest are llama.cpp's common
 * defaults (common/common.h), which apply once a temperature above 0 is given.
 */
export const DEFAULT_SAMPLING_PARAMS: Readonly<{
  temperature: number;
  topK: number;
  topP: number;
  minP: number;
  typicalP: number;
  repeatPenalty: number;
  presencePenalty: number;
  frequencyPenalty: number;
  penaltyLastN: number;
  minKeep: number;
}> = Object.freeze({
  temperature: 0,
  topK: 40,
  topP: 0.95,
  minP: 0.05,
  typicalP: 1,
  repeatPenalty: 1,
  presencePenalty: 0,
  frequencyPenalty: 0,
  penaltyLastN: 64,
  minKeep: 0,
});

const anyField = z.unknown().optional();
/** The keys SamplingParams accepts (types and ranges are checked by validateSamplingParams). */
export const samplingParamsSchema = z.strictObject({
  temperature: anyField,
  topK: anyField,
  topP: anyField,
  minP: anyField,
  typicalP: anyField,
  repeatPenalty: anyField,
  presencePenalty: anyField,
  frequencyPenalty: anyField,
  penaltyLastN: anyField,
  logitBias: anyField,
  seed: anyField,
  minKeep: anyField,
});

/**
 * Checks every given field (an unknown key included); throws InvalidArgumentError whose message and `facts.field` name
 * the first bad one (e.g. "topP must be in [0, 1], got 1.5").
 */
export function validateSamplingParams(p: SamplingParams, field = "sampling"): void {
  if (typeof p !== "object" || p === null || Array.isArray(p)) {
    fieldError("samplingParams", "an object", p);
  }
  parseOptions(samplingParamsSchema, p, "sampling", field);
  if (p.temperature !== undefined) requireAtLeast("temperature", p.temperature, 0);
  if (p.topK !== undefined) requireInteger("topK", p.topK, 0);
  if (p.topP !== undefined) requireInRange("topP", p.topP, 0, 1);
  if (p.minP !== undefined) requireInRange("minP", p.minP, 0, 1);
  if (p.typicalP !== undefined) requireInRange("typicalP", p.typicalP, 0, 1);
  if (p.repeatPenalty !== undefined) requirePositive("repeatPenalty", p.repeatPenalty);
  if (p.presencePenalty !== undefined) requireFinite("presencePenalty", p.presencePenalty);
  if (p.frequencyPenalty !== undefined) requireFinite("frequencyPenalty", p.frequencyPenalty);
  if (p.penaltyLastN !== undefined) requireInteger("penaltyLastN", p.penaltyLastN, -1);
  if (p.logitBias !== undefined) parseLogitBias(p.logitBias);
  if (p.seed !== undefined) requireInteger("seed", p.seed, -1, 0xffffffff);
  if (p.minKeep !== undefined) requireInteger("minKeep", p.minKeep, 0);
}

/** Builds the standard chain for `p` (validated first). */
export function createSamplerChain(p: SamplingParams = {}): SamplerChain {
  validateSamplingParams(p);
  const d = DEFAULT_SAMPLING_PARAMS;
  const samplers: Sampler[] = [];
  if (p.logitBias !== undefined) {
    const bias = new LogitBiasSampler(p.logitBias);
    if (bias.size > 0) samplers.push(bias);
  }
  const penalties = new PenaltiesSampler({
    lastN: p.penaltyLastN ?? d.penaltyLastN,
    repeat: p.repeatPenalty ?? d.repeatPenalty,
    frequency: p.frequencyPenalty ?? d.frequencyPenalty,
    presence: p.presencePenalty ?? d.presencePenalty,
  });
  if (penalties.active) samplers.push(penalties);
  const temperature = p.temperature ?? d.temperature;
  if (temperature <= 0) {
    samplers.push(new GreedySampler());
    return new SamplerChain(samplers, { fallback: "greedy" });
  }
  const minKeep = p.minKeep ?? d.minKeep;
  const topK = p.topK ?? d.topK;
  const typicalP = p.typicalP ?? d.typicalP;
  const topP = p.topP ?? d.topP;
  const minP = p.minP ?? d.minP;
  if (topK > 0) samplers.push(new TopKSampler(topK));
  if (typicalP < 1) samplers.push(new TypicalPSampler(typicalP, minKeep));
  if (topP < 1) samplers.push(new TopPSampler(topP, minKeep));
  if (minP > 0) samplers.push(new MinPSampler(minP, minKeep));
  if (temperature !== 1) samplers.push(new TemperatureSampler(temperature));
  samplers.push(new DistSampler(p.seed));
  return new SamplerChain(samplers, { fallback: "greedy" });
}
