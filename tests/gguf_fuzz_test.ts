/**
 * Seeded fuzzing of the GGUF reader: more than 10,000 mutations and truncations of real GGUFs
 * (byte flips, huge u64/u32 values written over length, count, type and offset fields, random
 * truncation, splices). Each parse must succeed or throw GGUFError, within a time bound, with
 * reads bounded by the file size and heap growth bounded; on files that parse, the model
 * config and the inspect report must succeed or throw a typed error.
 *
 * @module
 */
import { assert } from "./assert.ts";
import { test } from "./harness.ts";
import { heapUsedBytes, SeededRandom } from "./gguf_test_util.ts";
import { HAVE_SHARED, NO_SHARED_REASON, sharedPath } from "./shared_data.ts";
import { inspectReport } from "../src/cli/inspect.ts";
import { GGUFError, ModelConfigError } from "../src/core/errors.ts";
import { GGUFBuilder, metaArray } from "../src/gguf/builder.ts";
import { GGUFValueType as T } from "../src/gguf/gguf_file.ts";
import { modelConfigFromGGUF } from "../src/gguf/model_config.ts";
import { readGGUF } from "../src/gguf/reader.ts";
import { type ByteSource, memorySource } from "../src/runtime/byte_source.ts";
import { readFile } from "../src/runtime/host.ts";

const CASE_MS = 200;
const HEAP_GROWTH_LIMIT = 512 * 1024 * 1024;

/** Offsets of the u64 length/count/dim/offset fields and u32 type fields of a valid GGUF. */
function fieldOffsets(
  b: Uint8Array,
): { u64: number[]; u32: number[]; scalars: number[]; end: number } {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const u64: number[] = [8, 16];
  const u32: number[] = [4];
  const scalars: number[] = [];
  let p = 24;
  const str = () => {
    u64.push(p);
    p += 8 + Number(v.getBigUint64(p, true));
  };
  const value = (t: number) => {
    if (t === T.STRING) return str();
    if (t !== T.ARRAY) {
      if (t === T.UINT32 || t === T.INT32 || t === T.FLOAT32) scalars.push(p);
      p += [1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8][t];
      return;
    }
    u32.push(p);
    const it = v.getUint32(p, true);
    u64.push(p + 4);
    const n = Number(v.getBigUint64(p + 4, true));
    p += 12;
    for (let i = 0; i < n; i++) value(it);
  };
  const nT = Number(v.getBigUint64(8, true));
  const nKV = Number(v.getBigUint64(16, true));
  for (let i = 0; i < nKV; i++) {
    str();
    u32.push(p);
    const t = v.getUint32(p, true);
    p += 4;
    value(t);
  }
  for (let i = 0; i < nT; i++) {
    str();
    u32.push(p);
    const nd = v.getUint32(p, true);
    p += 4;
    for (let d = 0; d < nd; d++) (u64.push(p), p += 8);
    u32.push(p);
    p += 4;
    u64.push(p);
    p += 8;
  }
  return { u64, u32, scalars, end: p };
}

const HUGE_U64 = [
  0xffffffffffffffffn,
  1n << 63n,
  (1n << 53n) + 1n,
  1n << 40n,
  0xffffffffn,
  0x100000000n,
  0n,
];

/** A ByteSource that records the largest single read and the total bytes read. */
function countingSource(bytes: Uint8Array): ByteSource & { maxRead: number; total: number } {
  const inner = memorySource(bytes);
  const s = {
    size: inner.size,
    maxRead: 0,
    total: 0,
    read(offset: number, length: number) {
      s.maxRead = Math.max(s.maxRead, length);
      s.total += length;
      return inner.read(offset, length);
    },
    readInto(offset: number, target: Uint8Array) {
      target.set(s.read(offset, target.byteLength));
    },
    close() {},
  };
  return s;
}

interface Base {
  name: string;
  bytes: Uint8Array;
  cases: number;
  headerEnd: number;
  fields: { u64: number[]; u32: number[]; scalars: number[] };
}

