/**
 * `inspect MODEL.gguf [--json] [--ctx N] [--kv-type T] [--full]`: prints a GGUF's header, metadata (long
 * arrays summarized), tensor table, parameter count, bits per weight, model configuration and
 * a memory estimate. The estimate uses `--ctx`, by default the model's context length capped
 * at 4096 (DEFAULT_INSPECT_CONTEXT), since few runs use a model's full trained context, and
 * the KV cache types of --kv-type / -ctk / -ctv (default f16).
 * Vocab-only files (no tensors, perhaps no supported architecture) inspect fine: the
 * configuration and estimate then say why they are unavailable.
 *
 * @module
 */
import { InvalidArgumentError, ModelConfigError } from "../core/errors.ts";
import {
  formatBytes,
  formatF32,
  formatMetaValue,
  metaTypeName,
  metaValueToJSON,
  type TensorStats,
  tensorStats,
} from "../gguf/describe.ts";
import { typeTraits } from "../gguf/ggml_types.ts";
import { type GGUFFile, GGUFValueType } from "../gguf/gguf_file.ts";
import { estimateMemory, type MemoryEstimate } from "../gguf/memory_estimate.ts";
import { type ModelConfig, modelConfigFromGGUF } from "../gguf/model_config.ts";
import { openGGUF } from "../gguf/reader.ts";
import { pathExists } from "../runtime/host.ts";
import { DEFAULT_KV_TYPES, type KVTypes, kvTypesLabel } from "../gguf/kv_type.ts";
import { formatFlags, parseArgs, UsageError } from "./args.ts";
import { kvTypesFromFlags, MODEL_FLAGS } from "./_load.ts";
import { type Command, type CommandIO, registerCommand } from "./command.ts";

/** Largest default context for the memory estimate. */
export const DEFAULT_INSPECT_CONTEXT = 4096;
/** Array items shown without --full. */
const MAX_ITEMS = 8;

const FLAGS = {
  json: { type: "boolean", description: "print one JSON object instead of text" },
  ctx: {
    type: "integer",
    valueName: "N",
    description: "context length for the memory estimate (default: model's, at most 4096)",
  },
  "kv-type": MODEL_FLAGS["kv-type"],
  "kv-type-k": MODEL_FLAGS["kv-type-k"],
  "kv-type-v": MODEL_FLAGS["kv-type-v"],
  full: { type: "boolean", description: "show metadata arrays whole instead of summarized" },
} as const;

/** Everything inspect reports, as plain data. */
export interface InspectReport {
  file: string;
  fileBytes: number;
  version: number;
  alignment: number;
  dataOffset: number;
  metadataCount: number;
  tensorCount: number;
  metadata: { key: string; type: string; value: unknown; length?: number; truncated?: boolean }[];
  tensors: {
    name: string;
    type: string;
    dims: number[];
    offset: number;
    elements: number;
    bytes: number;
  }[];
  parameterCount: number;
  tensorBytes: number;
  bitsPerWeight: number;
  byType: TensorStats["byType"];
  config: ModelConfig | null;
  /** Why there is no config/estimate (e.g. an unsupported architecture). */
  configError: { code: string; message: string } | null;
  /** kvType: the cache types, "f16", or "q8_0/f16" for K and V that differ. */
  memory: (MemoryEstimate & { contextLength: number; kvType: string }) | null;
}

/** Builds the report of a parsed file. */
export function inspectReport(
  path: string,
  file: GGUFFile,
  opts: { ctx?: number; maxItems?: number; kvType?: KVTypes } = {},
): InspectReport {
  const maxItems = opts.maxItems ?? MAX_ITEMS;
  const stats = tensorStats(file);
  let config: ModelConfig | null = null;
  let configError: InspectReport["configError"] = null;
  let memory: InspectReport["memory"] = null;
  try {
    config = modelConfigFromGGUF(file);
    const contextLength = opts.ctx ?? Math.min(config.contextLength, DEFAULT_INSPECT_CONTEXT);
    const kv = opts.kvType ?? DEFAULT_KV_TYPES;
    memory = {
      contextLength,
      kvType: kvTypesLabel(kv),
      ...estimateMemory(file, { contextLength, config, kvType: kv }),
    };
  } catch (e) {
    if (!(e instanceof ModelConfigError)) throw e;
    configError = { code: e.code, message: e.message };
  }
  return {
    file: path,
    fileBytes: file.source.size,
    version: file.version,
    alignment: file.alignment,
    dataOffset: file.dataOffset,
    metadataCount: file.metadata.size,
    tensorCount: file.tensors.length,
    metadata: [...file.metadata].map(([key, e]) => {
      const row: InspectReport["metadata"][number] = {
        key,
        type: metaTypeName(e),
        value: metaValueToJSON(e.value, maxItems),
      };
      if (e.type === GGUFValueType.ARRAY) {
        const n = (e.value as unknown[]).length;
        row.length = n;
        if (n > maxItems) row.truncated = true;
      }
      return row;
    }),
    tensors: file.tensors.map((t) => ({
      name: t.name,
      type: typeTraits(t.type).name,
      dims: t.dims,
      offset: t.offset,
      elements: t.nElements,
      bytes: t.nBytes,
    })),
    parameterCount: stats.parameterCount,
    tensorBytes: stats.tensorBytes,
    bitsPerWeight: stats.bitsPerWeight,
    byType: stats.byType,
    config,
    configError,
    memory,
  };
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => "  " + r.map((x, c) => x.padEnd(widths[c])).join("  ").trimEnd())
    .join("\n");
}

