/**
 * Shared model loading for CLI commands (generate, score, serve): the model flags, the
 * command's plugin registry (`--plugin PATH`, repeatable; `-t/--threads` for the CPU
 * backend), model URIs pulled through the cache (`-m hf://OWNER/REPO/FILE.gguf`), and a
 * progress bar (terminal) or plain lines on stderr while loading.
 *
 * @module
 */
import { createRegistry, loadModel } from "../api.ts";
import type { Model } from "../core/model.ts";
import { InvalidArgumentError } from "../core/errors.ts";
import { loadPluginModule } from "../core/plugin_loader.ts";
import {
  isDefaultKV,
  KV_TYPES,
  type KVType,
  type KVTypes,
  kvTypesLabel,
  parseKVType,
} from "../gguf/kv_type.ts";
import type { PluginRegistry } from "../core/registry.ts";
import { isModelUri, resolveModelFile } from "../models/resolve.ts";
import { UsageError } from "./args.ts";
import type { CommandIO } from "./command.ts";
import { ProgressView } from "./progress.ts";

/** Common flags of commands that load a model. */
export const MODEL_FLAGS = {
  model: {
    type: "string",
    short: "m",
    valueName: "MODEL",
    description: "GGUF file, or hf://OWNER/REPO/FILE.gguf / https:// URL (pulled into the cache)",
  },
  backend: {
    type: "string",
    default: "auto",
    valueName: "NAME",
    description: "auto | cpu | hip | webgpu | a plugin's backend (auto falls back to the CPU)",
  },
  ctx: {
    type: "integer",
    short: "c",
    aliases: ["--ctx-size"],
    valueName: "N",
    description: "context length",
  },
  "gpu-layers": {
    type: "integer",
    aliases: ["-ngl", "--n-gpu-layers"],
    valueName: "N",
    description: "most transformer layers to offload (default: all that fit)",
  },
  "kv-type": {
    type: "string",
    valueName: "T",
    description: `KV cache type of K and V: ${KV_TYPES.join(" | ")} (default f16)`,
  },
  "kv-type-k": {
    type: "string",
    aliases: ["-ctk", "--cache-type-k"],
    valueName: "T",
    description: "KV cache type of K (overrides --kv-type)",
  },
  "kv-type-v": {
    type: "string",
    aliases: ["-ctv", "--cache-type-v"],
    valueName: "T",
    description: "KV cache type of V (overrides --kv-type)",
  },
  threads: {
    type: "integer",
    short: "t",
    valueName: "N",
    description: "CPU threads (default: all cores)",
  },
  plugin: {
    type: "string",
    multiple: true,
    valueName: "PATH",
    description: "plugin module (path or URL) registering backends, samplers, tokenizers or " +
      "architectures",
  },
} as const;

/** The parsed model flags. */
export interface ModelFlags {
  model?: string;
  backend: string;
  ctx?: number;
  "gpu-layers"?: number;
  "kv-type"?: string;
  "kv-type-k"?: string;
  "kv-type-v"?: string;
  threads?: number;
  plugin?: string[];
}

/**
 * The KV cache types of --kv-type / --kv-type-k / --kv-type-v (each K or V flag overrides
 * --kv-type); an unknown type is a UsageError (exit 2).
 */
export function kvTypesFromFlags(
  flags: Pick<ModelFlags, "kv-type" | "kv-type-k" | "kv-type-v">,
): KVTypes {
  const one = (flag: string, v: string | undefined, dflt: KVType): KVType => {
    if (v === undefined) return dflt;
    try {
      return parseKVType(v, flag);
    } catch (e) {
      if (!(e instanceof InvalidArgumentError)) throw e;
      throw new UsageError(e.message, e.facts);
    }
  };
  const both = one("--kv-type", flags["kv-type"], "f16");
  return {
    k: one("--kv-type-k", flags["kv-type-k"], both),
    v: one("--kv-type-v", flags["kv-type-v"], both),
  };
}

/** Checks the model flags that need no file (usage errors before anything loads). */
export function checkModelFlags(flags: ModelFlags): void {
  if (!flags.model) throw new UsageError("missing -m MODEL", { expected: "-m MODEL.gguf" });
  if (flags.ctx !== undefined && flags.ctx < 1) {
    throw new UsageError(`--ctx must be >= 1, not ${flags.ctx}`, { actual: flags.ctx });
  }
  if (flags["gpu-layers"] !== undefined && flags["gpu-layers"] < 0) {
    throw new UsageError(`--gpu-layers must be >= 0, not ${flags["gpu-layers"]}`, {
      actual: flags["gpu-layers"],
    });
  }
  if (flags.threads !== undefined && !(flags.threads >= 1 && flags.threads <= 256)) {
    throw new UsageError(`--threads must be in 1..256, not ${flags.threads}`, {
      actual: flags.threads,
    });
  }
  kvTypesFromFlags(flags);
}

/** The command's registry: the built-ins (CPU threads from `-t`), then every `--plugin`. */
export async function registryFromFlags(flags: ModelFlags): Promise<PluginRegistry> {
  const reg = createRegistry(
    flags.threads === undefined ? {} : { cpu: { threads: flags.threads } },
  );
  for (const p of flags.plugin ?? []) await loadPluginModule(reg, p);
  return reg;
}

/** The local file `--model` names, pulling a model URI into the cache first. */
export async function modelPathFromFlags(model: string, io: CommandIO): Promise<string> {
  if (!isModelUri(model)) return model;
  const view = new ProgressView(io, "pull");
  try {
    return await resolveModelFile(model, { onProgress: (p) => view.update(p) });
  } finally {
    view.done();
  }
}

/** Loads `--model` with the given backend choice, reporting to stderr. */
export async function loadFromFlags(
  flags: ModelFlags,
  io: CommandIO,
  registry?: PluginRegistry,
): Promise<Model> {
  checkModelFlags(flags);
  const reg = registry ?? await registryFromFlags(flags);
  const path = await modelPathFromFlags(flags.model!, io);
  const t0 = performance.now();
  const view = new ProgressView(io, "load");
  let model: Model;
  try {
    model = await loadModel(path, {
      backend: flags.backend,
      registry: reg,
      contextLength: flags.ctx,
      gpuLayers: flags["gpu-layers"],
      kvType: kvTypesFromFlags(flags),
      log: (line) => io.stderr(line + "\n"),
      onProgress: (p) => view.update(p),
    });
  } finally {
    view.done();
  }
  const ms = performance.now() - t0;
  io.stderr(
    `loaded ${flags.model} (${model.config.arch}, ${model.config.blockCount} layers) in ${
      ms.toFixed(0)
    } ms; ${model.placement}${
      isDefaultKV(model.kvTypes) ? "" : `; KV cache ${kvTypesLabel(model.kvTypes)}`
    }\n`,
  );
  return model;
}
