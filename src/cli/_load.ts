/**
 * Shared model loading for CLI commands: progress and placement notices go to stderr.
 *
 * @module
 */
import { loadModel } from "../api.ts";
import type { Model } from "../core/model.ts";
import { UsageError } from "./args.ts";
import type { CommandIO } from "./command.ts";

/** Common flags of commands that load a model. */
export const MODEL_FLAGS = {
  model: { type: "string", short: "m", valueName: "MODEL", description: "GGUF model file" },
  backend: {
    type: "string",
    default: "auto",
    valueName: "NAME",
    description: "auto | cpu | hip (auto falls back to the CPU with a notice)",
  },
  ctx: { type: "integer", short: "c", valueName: "N", description: "context length" },
  "gpu-layers": {
    type: "integer",
    valueName: "N",
    description: "most transformer layers to offload (default: all that fit)",
  },
} as const;

/** Loads `--model` with the given backend choice, reporting to stderr. */
export async function loadFromFlags(
  flags: { model?: string; backend: string; ctx?: number; "gpu-layers"?: number },
  io: CommandIO,
): Promise<Model> {
  if (!flags.model) throw new UsageError("missing -m MODEL", { expected: "-m MODEL.gguf" });
  if (flags.ctx !== undefined && flags.ctx < 1) {
    throw new UsageError(`--ctx must be >= 1, not ${flags.ctx}`, { actual: flags.ctx });
  }
  const t0 = performance.now();
  const model = await loadModel(flags.model, {
    backend: flags.backend,
    contextLength: flags.ctx,
    gpuLayers: flags["gpu-layers"],
    log: (line) => io.stderr(line + "\n"),
  });
  const ms = performance.now() - t0;
  io.stderr(
    `loaded ${flags.model} (${model.config.arch}, ${model.config.blockCount} layers) in ${
      ms.toFixed(0)
    } ms; ${model.placement}\n`,
  );
  return model;
}
