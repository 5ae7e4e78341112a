/**
 * The GPU targets an AMD build of librocmforge_hip carries code for. Each kernel source adds
 * one offload bundle (clang-offload-bundler's format) to the library's `.hip_fatbin` section:
 * the magic `__CLANG_OFFLOAD_BUNDLE__`, an entry count, then per entry its offset, size and
 * target id (`hipv4-amdgcn-amd-amdhsa--gfx1100`). The HIP runtime picks the entry whose
 * processor matches the device; a device no entry matches cannot run the kernels, which the
 * backend reports before it tries.
 *
 * @module
 */
import { BackendError } from "../../core/errors.ts";
import type { ByteSource } from "../../runtime/byte_source.ts";

const MAGIC = "__CLANG_OFFLOAD_BUNDLE__";
const COMPRESSED_MAGIC = "CCOB";
const ALIGN = 4096;
const MAX_ENTRIES = 4096;
const MAX_ID = 1024;

function bad(path: string, what: string, offset: number): never {
  throw new BackendError("BACKEND_UNAVAILABLE", `${path}: ${what} at offset ${offset}`, {
    actual: path,
    offset,
  });
}

const u16 = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8);
const u32 = (b: Uint8Array, o: number) => (u16(b, o) + u16(b, o + 2) * 65536);
const u64 = (b: Uint8Array, o: number) => u32(b, o) + u32(b, o + 4) * 2 ** 32;
const text = (b: Uint8Array) => new TextDecoder().decode(b);

function read(src: ByteSource, path: string, offset: number, length: number): Uint8Array {
  if (offset < 0 || length < 0 || offset + length > src.size) {
    bad(path, `${length} bytes past the end of the file (${src.size} bytes)`, offset);
  }
  return src.read(offset, length);
}

/** The file range of the section named `name` of a 64-bit little-endian ELF file, if any. */
export function elfSection(
  src: ByteSource,
  name: string,
  path = "library",
): { offset: number; size: number } | undefined {
  const h = read(src, path, 0, 64);
  if (h[0] !== 0x7f || text(h.subarray(1, 4)) !== "ELF" || h[4] !== 2 || h[5] !== 1) {
    bad(path, "not a 64-bit little-endian ELF file", 0);
  }
  const shoff = u64(h, 0x28), shentsize = u16(h, 0x3a), shnum = u16(h, 0x3c);
  const shstrndx = u16(h, 0x3e);
  if (shentsize < 64 || shstrndx >= shnum) bad(path, "bad section header table", 0x28);
  const headers = read(src, path, shoff, shnum * shentsize);
  const at = (i: number) => ({
    name: u32(headers, i * shentsize),
    offset: u64(headers, i * shentsize + 24),
    size: u64(headers, i * shentsize + 32),
  });
  const strtab = at(shstrndx);
  const names = read(src, path, strtab.offset, strtab.size);
  for (let i = 0; i < shnum; i++) {
    const s = at(i);
    const end = names.indexOf(0, s.name);
    if (text(names.subarray(s.name, end < 0 ? names.length : end)) === name) {
      read(src, path, s.offset, 0); // range check of the section's start
      if (s.offset + s.size > src.size) bad(path, `section ${name} past the end`, s.offset);
      return { offset: s.offset, size: s.size };
    }
  }
  return undefined;
}

/** The target ids of one offload bundle at `offset`, and where the bundle ends. */
function readBundle(src: ByteSource, path: string, offset: number, limit: number) {
  const head = read(src, path, offset, 32);
  const count = u64(head, 24);
  if (count < 1 || count > MAX_ENTRIES) bad(path, `offload bundle with ${count} entries`, offset);
  const ids: string[] = [];
  let pos = offset + 32;
  let end = pos;
  for (let i = 0; i < count; i++) {
    const e = read(src, path, pos, 24);
    const [start, size, idLen] = [u64(e, 0), u64(e, 8), u64(e, 16)];
    if (idLen > MAX_ID || offset + start + size > limit) {
      bad(path, "offload bundle entry out of range", pos);
    }
    ids.push(text(read(src, path, pos + 24, idLen)));
    pos += 24 + idLen;
    end = Math.max(end, pos, offset + start + size);
  }
  return { ids, end };
}

/**
 * The target ids of each offload bundle in the library's `.hip_fatbin` section (one list per
 * kernel source). Empty when the library has no such section (an NVIDIA build); undefined
 * when a bundle is compressed (its ids cannot be read without decompressing).
 */
export function codeObjectTargets(src: ByteSource, path = "library"): string[][] | undefined {
  const section = elfSection(src, ".hip_fatbin", path);
  if (!section) return [];
  const limit = section.offset + section.size;
  const bundles: string[][] = [];
  let pos = section.offset;
  while (pos + MAGIC.length <= limit) {
    const magic = text(read(src, path, pos, MAGIC.length));
    if (magic.startsWith(COMPRESSED_MAGIC)) return undefined;
    if (magic === MAGIC) {
      const b = readBundle(src, path, pos, limit);
      bundles.push(b.ids);
      pos = b.end;
    } else pos += 1; // padding between bundles: step to the next aligned position
    pos = section.offset + Math.ceil((pos - section.offset) / ALIGN) * ALIGN;
  }
  return bundles;
}

/** The processor of a target id or device arch: `hipv4-...--gfx90a:xnack-` -> `gfx90a`. */
export function processorOf(id: string): string {
  return id.replace(/^.*--/, "").split(":")[0];
}

/** The processors every bundle has code for (the devices this library can run on). */
export function libraryProcessors(bundles: readonly string[][]): string[] {
  const sets = bundles.map((ids) =>
    new Set(ids.filter((i) => i.includes("amdgcn")).map(processorOf))
  );
  if (sets.length === 0) return [];
  return [...sets[0]].filter((p) => sets.every((s) => s.has(p)))
    .sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
}

/** Why `deviceArch` cannot run this library's kernels, or undefined when it can. */
export function missingCodeObject(
  deviceArch: string,
  processors: readonly string[],
): string | undefined {
  const chip = processorOf(deviceArch);
  if (processors.includes(chip)) return undefined;
  return `${chip} not in this build (it has ${processors.join(", ") || "no AMD code objects"}): ` +
    `rebuild with \`deno task build:native --target amd --offload-arch ${chip}\``;
}
