/**
 * GGUF writer. Encodes a parsed GGUFFile (or plain metadata + tensors) back to GGUF bytes:
 * metadata in its order with its exact types, tensor infos in their order, tensor data packed
 * in that order at `alignment` boundaries with zero padding. A file produced by llama.cpp
 * round-trips byte for byte. `writeGGUFChunks` yields the file piece by piece so a large
 * model can be streamed to disk without holding it whole.
 *
 * @module
 */
import { InvalidArgumentError } from "../core/errors.ts";
import { ByteWriter } from "./_byte_writer.ts";
import { writeMetaValue } from "./_meta_writer.ts";
import { isKnownType, typeTraits } from "./ggml_types.ts";
import { type GGUFFile, type GGUFMetaEntry, GGUFValueType, tensorData } from "./gguf_file.ts";
import { GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, MAX_ALIGNMENT, MAX_DIMS } from "./reader.ts";

/** The parts of a tensor description the writer needs (offsets are computed). */
export interface GGUFTensorSpec {
  name: string;
  /** ggml order: dims[0] is the row length. */
  dims: number[];
  /** A ggml type id. */
  type: number;
}

/** One tensor to write: its description and its bytes (or a function that reads them). */
export interface GGUFTensorInput {
  info: GGUFTensorSpec;
  data: Uint8Array | (() => Uint8Array);
}

/** Plain input for the writer. */
export interface GGUFWriteInput {
  /** 2 or 3 (default 3). */
  version?: number;
  metadata: Map<string, GGUFMetaEntry> | Iterable<readonly [string, GGUFMetaEntry]>;
  tensors: GGUFTensorInput[];
  /**
   * Data alignment (default: `general.alignment` if present, else 32). When it differs from
   * 32 and `general.alignment` is absent, that key is appended as a u32 so readers agree.
   */
  alignment?: number;
}

/** A laid-out file: encoded header (with padding) and where each tensor's data goes. */
export interface GGUFLayout {
  /** Magic through tensor infos, zero-padded to the alignment. */
  header: Uint8Array;
  alignment: number;
  /** Absolute offset of the data section (= header.byteLength; unpadded without tensors). */
  dataOffset: number;
  /** Each tensor's offset within the data section and its byte size. */
  tensors: { name: string; offset: number; nBytes: number; data: GGUFTensorInput["data"] }[];
  /** Total file size. */
  totalBytes: number;
}

function isGGUFFile(x: GGUFFile | GGUFWriteInput): x is GGUFFile {
  return "dataOffset" in x && "source" in x;
}

function fromFile(file: GGUFFile): GGUFWriteInput {
  return {
    version: file.version,
    metadata: file.metadata,
    alignment: file.alignment,
    tensors: file.tensors.map((t) => ({ info: t, data: () => tensorData(file, t) })),
  };
}

function bad(message: string, facts: Record<string, unknown> = {}): never {
  throw new InvalidArgumentError(message, facts);
}

/** Resolves the alignment and returns the metadata entries to write. */
function resolveMetadata(input: GGUFWriteInput): [[string, GGUFMetaEntry][], number] {
  const entries: [string, GGUFMetaEntry][] = [];
  const seen = new Set<string>();
  for (const [key, entry] of input.metadata) {
    if (typeof key !== "string") bad(`metadata key ${String(key)} is not a string`);
    if (seen.has(key)) bad(`duplicate metadata key ${key}`, { key });
    seen.add(key);
    writeMetaValue(null, key, entry);
    entries.push([key, entry]);
  }
  const al = entries.find(([k]) => k === "general.alignment")?.[1];
  const stored = al === undefined ? undefined : Number(al.value);
  const alignment = input.alignment ?? stored ?? GGUF_DEFAULT_ALIGNMENT;
  if (!Number.isInteger(alignment) || alignment <= 0 || alignment > MAX_ALIGNMENT) {
    bad(`alignment ${alignment} is not a power of two <= ${MAX_ALIGNMENT}`, { actual: alignment });
  }
  if ((alignment & (alignment - 1)) !== 0) {
    bad(`alignment ${alignment} is not a power of two`, { actual: alignment });
  }
  if (stored !== undefined && stored !== alignment) {
    bad(`alignment ${alignment} differs from general.alignment ${stored}`, {
      expected: stored,
      actual: alignment,
    });
  }
  if (al === undefined && alignment !== GGUF_DEFAULT_ALIGNMENT) {
    entries.push(["general.alignment", { type: GGUFValueType.UINT32, value: alignment }]);
  }
  return [entries, alignment];
}

