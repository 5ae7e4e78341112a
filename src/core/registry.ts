/**
 * The plugin registry. Backends, samplers and tokenizers register here; each plugin
 * declares the `apiVersion` it implements, and its manifest is validated with zod so a bad
 * plugin fails at registration with a PluginError that says exactly what is wrong.
 *
 * @module
 */
import { z } from "../deps/zod.ts";
import type { MetaValue } from "../gguf/gguf_file.ts";
import type { Sampler } from "../samplers/types.ts";
import {
  type Architecture,
  ARCHITECTURE_API_VERSION,
  type ArchitectureSource,
} from "./architecture.ts";
import type { Tokenizer } from "../tokenizers/types.ts";
import { type Backend, BACKEND_API_VERSION } from "./backend.ts";
import { ModelConfigError, PluginError } from "./errors.ts";

/** Plugin API versions this build implements, per kind. */
export const API_VERSIONS = {
  backend: BACKEND_API_VERSION,
  sampler: 1,
  tokenizer: 1,
  architecture: ARCHITECTURE_API_VERSION,
} as const;

/** A sampler plugin: a named factory of samplers. */
export interface SamplerPlugin {
  readonly apiVersion: 1;
  readonly name: string;
  readonly description?: string;
  create(options?: Record<string, unknown>): Sampler;
}

/** A tokenizer plugin: claims GGUF metadata it understands and builds a tokenizer. */
export interface TokenizerPlugin {
  readonly apiVersion: 1;
  readonly name: string;
  matches(metadata: ReadonlyMap<string, MetaValue>): boolean;
  create(metadata: ReadonlyMap<string, MetaValue>): Tokenizer;
}

const fn = (what: string) =>
  z.custom<(...a: unknown[]) => unknown>((v) => typeof v === "function", {
    message: `${what} must be a function`,
  });
const name = z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, {
  message: "name must be 1-64 chars of a-z, 0-9, _ . - starting with a letter or digit",
});
const version = (v: number) =>
  z.number().refine((x) => x === v, { message: `apiVersion must be ${v}` });

const backendSchema = z.object({
  apiVersion: version(API_VERSIONS.backend),
  name,
  priority: z.number().finite().optional(),
  probe: fn("probe"),
  supportsOp: fn("supportsOp"),
  createContext: fn("createContext"),
  dispose: fn("dispose"),
});
const samplerPluginSchema = z.object({
  apiVersion: version(API_VERSIONS.sampler),
  name,
  description: z.string().optional(),
  create: fn("create"),
});
/** Schema of a Sampler instance (what a sampler plugin's create() returns). */
export const samplerSchema = z.object({
  apiVersion: version(1),
  name: z.string().min(1),
  apply: fn("apply"),
  accept: fn("accept").optional(),
  reset: fn("reset").optional(),
  clone: fn("clone").optional(),
});
const tokenizerPluginSchema = z.object({
  apiVersion: version(API_VERSIONS.tokenizer),
  name,
  matches: fn("matches"),
  create: fn("create"),
});

const architectureSchema = z.object({
  apiVersion: version(API_VERSIONS.architecture),
  name,
  architectures: z.array(z.string().min(1).max(64)).min(1, {
    message: "architectures must name at least one general.architecture value",
  }),
  description: z.string().optional(),
  ropeType: fn("ropeType").optional(),
  build: fn("build"),
});

function validate<T>(kind: string, schema: z.ZodType, value: unknown): T {
  if (value === null || typeof value !== "object") {
    throw new PluginError("PLUGIN_INVALID", `${kind} plugin must be an object`, {
      expected: "object",
      actual: value === null ? "null" : typeof value,
    });
  }
  const v = value as { apiVersion?: unknown; name?: unknown };
  const want = API_VERSIONS[kind as keyof typeof API_VERSIONS];
  if (v.apiVersion !== want) {
    throw new PluginError(
      "PLUGIN_API_VERSION",
      `${kind} plugin ${String(v.name)} declares apiVersion ${
        String(v.apiVersion)
      }; this build implements ${want}`,
      { expected: want, actual: v.apiVersion },
    );
  }
  const r = schema.safeParse(value);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new PluginError(
      "PLUGIN_INVALID",
      `invalid ${kind} plugin ${String(v.name)}: ${issues.join("; ")}`,
      {
        actual: issues,
      },
    );
  }
  return value as T;
}

/** Holds registered plugins. */
export class PluginRegistry implements ArchitectureSource {
  private readonly architectureMap = new Map<string, Architecture>();
  private readonly backendMap = new Map<string, Backend>();
  private readonly samplerMap = new Map<string, SamplerPlugin>();
  private readonly tokenizerMap = new Map<string, TokenizerPlugin>();