function mutate(rng: SeededRandom, base: Base, donors: Base[]): [Uint8Array, string] {
  const src = base.bytes;
  const kind = rng.int(7);
  const hdr = () => rng.int(base.headerEnd);
  if (kind === 0) {
    const out = src.slice();
    const n = 1 + rng.int(8);
    for (let i = 0; i < n; i++) out[hdr()] = rng.int(256);
    return [out, `flip ${n} bytes`];
  }
  if (kind === 1 || kind === 2) {
    const out = src.slice();
    const v = new DataView(out.buffer);
    const structured = kind === 1 && base.fields.u64.length > 0;
    const at = structured ? rng.pick(base.fields.u64) : Math.min(hdr(), out.length - 8);
    const r = rng.int(4);
    const val = r === 0
      ? rng.pick(HUGE_U64)
      : r === 1
      ? BigInt(out.length - at + rng.int(64) - 32) & 0xffffffffffffffffn
      : r === 2
      ? (BigInt(rng.u32()) << 32n) | BigInt(rng.u32())
      : BigInt(rng.int(1 << 20));
    v.setBigUint64(at, val, true);
    return [out, `u64 ${val} at ${at}${structured ? " (field)" : ""}`];
  }
  if (kind === 3 && base.fields.u32.length > 0) {
    const out = src.slice();
    const at = rng.pick(base.fields.u32);
    const val = rng.pick([rng.int(16), rng.int(40), 0xffffffff, 0x80000000, rng.u32()]);
    new DataView(out.buffer).setUint32(at, val, true);
    return [out, `u32 ${val} at ${at} (field)`];
  }
  if (kind === 6 && base.fields.scalars.length > 0) {
    const out = src.slice();
    const at = rng.pick(base.fields.scalars);
    const v = new DataView(out.buffer);
    const r = rng.int(4);
    if (r === 0) v.setFloat32(at, rng.pick([0, -1, NaN, Infinity, 1e-30, 3.5]), true);
    else {v.setUint32(
        at,
        r === 1 ? rng.int(8) : r === 2 ? v.getUint32(at, true) + 1 : rng.u32(),
        true,
      );}
    return [out, `value at ${at} changed`];
  }
  if (kind === 4) {
    const cut = rng.next() < 0.8 ? hdr() : rng.int(src.length);
    return [src.subarray(0, cut), `truncate at ${cut}`];
  }
  // Splice: bytes from this or another file inserted over / into the header region.
  const donor = rng.pick(donors);
  const len = 1 + rng.int(64);
  const from = rng.int(Math.max(1, donor.headerEnd - len));
  const at = hdr();
  const piece = donor.bytes.subarray(from, from + len);
  if (rng.next() < 0.5) {
    const out = src.slice();
    out.set(piece.subarray(0, Math.max(0, out.length - at)), at);
    return [out, `splice ${len} bytes from ${donor.name}@${from} over ${at}`];
  }
  const out = new Uint8Array(src.length + piece.length);
  out.set(src.subarray(0, at));
  out.set(piece, at);
  out.set(src.subarray(at), at + piece.length);
  return [out, `insert ${len} bytes from ${donor.name}@${from} at ${at}`];
}

function richFile(): Uint8Array {
  return new GGUFBuilder()
    .setString("general.architecture", "llama")
    .setU32("llama.context_length", 64).setU32("llama.embedding_length", 32)
    .setU32("llama.block_count", 1).setU32("llama.feed_forward_length", 64)
    .setU32("llama.attention.head_count", 4).setU32("llama.attention.head_count_kv", 2)
    .setU8("x.u8", 1).setI16("x.i16", -2).setU64("x.u64", 3).setI64("x.i64", -4).setF64("x.f64", 5)
    .setBool("x.bool", true)
    .setArray("tokenizer.ggml.tokens", T.STRING, ["<unk>", "a", "b", "ü"])
    .setEntry(
      "x.nested",
      metaArray(T.ARRAY, [metaArray(T.UINT16, [1, 2]), metaArray(T.STRING, ["q"])]),
    )
    .addTensor("token_embd.weight", [32, 4], "Q8_0", new Uint8Array(4 * 34))
    .addTensor("blk.0.attn_norm.weight", [32], "F32", new Float32Array(32))
    .build();
}