/** The text form of a report. */
export function formatReport(r: InspectReport, file: GGUFFile, maxItems = MAX_ITEMS): string {
  const n = (x: number) => x.toLocaleString("en-US");
  const out: string[] = [];
  out.push(`file: ${r.file} (${formatBytes(r.fileBytes)})`);
  out.push(
    `GGUF v${r.version}, alignment ${r.alignment}, data offset ${r.dataOffset}, ` +
      `${r.metadataCount} metadata entries, ${r.tensorCount} tensors`,
  );
  out.push("", "metadata:");
  const meta = [...file.metadata].map((
    [k, e],
  ) => [k, metaTypeName(e), formatMetaValue(e, maxItems)]);
  if (meta.length) out.push(table(meta));
  out.push("", "tensors:");
  if (r.tensors.length) {
    const rows = [["name", "type", "shape", "bytes"]];
    for (const t of r.tensors) rows.push([t.name, t.type, `[${t.dims.join(", ")}]`, n(t.bytes)]);
    out.push(table(rows));
  } else {
    out.push("  (none: vocab-only file)");
  }
  out.push("");
  const types = Object.entries(r.byType).map(([t, s]) => `${t} ${s.count}`).join(", ");
  out.push(
    r.tensorCount === 0
      ? "parameters: none (no tensors)"
      : `parameters: ${n(r.parameterCount)} in ${formatBytes(r.tensorBytes)} ` +
        `(${r.bitsPerWeight.toFixed(2)} bits per weight); tensors by type: ${types}`,
  );
  const c = r.config;
  if (c) {
    out.push(
      `config: ${c.arch}, context ${c.contextLength}, embedding ${c.embeddingLength}, ` +
        `${c.blockCount} blocks, heads ${c.headCount}/${c.headCountKV} kv, head dim ` +
        `${c.keyLength}/${c.valueLength}, ffn ${c.feedForwardLength}, vocab ${c.vocabSize}, ` +
        `rope ${c.ropeType} dim ${c.ropeDimensionCount} base ${c.ropeFreqBase}` +
        (c.ropeScaling.type === "none" ? "" : ` ${c.ropeScaling.type} x${c.ropeScaling.factor}`) +
        `, rms eps ${formatF32(c.rmsNormEps)}`,
    );
  } else {
    out.push(`config: unavailable (${r.configError?.code}: ${r.configError?.message})`);
  }
  const m = r.memory;
  if (m) {
    out.push(
      `memory at context ${m.contextLength} (${m.kvType} KV): weights ${
        formatBytes(m.weightsBytes)
      }, ` +
        `KV cache ${formatBytes(m.kvCacheBytes)}, scratch ${formatBytes(m.scratchBytes)}, ` +
        `margin ${formatBytes(m.marginBytes)}, total ${formatBytes(m.totalBytes)}`,
    );
  }
  return out.join("\n") + "\n";
}

function inspectMain(argv: string[], io: CommandIO): number {
  const { flags, positionals } = parseArgs(argv, FLAGS);
  if (positionals.length !== 1) {
    throw new UsageError(`inspect needs exactly one MODEL.gguf, got ${positionals.length}`, {
      actual: positionals,
    });
  }
  if (flags.ctx !== undefined && flags.ctx < 1) {
    throw new UsageError(`--ctx must be at least 1, not ${flags.ctx}`, { actual: flags.ctx });
  }
  const kvType = kvTypesFromFlags(flags);
  const path = positionals[0];
  if (!pathExists(path)) throw new InvalidArgumentError(`file not found: ${path}`, { path });
  const file = openGGUF(path);
  try {
    const maxItems = flags.full ? Infinity : MAX_ITEMS;
    const report = inspectReport(path, file, { ctx: flags.ctx, maxItems, kvType });
    io.stdout(flags.json ? JSON.stringify(report) + "\n" : formatReport(report, file, maxItems));
  } finally {
    file.source.close();
  }
  return 0;
}

/** The inspect command. */
export const inspectCommand: Command = {
  name: "inspect",
  summary: "show a GGUF file's header, metadata, tensors and memory estimate",
  usage: `inspect MODEL.gguf [--json] [--ctx N] [--kv-type T] [--full]\n\n${formatFlags(FLAGS)}`,
  run: (argv, io) => new Promise((resolve) => resolve(inspectMain(argv, io))),
};

registerCommand(inspectCommand);