  private add<T>(map: Map<string, T>, kind: string, nameOf: string, p: T, replace: boolean): void {
    if (map.has(nameOf) && !replace) {
      throw new PluginError("PLUGIN_DUPLICATE", `${kind} plugin ${nameOf} is already registered`, {
        actual: nameOf,
      });
    }
    map.set(nameOf, p);
  }

  /** Registers a backend; `replace` swaps one of the same name. */
  registerBackend(b: Backend, opts: { replace?: boolean } = {}): void {
    const v = validate<Backend>("backend", backendSchema, b);
    this.add(this.backendMap, "backend", v.name, v, opts.replace ?? false);
  }

  /** Registers a sampler plugin. */
  registerSampler(p: SamplerPlugin, opts: { replace?: boolean } = {}): void {
    const v = validate<SamplerPlugin>("sampler", samplerPluginSchema, p);
    this.add(this.samplerMap, "sampler", v.name, v, opts.replace ?? false);
  }

  /** Registers a tokenizer plugin. */
  registerTokenizer(p: TokenizerPlugin, opts: { replace?: boolean } = {}): void {
    const v = validate<TokenizerPlugin>("tokenizer", tokenizerPluginSchema, p);
    this.add(this.tokenizerMap, "tokenizer", v.name, v, opts.replace ?? false);
  }

  /**
   * Registers an architecture plugin. Each `general.architecture` value may be claimed by one
   * plugin; `replace` swaps the plugin of the same name (and its claims).
   */
  registerArchitecture(a: Architecture, opts: { replace?: boolean } = {}): void {
    const v = validate<Architecture>("architecture", architectureSchema, a);
    const replace = opts.replace ?? false;
    for (const [other, p] of this.architectureMap) {
      if (other === v.name && replace) continue;
      const clash = p.architectures.find((x) => v.architectures.includes(x));
      if (clash !== undefined) {
        throw new PluginError(
          "PLUGIN_DUPLICATE",
          `architecture ${clash} is already run by plugin ${other}`,
          { actual: clash },
        );
      }
    }
    this.add(this.architectureMap, "architecture", v.name, v, replace);
  }

  /** A registered architecture plugin by its name (to reuse or wrap it). */
  architecture(name: string): Architecture {
    const a = this.architectureMap.get(name);
    if (!a) {
      throw new PluginError("PLUGIN_NOT_FOUND", `no architecture plugin named ${name}`, {
        expected: [...this.architectureMap.keys()].join(", "),
        actual: name,
      });
    }
    return a;
  }

  /** The plugin that runs `general.architecture` value `arch`. */
  architectureFor(arch: string): Architecture {
    for (const a of this.architectureMap.values()) if (a.architectures.includes(arch)) return a;
    throw unsupportedArchitecture(arch, this.architectureNames());
  }

  /** Every `general.architecture` value some registered plugin runs. */
  architectureNames(): string[] {
    return [...this.architectureMap.values()].flatMap((a) => a.architectures);
  }

  /** Backends by descending priority (the CPU, lowest, last). */
  backends(): Backend[] {
    return [...this.backendMap.values()].sort((a, b) => (b.priority ?? 0) - (a.priority ?? 0));
  }

  /** A backend by name. */
  backend(name: string): Backend {
    const b = this.backendMap.get(name);
    if (!b) {
      throw new PluginError("PLUGIN_NOT_FOUND", `no backend named ${name}`, {
        expected: [...this.backendMap.keys()].join(", "),
        actual: name,
      });
    }
    return b;
  }

  /** Creates a sampler from a registered plugin, validating what it returns. */
  createSampler(name: string, options?: Record<string, unknown>): Sampler {
    const p = this.samplerMap.get(name);
    if (!p) {
      throw new PluginError("PLUGIN_NOT_FOUND", `no sampler named ${name}`, {
        expected: [...this.samplerMap.keys()].join(", "),
        actual: name,
      });
    }
    return validate<Sampler>("sampler", samplerSchema, p.create(options));
  }

  /** Names of registered sampler plugins. */
  samplerNames(): string[] {
    return [...this.samplerMap.keys()];
  }

  /** The first tokenizer plugin that claims this metadata, if any. */
  tokenizerFor(md: ReadonlyMap<string, MetaValue>): TokenizerPlugin | undefined {
    for (const p of this.tokenizerMap.values()) if (p.matches(md)) return p;
    return undefined;
  }
}

/** The typed error for a `general.architecture` no plugin runs. */
export function unsupportedArchitecture(arch: string, known: readonly string[]): ModelConfigError {
  return new ModelConfigError(
    "UNSUPPORTED_ARCHITECTURE",
    `architecture ${arch} is not supported (registered: ${known.join(", ") || "none"})`,
    { actual: arch, expected: [...known] },
  );
}
