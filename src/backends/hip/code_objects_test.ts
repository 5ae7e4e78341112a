import { BackendError } from "../../core/errors.ts";
import { memorySource } from "../../runtime/byte_source.ts";
import { assertEquals, assertStrictEquals, assertThrows } from "../../../tests/assert.ts";
import { test } from "../../../tests/harness.ts";
import {
  codeObjectTargets,
  elfSection,
  libraryProcessors,
  missingCodeObject,
  processorOf,
} from "./code_objects.ts";

const enc = new TextEncoder();

/** One offload bundle as clang-offload-bundler writes it (code objects of `size` bytes). */
function bundle(ids: string[], size = 16): Uint8Array {
  const head = 32 + ids.reduce((n, id) => n + 24 + id.length, 0);
  const out = new Uint8Array(head + ids.length * size);
  const v = new DataView(out.buffer);
  out.set(enc.encode("__CLANG_OFFLOAD_BUNDLE__"));
  v.setBigUint64(24, BigInt(ids.length), true);
  let pos = 32;
  ids.forEach((id, i) => {
    v.setBigUint64(pos, BigInt(head + i * size), true);
    v.setBigUint64(pos + 8, BigInt(size), true);
    v.setBigUint64(pos + 16, BigInt(id.length), true);
    out.set(enc.encode(id), pos + 24);
    pos += 24 + id.length;
  });
  return out;
}

/** A minimal ELF64 file whose only named sections are `sections` (placed 4096-aligned). */
function elf(sections: Record<string, Uint8Array>): Uint8Array {
  const names = ["", ".shstrtab", ...Object.keys(sections)];
  const strtab = enc.encode(names.join("\0") + "\0");
  const nameOffsets = names.map((_, i) => names.slice(0, i).reduce((n, s) => n + s.length + 1, 0));
  const datas = [new Uint8Array(0), strtab, ...Object.values(sections)];
  const offsets: number[] = [];
  let pos = 64;
  for (const d of datas) {
    pos = Math.ceil(pos / 4096) * 4096;
    offsets.push(pos);
    pos += d.length;
  }
  const shoff = Math.ceil(pos / 8) * 8;
  const out = new Uint8Array(shoff + 64 * datas.length);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  v.setBigUint64(0x28, BigInt(shoff), true);
  v.setUint16(0x3a, 64, true);
  v.setUint16(0x3c, datas.length, true);
  v.setUint16(0x3e, 1, true);
  datas.forEach((d, i) => {
    out.set(d, offsets[i]);
    const h = shoff + 64 * i;
    v.setUint32(h, nameOffsets[i], true);
    v.setBigUint64(h + 24, BigInt(offsets[i]), true);
    v.setBigUint64(h + 32, BigInt(d.length), true);
  });
  return out;
}

/** Two bundles back to back, the second at the next 4096-byte boundary. */
function fatbin(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(4096 + b.length);
  out.set(a);
  out.set(b, 4096);
  return out;
}

const T = (arch: string) => `hipv4-amdgcn-amd-amdhsa--${arch}`;
const HOST = "host-x86_64-unknown-linux-gnu";

test("code objects: every bundle's targets, and the processors all bundles share", () => {
  const lib = elf({
    ".text": new Uint8Array(100),
    ".hip_fatbin": fatbin(
      bundle([HOST, T("gfx90a"), T("gfx1100"), T("gfx1201")]),
      bundle([HOST, T("gfx1100"), T("gfx90a")]),
    ),
  });
  const bundles = codeObjectTargets(memorySource(lib));
  assertEquals(bundles, [
    [HOST, T("gfx90a"), T("gfx1100"), T("gfx1201")],
    [HOST, T("gfx1100"), T("gfx90a")],
  ]);
  assertEquals(libraryProcessors(bundles!), ["gfx90a", "gfx1100"]);
  assertStrictEquals(missingCodeObject("gfx90a:sramecc+:xnack-", ["gfx90a", "gfx1100"]), undefined);
  assertEquals(
    missingCodeObject("gfx1201", ["gfx90a", "gfx1100"]),
    "gfx1201 not in this build (it has gfx90a, gfx1100): rebuild with " +
      "`deno task build:native --target amd --offload-arch gfx1201`",
  );
  assertStrictEquals(processorOf(T("gfx942:xnack+")), "gfx942");
});

test("code objects: no .hip_fatbin is an empty list, compressed bundles are unknown", () => {
  assertEquals(codeObjectTargets(memorySource(elf({ ".text": new Uint8Array(8) }))), []);
  const ccob = new Uint8Array(64);
  ccob.set(enc.encode("CCOB"));
  assertStrictEquals(codeObjectTargets(memorySource(elf({ ".hip_fatbin": ccob }))), undefined);
  assertEquals(libraryProcessors([]), []);
});

test("code objects: malformed files are typed errors, never huge reads", () => {
  const isBackend = (e: unknown) => e instanceof BackendError && e.code === "BACKEND_UNAVAILABLE";
  const notElf = enc.encode("#!/bin/sh\n".padEnd(80, " "));
  assertThrows(() => codeObjectTargets(memorySource(notElf), "x.so"), BackendError);
  const good = elf({ ".hip_fatbin": bundle([HOST, T("gfx90a")]) });
  assertThrows(() => codeObjectTargets(memorySource(good.subarray(0, 200))), BackendError);
  // An entry count far beyond any real bundle.
  const huge = bundle([HOST]);
  new DataView(huge.buffer).setBigUint64(24, 1n << 40n, true);
  let err: unknown;
  try {
    codeObjectTargets(memorySource(elf({ ".hip_fatbin": huge })));
  } catch (e) {
    err = e;
  }
  assertStrictEquals(isBackend(err), true);
  // A code object that claims to run past the section.
  const past = bundle([HOST, T("gfx90a")]);
  new DataView(past.buffer).setBigUint64(32 + 24 + HOST.length + 8, 1n << 32n, true);
  assertThrows(() => codeObjectTargets(memorySource(elf({ ".hip_fatbin": past }))), BackendError);
  assertStrictEquals(elfSection(memorySource(good), ".nope"), undefined);
});