function loadBase(name: string, bytes: Uint8Array, cases: number, headerCap = Infinity): Base {
  const f = fieldOffsets(bytes);
  const headerEnd = Math.min(f.end, headerCap);
  return {
    name,
    bytes,
    cases,
    headerEnd,
    fields: {
      u64: f.u64.filter((o) => o < headerEnd),
      u32: f.u32.filter((o) => o < headerEnd),
      // 32-bit metadata values (hyper-parameters, f32 norms): exercise the model config.
      scalars: f.scalars.filter((o) => o < headerEnd).slice(0, 256),
    },
  };
}

/** Parses one mutated file; returns "ok", a GGUFError code or "config <ModelConfigError code>". */
function runCase(src: ByteSource, name: string, label: string): string {
  let file;
  try {
    file = readGGUF(src);
  } catch (e) {
    assert(e instanceof GGUFError, `${label}: non-GGUFError ${String(e)}`);
    assert(typeof e.code === "string" && e.message.length > 0, label);
    return e.code;
  }
  let outcome = "ok";
  try {
    modelConfigFromGGUF(file);
  } catch (e) {
    assert(e instanceof ModelConfigError, `${label}: ${String(e)}`);
    outcome = `config ${e.code}`;
  }
  inspectReport(name, file); // must not throw: config errors become part of the report
  return outcome;
}

test("fuzz: 10,000+ mutated GGUFs parse or throw GGUFError, fast and bounded", () => {
  const m = (p: string) => readFile(sharedPath("models", p));
  const bases = [
    loadBase("rich", richFile(), 3500),
    loadBase("stories260K", m("stories260K.gguf"), 3500),
    loadBase("tiny256-Q4_K", m("synthetic/tiny256-Q4_K.gguf"), 2500),
    // Large vocab files: mutate only the first 4 KiB (header and first entries); fewer cases.
    loadBase("llama-spm", m("llama.cpp-vocab/ggml-vocab-llama-spm.gguf"), 250, 4096),
    loadBase("bert-bge", m("llama.cpp-vocab/ggml-vocab-bert-bge.gguf"), 250, 4096),
  ];
  const heap0 = heapUsedBytes();
  let heapPeak = 0;
  let slowest = 0;
  const outcomes: Record<string, number> = {};
  let total = 0;
  const t0 = performance.now();
  for (const [bi, base] of bases.entries()) {
    const rng = new SeededRandom(0x5eed + bi);
    for (let i = 0; i < base.cases; i++) {
      const [bytes, what] = mutate(rng, base, bases);
      const label = `${base.name} case ${i} (${what})`;
      let src = countingSource(bytes);
      let outcome = "";
      let ms = Infinity;
      // The time bound catches hangs and superlinear work; a case over it is timed again (up
      // to twice) so that a GC pause or a busy machine does not fail the run.
      for (let attempt = 0; attempt < 3 && ms >= CASE_MS; attempt++) {
        src = countingSource(bytes);
        const start = performance.now();
        outcome = runCase(src, base.name, label);
        ms = Math.min(ms, performance.now() - start);
      }
      slowest = Math.max(slowest, ms);
      assert(ms < CASE_MS, `${label} took ${ms.toFixed(1)} ms`);
      assert(
        src.maxRead <= Math.max(bytes.length, 0),
        `${label}: read ${src.maxRead} bytes at once`,
      );
      assert(
        src.total <= 2 * bytes.length + (1 << 20),
        `${label}: read ${src.total} bytes in total`,
      );
      const heap = heapUsedBytes() - heap0;
      heapPeak = Math.max(heapPeak, heap);
      assert(heap < HEAP_GROWTH_LIMIT, `${label}: heap grew by ${heap} bytes`);
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      total++;
    }
  }
  assert(total >= 10_000, `${total} cases`);
  // Both outcomes must be common, or the mutations are not reaching the parser.
  const parsed = Object.entries(outcomes).filter(([k]) => k === "ok" || k.startsWith("config "))
    .reduce((n, [, c]) => n + c, 0);
  assert(parsed > 500, JSON.stringify(outcomes));
  assert(total - parsed > 3000, JSON.stringify(outcomes));
  console.log(
    `fuzz: ${total} cases in ${((performance.now() - t0) / 1000).toFixed(1)} s, slowest ` +
      `${slowest.toFixed(1)} ms, heap peak +${(heapPeak / 2 ** 20).toFixed(0)} MiB, ` +
      `outcomes ${JSON.stringify(outcomes)}`,
  );
}, { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON });
