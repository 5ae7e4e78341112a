/**
 * GGUF v2/v3 reader. Every count, length and offset is checked against the bytes that
 * remain before anything is allocated or read; malformed input yields a GGUFError with the
 * offset and the expected/actual facts, never another exception, a hang or an allocation
 * sized by a field the file merely claims. Tensor data is not read here.
 *
 * @module
 */
import { GGUFError } from "../core/errors.ts";
import { type ByteSource, fileSource, memorySource } from "../runtime/byte_source.ts";
import { Cursor } from "./_cursor.ts";
import { readValue } from "./_meta_reader.ts";
import { isKnownType, typeTraits } from "./ggml_types.ts";
import type { GGUFFile, GGUFMetaEntry, GGUFTensorInfo } from "./gguf_file.ts";

/** "GGUF" read as a little-endian u32. */
export const GGUF_MAGIC = 0x46554747;
/** Alignment of the data section when `general.alignment` is absent. */
export const GGUF_DEFAULT_ALIGNMENT = 32;
/** Most dimensions a tensor may have (ggml's GGML_MAX_DIMS is 4; 8 leaves room). */
export const MAX_DIMS = 8;
/** Largest `general.alignment` accepted. */
export const MAX_ALIGNMENT = 1 << 20;
/** Smallest encoded tensor info: name length, 1 dim, type, offset. */
const MIN_TENSOR_INFO = 8 + 4 + 8 + 4 + 8;
/** Smallest encoded metadata entry: key length, type, a 1-byte value. */
const MIN_KV = 8 + 4 + 1;

function readHeader(c: Cursor): number {
  const magic = c.u32("magic");
  if (magic !== GGUF_MAGIC) {
    const hex = `0x${magic.toString(16).padStart(8, "0")}`;
    throw new GGUFError("GGUF_BAD_MAGIC", `not a GGUF file: magic ${hex} at offset 0`, {
      offset: 0,
      expected: "0x46554747 (GGUF)",
      actual: hex,
    });
  }
  const version = c.u32("version");
  if (version !== 2 && version !== 3) {
    const swapped = ((version & 0xff) << 24) >>> 0 | (version >>> 8 & 0xff) << 16;
    const hint = version === 1
      ? " (GGUF v1 is obsolete; reconvert the model)"
      : swapped === 0x03000000 || swapped === 0x02000000 || (version >>> 16) !== 0
      ? " (a big-endian GGUF? only little-endian files are supported)"
      : "";
    throw new GGUFError("GGUF_BAD_VERSION", `unsupported GGUF version ${version}${hint}`, {
      offset: 4,
      expected: "2 or 3",
      actual: version,
    });
  }
  return version;
}

function readAlignment(metadata: Map<string, GGUFMetaEntry>): number {
  const al = metadata.get("general.alignment");
  if (!al) return GGUF_DEFAULT_ALIGNMENT;
  const v = typeof al.value === "bigint" && al.value <= BigInt(MAX_ALIGNMENT)
    ? Number(al.value)
    : al.value;
  if (
    typeof v !== "number" || !Number.isInteger(v) || v <= 0 || v > MAX_ALIGNMENT ||
    (v & (v - 1)) !== 0
  ) {
    throw new GGUFError(
      "GGUF_BAD_VALUE",
      `general.alignment ${String(al.value)} is not a power of two <= ${MAX_ALIGNMENT}`,
      { expected: `power of two <= ${MAX_ALIGNMENT}`, actual: String(al.value) },
    );
  }
  return v;
}

function badTensor(message: string, facts: Record<string, unknown>): never {
  throw new GGUFError("GGUF_BAD_TENSOR", message, facts);
}

function readTensorInfo(c: Cursor, alignment: number): GGUFTensorInfo {
  const at = c.pos;
  const name = c.string("tensor name");
  const nDims = c.u32(`tensor ${name} dimension count`);
  if (nDims < 1 || nDims > MAX_DIMS) {
    badTensor(`tensor ${name} has ${nDims} dimensions`, {
      offset: at,
      expected: `1..${MAX_DIMS}`,
      actual: nDims,
    });
  }
  const dims: number[] = [];
  let nElements = 1;
  for (let d = 0; d < nDims; d++) {
    const dim = c.count(`tensor ${name} dimension ${d}`, Number.MAX_SAFE_INTEGER);
    dims.push(dim);
    nElements *= dim;
    if (!Number.isSafeInteger(nElements)) {
      throw new GGUFError("GGUF_LIMIT", `tensor ${name} element count overflows`, {
        offset: at,
        actual: dims.join("x"),
      });
    }
  }
  const typeAt = c.pos;
  const type = c.u32(`tensor ${name} type`);
  if (!isKnownType(type)) {
    badTensor(`tensor ${name} has unknown ggml type ${type}`, {
      offset: typeAt,
      expected: "a ggml type id",
      actual: type,
    });
  }
  const traits = typeTraits(type);
  if (dims[0] % traits.blockSize !== 0) {
    badTensor(
      `tensor ${name}: row of ${dims[0]} is not a multiple of the ${traits.name} block ` +
        `${traits.blockSize}`,
      { offset: at, expected: traits.blockSize, actual: dims[0] },
    );
  }
  const offsetAt = c.pos;
  const offset = c.count(`tensor ${name} data offset`, c.size);
  if (offset % alignment !== 0) {
    badTensor(`tensor ${name} data offset ${offset} is not aligned to ${alignment}`, {
      offset: offsetAt,
      expected: alignment,
      actual: offset,
    });
  }
  const nBytes = (nElements / traits.blockSize) * traits.typeSize;
  return { name, dims, type, offset, nElements, nBytes };
}

/** Checks that every tensor's data lies inside the file and that no two overlap. */
function checkTensorData(tensors: GGUFTensorInfo[], dataOffset: number, size: number): void {
  for (const t of tensors) {
    const start = dataOffset + t.offset;
    const end = start + t.nBytes;
    if (end > size) {
      throw new GGUFError(
        "GGUF_TRUNCATED",
        `tensor ${t.name} data [${start}, ${end}) lies past the end of the file (${size} bytes)`,
        { offset: start, expected: end, actual: size, bytes: t.nBytes },
      );
    }
  }
  const sorted = tensors.filter((t) => t.nBytes > 0).sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    const cur = sorted[i];
    if (cur.offset < prev.offset + prev.nBytes) {
      badTensor(`tensor ${cur.name} data overlaps tensor ${prev.name}`, {
        offset: dataOffset + cur.offset,
        expected: `>= ${dataOffset + prev.offset + prev.nBytes}`,
        actual: dataOffset + cur.offset,
      });
    }
  }
}

/** Parses a GGUF from a ByteSource. Tensor data is not read. */
export function readGGUF(src: ByteSource): GGUFFile {
  const c = new Cursor(src);
  const version = readHeader(c);
  const nTensors = c.count(
    "tensor count",
    Math.floor(Math.max(0, c.remaining - 16) / MIN_TENSOR_INFO),
  );
  const nKV = c.count("metadata count", Math.floor(Math.max(0, c.remaining - 8) / MIN_KV));
  const metadata = new Map<string, GGUFMetaEntry>();
  for (let i = 0; i < nKV; i++) {
    const keyAt = c.pos;
    const key = c.string("metadata key");
    if (metadata.has(key)) {
      throw new GGUFError("GGUF_BAD_VALUE", `duplicate metadata key ${key} at offset ${keyAt}`, {
        offset: keyAt,
        actual: key,
      });
    }
    const type = c.u32(`metadata ${key} type`);
    metadata.set(key, readValue(c, type, key, 0));
  }
  const alignment = readAlignment(metadata);
  const tensors: GGUFTensorInfo[] = [];
  const names = new Set<string>();
  for (let i = 0; i < nTensors; i++) {
    const at = c.pos;
    const t = readTensorInfo(c, alignment);
    if (names.has(t.name)) {
      badTensor(`duplicate tensor ${t.name} at offset ${at}`, { offset: at, actual: t.name });
    }
    names.add(t.name);
    tensors.push(t);
  }
  const dataOffset = Math.ceil(c.pos / alignment) * alignment;
  checkTensorData(tensors, dataOffset, src.size);
  return { version, metadata, tensors, alignment, dataOffset, source: src };
}

/** Parses a GGUF held in memory. */
export function parseGGUF(bytes: Uint8Array): GGUFFile {
  return readGGUF(memorySource(bytes));
}

/** Opens and parses a GGUF file; tensor data is read lazily. Close with `file.source.close()`. */
export function openGGUF(path: string): GGUFFile {
  const src = fileSource(path);
  try {
    return readGGUF(src);
  } catch (e) {
    src.close();
    throw e;
  }
}
