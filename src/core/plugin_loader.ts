/**
 * Loads a plugin module (by path or URL) into a registry. A module either
 *
 * - has a default export that is a function: it is called with the registry and registers
 *   what it likes (`export default (registry) => registry.registerSampler(...)`), or
 * - exports plugin objects (named exports, or a default object / array): each is registered
 *   by its shape: `createContext` = backend, `matches` = tokenizer, `build` + `architectures`
 *   = architecture, `create` = sampler.
 *
 * A module that exports none of these, or a plugin that fails validation, is a PluginError.
 *
 * @module
 */
import { importModule } from "../runtime/import_module.ts";
import type { Architecture } from "./architecture.ts";
import type { Backend } from "./backend.ts";
import { PluginError } from "./errors.ts";
import type { PluginRegistry, SamplerPlugin, TokenizerPlugin } from "./registry.ts";

/** What a plugin module registered (for messages and tests). */
export interface LoadedPlugins {
  readonly module: string;
  /** "function" when the default export registered itself, else "kind:name" per plugin. */
  readonly registered: readonly string[];
}

type Kind = "backend" | "tokenizer" | "architecture" | "sampler";

function kindOf(v: unknown): Kind | undefined {
  if (v === null || typeof v !== "object" || !("apiVersion" in v) || !("name" in v)) {
    return undefined;
  }
  if ("createContext" in v || "probe" in v) return "backend";
  if ("matches" in v) return "tokenizer";
  if ("build" in v && "architectures" in v) return "architecture";
  if ("create" in v) return "sampler";
  return undefined;
}

/** Registers one plugin object of a known kind. */
function register(registry: PluginRegistry, kind: Kind, p: unknown): void {
  if (kind === "backend") registry.registerBackend(p as Backend);
  else if (kind === "tokenizer") registry.registerTokenizer(p as TokenizerPlugin);
  else if (kind === "architecture") registry.registerArchitecture(p as Architecture);
  else registry.registerSampler(p as SamplerPlugin);
}

/** Registers what a module namespace exports (see the module doc). */
export async function registerPluginExports(
  registry: PluginRegistry,
  ns: Record<string, unknown>,
  module = "plugin module",
): Promise<LoadedPlugins> {
  if (typeof ns.default === "function") {
    await ns.default(registry);
    return { module, registered: ["function"] };
  }
  const values = Object.values(ns).flatMap((v) => Array.isArray(v) ? v : [v]);
  const found = values.map((v) => [kindOf(v), v] as const).filter(([k]) => k !== undefined);
  if (found.length === 0) {
    throw new PluginError(
      "PLUGIN_INVALID",
      `${module} exports no plugin: expected a default export function (registry) => void, ` +
        "or exported backend, sampler, tokenizer or architecture plugin objects",
      { actual: Object.keys(ns), module },
    );
  }
  const registered: string[] = [];
  for (const [kind, p] of found) {
    register(registry, kind!, p);
    registered.push(`${kind}:${(p as { name: string }).name}`);
  }
  return { module, registered };
}

/** Imports `spec` (a path or URL) and registers its plugins into `registry`. */
export async function loadPluginModule(
  registry: PluginRegistry,
  spec: string,
): Promise<LoadedPlugins> {
  let ns: Record<string, unknown>;
  try {
    ns = await importModule(spec);
  } catch (e) {
    throw new PluginError(
      "PLUGIN_NOT_FOUND",
      `cannot import plugin module ${spec}: ${e instanceof Error ? e.message : String(e)}`,
      { actual: spec },
      { cause: e },
    );
  }
  return await registerPluginExports(registry, ns, spec);
}