/** Checks a tensor description and returns its byte size. */
function tensorSize(t: GGUFTensorSpec): number {
  if (typeof t.name !== "string") bad(`tensor name ${String(t.name)} is not a string`);
  if (!Array.isArray(t.dims) || t.dims.length < 1 || t.dims.length > MAX_DIMS) {
    bad(`tensor ${t.name} needs 1..${MAX_DIMS} dims`, { actual: t.dims });
  }
  let n = 1;
  for (const d of t.dims) {
    if (!Number.isSafeInteger(d) || d < 0) bad(`tensor ${t.name} has bad dim ${d}`, { actual: d });
    n *= d;
  }
  if (!Number.isSafeInteger(n)) bad(`tensor ${t.name} has too many elements`, { actual: t.dims });
  if (!isKnownType(t.type)) bad(`tensor ${t.name} has unknown ggml type ${t.type}`);
  const tr = typeTraits(t.type);
  if (t.dims[0] % tr.blockSize !== 0) {
    bad(
      `tensor ${t.name}: row ${t.dims[0]} is not a multiple of ${tr.name} block ${tr.blockSize}`,
      {
        expected: tr.blockSize,
        actual: t.dims[0],
      },
    );
  }
  return (n / tr.blockSize) * tr.typeSize;
}

/** Validates the input and encodes the header; tensor data is not touched. */
export function layoutGGUF(file: GGUFFile | GGUFWriteInput): GGUFLayout {
  const input = isGGUFFile(file) ? fromFile(file) : file;
  const version = input.version ?? 3;
  if (version !== 2 && version !== 3) bad(`GGUF version ${version} cannot be written (2 or 3)`);
  const [entries, alignment] = resolveMetadata(input);
  const w = new ByteWriter();
  w.u32(GGUF_MAGIC);
  w.u32(version);
  w.u64(input.tensors.length);
  w.u64(entries.length);
  for (const [key, entry] of entries) {
    w.string(key);
    w.u32(entry.type);
    writeMetaValue(w, key, entry);
  }
  const placed: GGUFLayout["tensors"] = [];
  const names = new Set<string>();
  let offset = 0;
  for (const { info, data } of input.tensors) {
    const nBytes = tensorSize(info);
    if (names.has(info.name)) bad(`duplicate tensor ${info.name}`, { actual: info.name });
    names.add(info.name);
    if (data instanceof Uint8Array && data.byteLength !== nBytes) {
      bad(`tensor ${info.name} data has ${data.byteLength} bytes, its shape needs ${nBytes}`, {
        expected: nBytes,
        actual: data.byteLength,
      });
    }
    w.string(info.name);
    w.u32(info.dims.length);
    for (const d of info.dims) w.u64(d);
    w.u32(info.type);
    w.u64(offset);
    placed.push({ name: info.name, offset, nBytes, data });
    offset += Math.ceil(nBytes / alignment) * alignment;
  }
  // A file without tensors ends after its metadata (as llama.cpp's vocab-only files do).
  if (placed.length > 0) w.pad(alignment);
  const header = w.result();
  const last = placed[placed.length - 1];
  const totalBytes = header.byteLength + (last ? last.offset + last.nBytes : 0);
  return { header, alignment, dataOffset: header.byteLength, tensors: placed, totalBytes };
}

function dataOf(t: GGUFLayout["tensors"][number]): Uint8Array {
  const d = typeof t.data === "function" ? t.data() : t.data;
  if (d.byteLength !== t.nBytes) {
    bad(`tensor ${t.name} data has ${d.byteLength} bytes, its shape needs ${t.nBytes}`, {
      expected: t.nBytes,
      actual: d.byteLength,
    });
  }
  return d;
}

/**
 * Yields the file in order: the header, then each tensor's data preceded by the zero padding
 * that aligns it. Tensor data functions are called one at a time, as their turn comes.
 */
export function* writeGGUFChunks(file: GGUFFile | GGUFWriteInput): Generator<Uint8Array> {
  const layout = layoutGGUF(file);
  yield layout.header;
  let pos = 0;
  for (const t of layout.tensors) {
    if (t.offset > pos) yield new Uint8Array(t.offset - pos);
    yield dataOf(t);
    pos = t.offset + t.nBytes;
  }
}

/** Encodes a whole GGUF file into one buffer. */
export function writeGGUF(file: GGUFFile | GGUFWriteInput): Uint8Array {
  const layout = layoutGGUF(file);
  const out = new Uint8Array(layout.totalBytes);
  out.set(layout.header, 0);
  for (const t of layout.tensors) out.set(dataOf(t), layout.dataOffset + t.offset);
  return out;
}
