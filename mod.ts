/**
 * ROCmForge: run GGUF language models from TypeScript, fast on AMD GPUs through HIP, with
 * a CPU backend that takes over transparently when the GPU, its library, its memory or one
 * of its ops is missing.
 *
 * ```ts
 * import { createSession, generate, loadModel } from "./mod.ts";
 *
 * const model = await loadModel("stories260K.gguf", { backend: "auto" });
 * const session = createSession(model);
 * for await (const chunk of generate(session, "Once upon a time", { maxTokens: 32 })) {
 *   console.log(chunk.text);
 * }
 * session.dispose();
 * model.dispose();
 * ```
 *
 * Backends, samplers and tokenizers are plugins: see `PluginRegistry`, `Backend`,
 * `SamplerPlugin` and `TokenizerPlugin`, and the examples in plugins/.
 *
 * @module
 */

// Engine
export {
  createRegistry,
  createSession,
  loadModel,
  type LoadModelOptions,
  registry,
} from "./src/api.ts";
export { editDistance, parseOptions } from "./src/core/options.ts";
export { YIELD_INTERVAL_MS } from "./src/core/generate.ts";
export {
  type LoadedPlugins,
  loadPluginModule,
  registerPluginExports,
} from "./src/core/plugin_loader.ts";
export {
  cachedPathOf,
  pullModel,
  resolveModelFile,
  type ResolveOptions,
} from "./src/models/resolve.ts";
export {
  type CachedModel,
  listCachedModels,
  modelCacheDir,
  removeCachedModel,
} from "./src/models/cache.ts";
export { isModelUri, type ModelUri, parseModelUri } from "./src/models/uri.ts";
export type { DownloadProgress, DownloadResult } from "./src/runtime/download.ts";
export { type LoadProgress, Model, type ModelLoadOptions } from "./src/core/model.ts";
export { Session, type SessionOptions } from "./src/core/session.ts";
export {
  BatchContext,
  type ContextOptions,
  createContext,
  Sequence,
  type SequenceOptions,
} from "./src/core/batch_context.ts";
export { embed, type EmbedOptions, poolHidden, type Pooling } from "./src/core/embed.ts";
export {
  commonPrefix,
  evalPrompt,
  type FinishReason,
  generate,
  type GenerateChunk,
  type GenerateOptions,
  type GenerateResult,
} from "./src/core/generate.ts";
export { logSumExp, topLogprobs } from "./src/core/logprobs.ts";
export { StopMatcher } from "./src/core/stop_strings.ts";

// Plugin contracts
export {
  API_VERSIONS,
  PluginRegistry,
  type SamplerPlugin,
  type TokenizerPlugin,
} from "./src/core/registry.ts";
export {
  type Backend,
  BACKEND_API_VERSION,
  type BackendContext,
  type BackendProbe,
  type ComputeRequest,
  type DeviceInfo,
  kvBytes,
  type KVSpec,
  type KVStore,
  type SequenceRows,
  type WeightTensor,
} from "./src/core/backend.ts";
export { type BatchedNode, batchGraph } from "./src/core/batch_graph.ts";
export {
  type Graph,
  GRAPH_VERSION,
  GraphBuilder,
  type GraphNode,
  type GraphValue,
  nodeInputs,
  nodeWeights,
  OP_KINDS,
  type OpKind,
  OUTPUT_MODES,
  type OutputMode,
  type RopeMode,
  type RopeParams,
} from "./src/core/graph.ts";
export { type CpuBackendOptions, createCpuBackend } from "./src/backends/cpu/backend.ts";
export {
  type Architecture,
  ARCHITECTURE_API_VERSION,
  type ArchitectureSource,
  type ModelGraph,
  type TensorShape,
} from "./src/core/architecture.ts";
export { buildLlamaGraph, llamaArchitecture } from "./src/model/llama.ts";
export { BUILTIN_ARCHITECTURES, builtinArchitectures } from "./src/model/mod.ts";

// Samplers
export * from "./src/samplers/mod.ts";

// Tokenizers
export { tokenizerFromMetadata } from "./src/tokenizers/from_gguf.ts";
export {
  type EncodeOptions,
  type StreamDecoder,
  type Tokenizer,
  TOKENIZER_API_VERSION,
} from "./src/tokenizers/types.ts";
export * from "./src/tokenizers/chat_template.ts";

// GGUF
export { GGMLType, type GGMLTypeName, typeByName, typeTraits } from "./src/gguf/ggml_types.ts";
export {
  findTensor,
  type GGUFFile,
  type GGUFMetaEntry,
  type GGUFTensorInfo,
  GGUFValueType,
  meta,
  type MetaValue,
  plainMetadata,
  tensorData,
} from "./src/gguf/gguf_file.ts";
export { openGGUF, parseGGUF, readGGUF } from "./src/gguf/reader.ts";
export { writeGGUF, writeGGUFChunks } from "./src/gguf/writer.ts";
export { buildGGUF, GGUFBuilder } from "./src/gguf/builder.ts";
export {
  type ModelConfig,
  modelConfigFromGGUF,
  modelConfigFromMetadata,
} from "./src/gguf/model_config.ts";
export { estimateMemory, type MemoryEstimate } from "./src/gguf/memory_estimate.ts";
export {
  bf16ToF32,
  canDequantize,
  canQuantize,
  dequantize,
  dequantizeRow,
  f16ToF32,
  f32ToBf16,
  f32ToF16,
  quantize,
} from "./src/gguf/quants/mod.ts";

// Errors
export * from "./src/core/errors.ts";

// Constrained output: GBNF grammars, JSON Schema, the grammar sampler
export * from "./src/grammar/mod.ts";

// Context store: SQLite collections with FTS5, exact and HNSW vector search
export * from "./src/context/mod.ts";

// Chat: ChatSession, tool calls
export * from "./src/chat/mod.ts";
