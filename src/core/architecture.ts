/**
 * The architecture plugin contract: an architecture turns a GGUF's configuration and tensor
 * table into forward graphs. Architectures register in the plugin registry keyed by the
 * `general.architecture` values they claim; core holds no architecture names.
 *
 * Optional members and their defaults:
 * - `ropeType(arch)`: the RoPE layout llama.cpp uses for that architecture; default: the
 *   GGUF reader's table of llama.cpp's rope types, else "normal".
 * - `description`: none.
 *
 * A plugin can reuse a registered builder:
 * `registry.registerArchitecture({ ...registry.architecture("llama"), name: "myllama", architectures: ["myllama"] })`.
 *
 * @module
 */
import type { GGMLType } from "../gguf/ggml_types.ts";
import type { MetaValue } from "../gguf/gguf_file.ts";
import type { ModelConfig, RopeType } from "../gguf/model_config.ts";
import type { Graph, OutputMode } from "./graph.ts";

/** Version of this contract; an architecture declares the version it implements. */
export const ARCHITECTURE_API_VERSION = 1;

/** A tensor of the file as an architecture sees it: ggml dims and type. */
export interface TensorShape {
  readonly dims: readonly number[];
  readonly type: GGMLType;
}

/** What `Architecture.build` knows about how the model will run. */
export interface BuildOptions {
  readonly contextLength: number;
}

/** One model's graph factory, returned by `Architecture.build`. */
export interface ModelGraph {
  /**
   * The forward graph for `nTokens` tokens; `output` "last" computes only the last row's
   * logits, "all" every row's, "hidden" every row's final normalized hidden state.
   */
  graph(nTokens: number, output: OutputMode): Graph;
  /** Output modes the graphs have (default all three; an encoder without a head: "hidden"). */
  readonly outputs?: readonly OutputMode[];
  /**
   * false for encoders (BERT): attention is non-causal within one batch and nothing is
   * cached, so a session evaluates each input whole, from position 0. Default true.
   */
  readonly causal?: boolean;
  /** How llama.cpp pools this model's hidden states into an embedding (its pooling_type). */
  readonly pooling?: "none" | "mean" | "cls" | "last";
}

/** An architecture plugin. */
export interface Architecture {
  readonly apiVersion: 1;
  /** Plugin name (`registry.architecture(name)`). */
  readonly name: string;
  /** `general.architecture` values this plugin runs. */
  readonly architectures: readonly string[];
  readonly description?: string;
  /** RoPE layout for `arch` (see the module doc for the default). */
  ropeType?(arch: string): RopeType;
  /**
   * Checks the tensors the graphs need (a missing tensor or a wrong shape is a typed
   * ModelConfigError naming it) and returns the graph factory.
   */
  build(
    config: ModelConfig,
    tensors: ReadonlyMap<string, TensorShape>,
    /** The file's plain metadata, for architecture-specific keys. */
    metadata: ReadonlyMap<string, MetaValue>,
    /** How the model will run: the context length sessions default to. */
    options: BuildOptions,
  ): ModelGraph;
}

/** Finds the architecture plugin for a `general.architecture` value. */
export interface ArchitectureSource {
  /** Throws a ModelConfigError UNSUPPORTED_ARCHITECTURE listing the registered ones. */
  architectureFor(arch: string): Architecture;
}
