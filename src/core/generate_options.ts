/**
 * The call-time checks of `generate()`: a strict schema for GenerateOptions (an unknown key
 * names the closest valid one), the prompt's type, a ready sampler's shape, and the token a
 * sampler selects. Everything here throws before generation starts (or, for the selected
 * token, at the step that went wrong) with a typed error.
 *
 * @module
 */
import { z } from "../deps/zod.ts";
import { samplerSchema } from "./registry.ts";
import { validateSamplingParams } from "../samplers/params.ts";
import type { Candidates, Sampler } from "../samplers/types.ts";
import { InvalidArgumentError, PluginError } from "./errors.ts";
import type { GenerateOptions } from "./generate.ts";
import { opt, parseOptions } from "./options.ts";

/** Schema of GenerateOptions (sampling and sampler are checked by their own validators). */
export const generateOptionsSchema = z.strictObject(
  {
    maxTokens: opt.int(0),
    sampling: z.unknown().optional(),
    sampler: z.unknown().optional(),
    stop: z.array(z.string().min(1, { message: "a stop string must not be empty" })).optional(),
    signal: opt.signal(),
    addSpecial: opt.bool(),
    parseSpecial: opt.bool(),
    logprobs: opt.int(0, 1 << 20),
    ignoreEos: opt.bool(),
  } satisfies Record<keyof Required<GenerateOptions>, z.ZodType>,
);

/** Checks a ready sampler's shape (a plugin passed straight to generate). */
export function validateSampler(s: unknown): Sampler {
  const r = samplerSchema.safeParse(s);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    const name = s !== null && typeof s === "object" && "name" in s ? String(s.name) : "?";
    throw new PluginError("PLUGIN_INVALID", `invalid sampler ${name}: ${issues.join("; ")}`, {
      actual: issues,
    });
  }
  return s as Sampler;
}

/** Checks generate()'s arguments; throws InvalidArgumentError / PluginError. */
export function checkGenerateArgs(prompt: unknown, opts: GenerateOptions): void {
  const isIds = Array.isArray(prompt) && prompt.every((t) => typeof t === "number");
  if (typeof prompt !== "string" && !isIds) {
    throw new InvalidArgumentError("prompt must be a string or an array of token ids", {
      field: "prompt",
      expected: "string | number[]",
      actual: Array.isArray(prompt) ? "array with non-numbers" : typeof prompt,
    });
  }
  parseOptions(generateOptionsSchema, opts, "generate option");
  if (opts.sampler !== undefined && opts.sampling !== undefined) {
    throw new InvalidArgumentError("give sampling or sampler, not both", {
      field: "sampler",
      expected: "one of sampling, sampler",
    });
  }
  if (opts.sampling !== undefined) validateSamplingParams(opts.sampling, "sampling");
  if (opts.sampler !== undefined) validateSampler(opts.sampler);
}

/** The token a sampler selected; a selection outside the candidates is a PluginError. */
export function selectedToken(s: Sampler, c: Candidates, vocab: number): number {
  const i = c.selected;
  const id = Number.isInteger(i) && i >= 0 && i < c.size ? c.ids[i] : undefined;
  if (id === undefined || !(id >= 0 && id < vocab)) {
    throw new PluginError(
      "PLUGIN_INVALID",
      `sampler ${s.name} selected candidate ${i}, outside the ${c.size} candidates`,
      { expected: `0..${c.size - 1}`, actual: i, sampler: s.name },
    );
  }
  return id;
}
