/**
 * The built-in architecture plugins, one file per family.
 *
 * @module
 */
import type { Architecture, ArchitectureSource } from "../core/architecture.ts";
import { type PluginRegistry, unsupportedArchitecture } from "../core/registry.ts";
import { bertArchitecture, nomicBertArchitecture } from "./bert.ts";
import { gemma2Architecture, gemma3Architecture } from "./gemma.ts";
import { gptOssArchitecture } from "./gpt_oss.ts";
import { llamaArchitecture } from "./llama.ts";
import { phi3Architecture } from "./phi3.ts";
import { qwen3Architecture, qwen3MoeArchitecture } from "./qwen3.ts";

/** Every built-in architecture plugin. */
export const BUILTIN_ARCHITECTURES: readonly Architecture[] = [
  llamaArchitecture,
  qwen3Architecture,
  qwen3MoeArchitecture,
  gemma2Architecture,
  gemma3Architecture,
  phi3Architecture,
  gptOssArchitecture,
  bertArchitecture,
  nomicBertArchitecture,
];

/** Resolves `general.architecture` values against the built-in plugins only. */
export const builtinArchitectures: ArchitectureSource = {
  architectureFor(arch: string): Architecture {
    const a = BUILTIN_ARCHITECTURES.find((x) => x.architectures.includes(arch));
    if (a) return a;
    throw unsupportedArchitecture(arch, BUILTIN_ARCHITECTURES.flatMap((x) => x.architectures));
  },
};

/** Registers the built-in architectures into `registry`. */
export function registerDefaultArchitectures(registry: PluginRegistry): void {
  for (const a of BUILTIN_ARCHITECTURES) registry.registerArchitecture(a);
}
