/**
 * Strict schemas of the facade's options: `createSession` (SessionOptions), `createContext`
 * (ContextOptions) and its `sequence` (SequenceOptions), and `loadModel` (LoadModelOptions). Each shape is typed `satisfies Record<keyof ..., ...>`, so a field
 * added to an options interface without a schema entry here fails to compile instead of
 * being rejected at run time.
 *
 * @module
 */
import { z } from "../deps/zod.ts";
import { opt } from "./options.ts";
import type { ContextOptions, SequenceOptions } from "./batch_context.ts";
import type { SessionOptions } from "./session.ts";
import type { ModelLoadOptions } from "./model.ts";

type Shape<T> = Record<keyof Required<T>, z.ZodType>;

const sessionShape = {
  contextLength: opt.int(1),
  contextShift: z.strictObject({ keep: z.number().int().min(0) }).optional(),
  batchSize: opt.int(1),
  gate: z.custom<unknown>((v) => v !== null && typeof v === "object", {
    message: "gate must be a ForwardGate object",
  }).optional(),
} satisfies Shape<SessionOptions>;

/** Schema of SessionOptions. */
export const sessionOptionsSchema = z.strictObject(sessionShape);

const contextShape = {
  sequences: opt.int(1, 4096),
  contextLength: sessionShape.contextLength,
  batchSize: sessionShape.batchSize,
  gate: sessionShape.gate,
  log: opt.fn("log"),
} satisfies Shape<ContextOptions>;

/** Schema of ContextOptions (createContext). */
export const contextOptionsSchema = z.strictObject(contextShape);

/** Schema of SequenceOptions (BatchContext.sequence). */
export const sequenceOptionsSchema = z.strictObject(
  {
    contextShift: sessionShape.contextShift,
  } satisfies Shape<SequenceOptions>,
);

/** The ModelLoadOptions fields loadModel passes through (the rest it sets itself). */
export type PassedLoadOptions = Omit<
  ModelLoadOptions,
  "backends" | "architectures" | "fallback" | "log"
>;

const loadShape = {
  contextLength: opt.int(1, 1 << 20),
  gpuLayers: opt.int(0),
  // Checked by parseKVTypes when the model loads (it names the valid types).
  kvType: z.union([
    z.string(),
    z.strictObject({ k: z.string().optional(), v: z.string().optional() }),
  ])
    .optional(),
  onProgress: opt.fn("onProgress"),
  signal: opt.signal(),
  tokenizer: opt.fn("tokenizer"),
} satisfies Shape<PassedLoadOptions>;

/** Schema of LoadModelOptions (`backend`, `registry` and `log` are loadModel's own). */
export const loadModelOptionsSchema = z.strictObject({
  ...loadShape,
  backend: z.string().min(1).optional(),
  registry: z.custom<unknown>((v) => v !== null && typeof v === "object", {
    message: "registry must be a PluginRegistry",
  }).optional(),
  log: opt.fn("log"),
});
