/**
 * The engine facade used by mod.ts, the CLI and the server: a default plugin registry with
 * the built-in backends, and `loadModel` that turns a backend choice ("auto", "cpu", "hip"
 * or any registered name) into a placement policy.
 *
 * @module
 */
import { registerDefaultBackends } from "./backends/defaults.ts";
import { PluginError } from "./core/errors.ts";
import { Model, type ModelLoadOptions } from "./core/model.ts";
import { PluginRegistry } from "./core/registry.ts";
import { Session, type SessionOptions } from "./core/session.ts";
import { builtinArchitectures, registerDefaultArchitectures } from "./model/mod.ts";
import type { Architecture, ArchitectureSource } from "./core/architecture.ts";
import { ModelConfigError } from "./core/errors.ts";
import { loadModelOptionsSchema, sessionOptionsSchema } from "./core/api_options.ts";
import { parseOptions } from "./core/options.ts";
import { writeStderr } from "./runtime/host.ts";
import { checkModelFile } from "./runtime/model_file.ts";
import { isModelUri, resolveModelFile } from "./models/resolve.ts";
import { type CpuBackendOptions, createCpuBackend } from "./backends/cpu/backend.ts";
import { registerDefaultSamplers } from "./samplers/builtin_plugins.ts";

/** The process-wide registry, with the built-in backends registered. */
export const registry: PluginRegistry = new PluginRegistry();
registerDefaultBackends(registry);
registerDefaultArchitectures(registry);
registerDefaultSamplers(registry);

/**
 * A fresh registry with the built-in backends, architectures and samplers, e.g. for a CPU
 * backend with its own options (`createRegistry({ cpu: { threads: 4 } })`) or to load
 * plugins without touching the process-wide `registry`.
 */
export function createRegistry(opts: { readonly cpu?: CpuBackendOptions } = {}): PluginRegistry {
  const reg = new PluginRegistry();
  registerDefaultBackends(reg);
  if (opts.cpu) reg.registerBackend(createCpuBackend(opts.cpu), { replace: true });
  registerDefaultArchitectures(reg);
  registerDefaultSamplers(reg);
  return reg;
}

/** Options of loadModel. */
export interface LoadModelOptions
  extends Omit<ModelLoadOptions, "backends" | "architectures" | "fallback" | "log"> {
  /**
   * "auto" (default): every available backend in priority order, falling back to the CPU
   * with a one-line notice. "cpu": the CPU only. Another name: that backend, where any
   * fallback (unavailable, out of memory, unsupported op) is a typed error instead.
   */
  readonly backend?: string;
  /** Registry to draw backends, architectures and tokenizer plugins from (default: `registry`). */
  readonly registry?: PluginRegistry;
  /** Receives notices; default writes them to stderr. Pass `() => {}` to silence. */
  readonly log?: (line: string) => void;
}

/**
 * Loads a GGUF model. Every failure rejects the promise: an unknown or bad option
 * (InvalidArgumentError naming the closest valid key), a path that is missing, a folder,
 * unreadable or too small (ModelFileError), a bad backend name (PluginError). `path` may be
 * a model URI (`hf://OWNER/REPO/FILE.gguf`, `https://...`), resolved by resolveModelFile.
 */
export async function loadModel(path: string, opts: LoadModelOptions = {}): Promise<Model> {
  parseOptions(loadModelOptionsSchema, opts, "loadModel option");
  // A model URI (hf://, https://) resolves through the model cache, downloading when absent.
  const file = isModelUri(path) ? await resolveModelFile(path, { signal: opts.signal }) : path;
  checkModelFile(file);
  const reg = opts.registry ?? registry;
  const choice = opts.backend ?? "auto";
  const all = reg.backends();
  if (all.length === 0) {
    throw new PluginError("PLUGIN_NOT_FOUND", "the plugin registry has no backends", {
      expected: ">= 1 backend (the CPU last)",
      actual: 0,
    });
  }
  const cpu = all[all.length - 1];
  let backends = all;
  if (choice === cpu.name) backends = [cpu];
  else if (choice !== "auto") {
    const b = reg.backend(choice);
    backends = [b, cpu];
  }
  return await Model.load(file, {
    ...opts,
    backends,
    architectures: withBuiltins(reg),
    fallback: choice === "auto" || choice === cpu.name ? "auto" : "strict",
    log: opts.log ?? ((line) => writeStderr(line + "\n")),
    tokenizer: opts.tokenizer ?? ((md) => reg.tokenizerFor(md)?.create(md)),
  });
}

/**
 * A registry's architectures, then the built-in ones (so a registry made with `new
 * PluginRegistry()` for custom backends still runs the built-in architectures; a plugin that
 * claims a built-in's name takes precedence).
 */
function withBuiltins(reg: PluginRegistry): ArchitectureSource {
  return {
    architectureFor(arch: string): Architecture {
      try {
        return reg.architectureFor(arch);
      } catch (e) {
        if (!(e instanceof ModelConfigError)) throw e;
        try {
          return builtinArchitectures.architectureFor(arch);
        } catch {
          throw e;
        }
      }
    },
  };
}

/** Creates a session over a model; options are checked strictly (unknown keys are errors). */
export function createSession(model: Model, opts: SessionOptions = {}): Session {
  parseOptions(sessionOptionsSchema, opts, "session option");
  return new Session(model, opts);
}
