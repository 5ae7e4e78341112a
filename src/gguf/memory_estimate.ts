/**
 * Memory needed to run a model, computed from its GGUF before anything is allocated, so a
 * loader can refuse a load that cannot fit.
 *
 * - weights: the tensors' bytes (all non-block tensors plus the selected blocks' `blk.N.*`);
 * - KV cache: per layer, contextLength x headCountKV x (keyLength + valueLength) elements of
 *   kvType (f16 by default; q8_0 34 bytes per 32 elements, q4_0 18; K and V may differ);
 * - scratch: f32 activations for one batch of `batchSize` tokens (default 512):
 *   batch x (4 x embedding + 3 x feed_forward + heads x context + vocab) x 4 bytes, i.e.
 *   residual/norm/attention buffers, the FFN gate/up/act buffers, attention scores and logits;
 * - margin: 10% of (weights + KV + scratch) + 100 MiB.
 *
 * @module
 */
import { InvalidArgumentError } from "../core/errors.ts";
import type { GGUFFile } from "./gguf_file.ts";
import { kvBytesPerElement, type KVType, parseKVTypes } from "./kv_type.ts";
import { type ModelConfig, modelConfigFromGGUF } from "./model_config.ts";

/** Options of `estimateMemory`. */
export interface MemoryEstimateOptions {
  /** Tokens the KV cache holds. */
  contextLength: number;
  /** KV cache element type(s): one for K and V, or `{ k, v }` (default "f16"). */
  kvType?: KVType | { k?: KVType; v?: KVType };
  /** Tokens per forward pass for scratch buffers (default 512, capped at contextLength). */
  batchSize?: number;
  /** Blocks to load: a count (the first N) or block indices. Default: all blocks. */
  layers?: number | number[];
  /** A config already computed from the file (default: modelConfigFromGGUF(file)). */
  config?: ModelConfig;
}

/** Byte counts of a memory estimate. */
export interface MemoryEstimate {
  weightsBytes: number;
  kvCacheBytes: number;
  scratchBytes: number;
  marginBytes: number;
  totalBytes: number;
  /** For each block index 0..blockCount-1: its weights plus its KV cache (0 if not loaded). */
  perLayerBytes: number[];
}

/** Fixed part of the safety margin. */
export const MARGIN_FIXED_BYTES = 100 * 1024 * 1024;
/** Proportional part of the safety margin. */
export const MARGIN_FRACTION = 0.1;
/** Default tokens per forward pass. */
export const DEFAULT_BATCH_SIZE = 512;

const BLOCK_RE = /^blk\.(\d+)\./;

function positiveInt(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 1) {
    throw new InvalidArgumentError(`${name} must be a positive integer`, { actual: v });
  }
  return v;
}

function selectedLayers(layers: MemoryEstimateOptions["layers"], blockCount: number): Set<number> {
  if (layers === undefined) return new Set(Array.from({ length: blockCount }, (_, i) => i));
  if (typeof layers === "number") {
    if (!Number.isSafeInteger(layers) || layers < 0 || layers > blockCount) {
      throw new InvalidArgumentError(`layers must be a count in 0..${blockCount}`, {
        actual: layers,
      });
    }
    return new Set(Array.from({ length: layers }, (_, i) => i));
  }
  for (const l of layers) {
    if (!Number.isSafeInteger(l) || l < 0 || l >= blockCount) {
      throw new InvalidArgumentError(`layer ${l} is not a block index in 0..${blockCount - 1}`, {
        actual: l,
      });
    }
  }
  return new Set(layers);
}

/** Estimates the memory a model needs at a context length (throws ModelConfigError when the
 * file does not describe a supported model). */
export function estimateMemory(file: GGUFFile, opts: MemoryEstimateOptions): MemoryEstimate {
  const cfg = opts.config ?? modelConfigFromGGUF(file);
  const ctx = positiveInt("contextLength", opts.contextLength);
  const batch = Math.min(positiveInt("batchSize", opts.batchSize ?? DEFAULT_BATCH_SIZE), ctx);
  const kv = parseKVTypes(opts.kvType);
  const layers = selectedLayers(opts.layers, cfg.blockCount);
  const perLayerBytes = new Array<number>(cfg.blockCount).fill(0);
  let weightsBytes = 0;
  for (const t of file.tensors) {
    const m = BLOCK_RE.exec(t.name);
    if (!m) {
      weightsBytes += t.nBytes;
      continue;
    }
    const l = Number(m[1]);
    if (!layers.has(l)) continue;
    weightsBytes += t.nBytes;
    if (l < cfg.blockCount) perLayerBytes[l] += t.nBytes;
  }
  const kvPerLayer = ctx * cfg.headCountKV *
    (cfg.keyLength * kvBytesPerElement(kv.k) + cfg.valueLength * kvBytesPerElement(kv.v));
  let kvCacheBytes = 0;
  for (const l of layers) {
    perLayerBytes[l] += kvPerLayer;
    kvCacheBytes += kvPerLayer;
  }
  const scratchBytes = batch * 4 *
    (4 * cfg.embeddingLength + 3 * cfg.feedForwardLength + cfg.headCount * ctx + cfg.vocabSize);
  const base = weightsBytes + kvCacheBytes + scratchBytes;
  const marginBytes = Math.ceil(base * MARGIN_FRACTION) + MARGIN_FIXED_BYTES;
  return {
    weightsBytes,
    kvCacheBytes,
    scratchBytes,
    marginBytes,
    totalBytes: base + marginBytes,
    perLayerBytes,
  };
}
