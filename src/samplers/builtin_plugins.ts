/**
 * The built-in samplers as registry plugins, so `registry.samplerNames()` lists them and
 * `registry.createSampler("top-k", { k: 40 })` builds one exactly as a third-party plugin
 * would be built. Options are strict: an unknown key names the closest valid one.
 *
 * @module
 */
import { z } from "../deps/zod.ts";
import { parseOptions } from "../core/options.ts";
import type { PluginRegistry, SamplerPlugin } from "../core/registry.ts";
import { DistSampler } from "./dist.ts";
import { GreedySampler } from "./greedy.ts";
import { type LogitBias, LogitBiasSampler } from "./logit_bias.ts";
import { MinPSampler } from "./min_p.ts";
import { createSamplerChain, type SamplingParams } from "./params.ts";
import { PenaltiesSampler } from "./penalties.ts";
import { TemperatureSampler } from "./temperature.ts";
import { TopKSampler } from "./top_k.ts";
import { TopPSampler } from "./top_p.ts";
import { TypicalPSampler } from "./typical_p.ts";
import type { Sampler } from "./types.ts";

const any = z.unknown();

function plugin<T extends z.ZodRawShape>(
  name: string,
  description: string,
  shape: T,
  make: (o: Record<string, unknown>) => Sampler,
): SamplerPlugin {
  const schema = z.strictObject(shape);
  return {
    apiVersion: 1,
    name,
    description,
    create(options = {}) {
      return make(
        parseOptions(schema, options, `${name} sampler option`) as Record<string, unknown>,
      );
    },
  };
}

const num = (o: Record<string, unknown>, k: string) => o[k] as number;
const maybe = (o: Record<string, unknown>, k: string) => o[k] as number | undefined;

/** Every built-in sampler plugin; "chain" takes SamplingParams and builds the standard chain. */
export const BUILTIN_SAMPLER_PLUGINS: readonly SamplerPlugin[] = [
  {
    apiVersion: 1,
    name: "chain",
    description: "the standard chain from SamplingParams (params.ts)",
    create: (options = {}) => createSamplerChain(options as SamplingParams),
  },
  plugin("greedy", "argmax", {}, () => new GreedySampler()),
  plugin(
    "temp",
    "divides logits by a temperature",
    { temperature: any },
    (o) => new TemperatureSampler(num(o, "temperature")),
  ),
  plugin("top-k", "keeps the k best", { k: any }, (o) => new TopKSampler(num(o, "k"))),
  plugin(
    "top-p",
    "nucleus",
    { p: any, minKeep: any.optional() },
    (o) => new TopPSampler(num(o, "p"), maybe(o, "minKeep")),
  ),
  plugin(
    "min-p",
    "relative probability floor",
    { p: any, minKeep: any.optional() },
    (o) => new MinPSampler(num(o, "p"), maybe(o, "minKeep")),
  ),
  plugin(
    "typical",
    "locally typical",
    { p: any, minKeep: any.optional() },
    (o) => new TypicalPSampler(num(o, "p"), maybe(o, "minKeep")),
  ),
  plugin(
    "penalties",
    "repeat, frequency and presence penalties",
    {
      lastN: any.optional(),
      repeat: any.optional(),
      frequency: any.optional(),
      presence: any.optional(),
    },
    (o) => new PenaltiesSampler(o as ConstructorParameters<typeof PenaltiesSampler>[0]),
  ),
  plugin(
    "logit-bias",
    "adds a bias per token id",
    { bias: any },
    (o) => new LogitBiasSampler(o.bias as LogitBias),
  ),
  plugin(
    "dist",
    "samples from the softmax (seeded)",
    { seed: any.optional() },
    (o) => new DistSampler(maybe(o, "seed")),
  ),
];

/** Registers the built-in sampler plugins. */
export function registerDefaultSamplers(registry: PluginRegistry): void {
  for (const p of BUILTIN_SAMPLER_PLUGINS) registry.registerSampler(p);
}
