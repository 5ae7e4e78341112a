/**
 * Alias architecture: an example **architecture plugin** that runs GGUF files whose
 * `general.architecture` is a new name (a fork or a fine-tuning tool's rename, e.g.
 * "myllama") with an existing, registered builder — and a helper that renames the
 * architecture of a GGUF file (its `general.architecture` and every `<arch>.` key).
 *
 * ```ts
 * import { createCpuBackend, loadModel, PluginRegistry, registry } from "../../mod.ts";
 * import { aliasArchitecture } from "./mod.ts";
 *
 * const mine = new PluginRegistry();
 * mine.registerBackend(createCpuBackend());
 * mine.registerArchitecture(aliasArchitecture(registry.architecture("llama"), ["myllama"]));
 * const model = await loadModel("myllama.gguf", { registry: mine });
 * ```
 *
 * This file imports only from the public API (mod.ts).
 *
 * @module
 */
import {
  type Architecture,
  type GGUFFile,
  type GGUFMetaEntry,
  GGUFValueType,
  InvalidArgumentError,
  tensorData,
  writeGGUF,
} from "../../mod.ts";

/** `base` under a new plugin name, claiming `names` as `general.architecture` values. */
export function aliasArchitecture(
  base: Architecture,
  names: readonly string[],
  pluginName = names[0],
): Architecture {
  if (names.length === 0) {
    throw new InvalidArgumentError("an alias needs at least one architecture name", {
      expected: ">= 1 name",
      actual: 0,
    });
  }
  // The base builder, reused as it is: same graphs, same tensors, same RoPE layout rules.
  return {
    ...base,
    name: pluginName,
    architectures: [...names],
    description: `alias of ${base.name}`,
  };
}

/**
 * The bytes of `file` with its architecture renamed to `to`: `general.architecture` and every
 * `<from>.` metadata key; tensors are copied unchanged.
 */
export function renameArchitecture(file: GGUFFile, to: string): Uint8Array {
  const from = file.metadata.get("general.architecture")?.value;
  if (typeof from !== "string") {
    throw new InvalidArgumentError("file has no general.architecture string", {
      field: "general.architecture",
    });
  }
  const metadata = new Map<string, GGUFMetaEntry>();
  for (const [k, e] of file.metadata) {
    if (k === "general.architecture") {
      metadata.set(k, { type: GGUFValueType.STRING, value: to });
    } else metadata.set(k.startsWith(`${from}.`) ? `${to}.${k.slice(from.length + 1)}` : k, e);
  }
  return writeGGUF({
    version: file.version,
    metadata,
    alignment: file.alignment,
    tensors: file.tensors.map((t) => ({
      info: { name: t.name, dims: [...t.dims], type: t.type },
      data: () => tensorData(file, t),
    })),
  });
}
