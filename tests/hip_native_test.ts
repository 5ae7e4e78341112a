/**
 * The native library on a device (skipped without one): arena carving, uploads, failures
 * that must come back as typed errors without killing the process (out of memory, malformed
 * programs, token ids outside the vocabulary, KV overflow).
 *
 * @module
 */
import { createHipBackend } from "../src/backends/hip/backend.ts";
import { RfOp } from "../src/backends/hip/ffi/symbols.ts";
import { GraphBuilder } from "../src/core/graph.ts";
import { BackendError, InvalidArgumentError, OutOfMemoryError } from "../src/core/errors.ts";
import { GGMLType } from "../src/gguf/ggml_types.ts";
import { assert, assertEquals, assertMatch, assertRejects, assertThrows } from "./assert.ts";
import { Rng, weightTensor } from "./conformance_util.ts";
import { test } from "./harness.ts";

const hip = createHipBackend();
const probe = await hip.probe();
const opts = { ignore: !probe.available, reason: `HIP backend unavailable: ${probe.reason}` };

test(
  "native: arena carves best-fit 256-byte blocks, merges freed ones, round-trips data",
  async () => {
    const n = await hip.native();
    const ctx = n.contextCreate(0);
    const arena = n.arenaCreate(ctx, 10_000);
    try {
      const a = n.arenaAlloc(arena, 1000);
      const b = n.arenaAlloc(arena, 300);
      const c = n.arenaAlloc(arena, 2000);
      assertEquals([a, b, c], [0, 1024, 1536]);
      n.arenaFree(arena, b);
      assertEquals(n.arenaAlloc(arena, 200), 1024); // best fit: the freed 512-byte hole
      const data = new Rng(5).floats(500);
      const bytes = new Uint8Array(data.buffer);
      n.arenaUpload(arena, c, bytes);
      const back = new Uint8Array(bytes.length);
      n.arenaDownload(arena, c, back);
      assertEquals(back, bytes);
      assertThrows(() => n.arenaUpload(arena, c, new Uint8Array(4000)), InvalidArgumentError);
      assertThrows(() => n.arenaAlloc(arena, 1 << 20), OutOfMemoryError);
      const s = n.arenaStats(arena);
      assertEquals(s.capacity, 10_240);
    } finally {
      n.arenaDestroy(arena);
      n.contextDestroy(ctx);
    }
  },
  opts,
);

test(
  "native: an allocation larger than the device is OutOfMemoryError naming hipMalloc",
  async () => {
    const n = await hip.native();
    const ctx = n.contextCreate(0);
    try {
      const e = assertThrows(() => n.arenaCreate(ctx, 2 ** 50), OutOfMemoryError) as unknown;
      void e;
      try {
        n.arenaCreate(ctx, 2 ** 50);
      } catch (err) {
        assert(err instanceof OutOfMemoryError);
        assertMatch(String(err.facts.call), /Malloc/);
        assertMatch(String(err.facts.gpuError), /(OutOfMemory|MemoryAllocation)/);
        assertEquals(err.facts.bytes, 2 ** 50);
      }
      // The device still works afterwards.
      const arena = n.arenaCreate(ctx, 4096);
      n.arenaDestroy(arena);
    } finally {
      n.contextDestroy(ctx);
    }
  },
  opts,
);

test("native: malformed programs are rejected before anything runs", async () => {
  const n = await hip.native();
  const ctx = n.contextCreate(0);
  try {
    const out = new Uint8Array(16);
    const none = new Uint8Array(0);
    assertThrows(() => n.exec(ctx, 0, 0, Int32Array.of(99, 1, 2), none, out, 4096, 0), /opcode 99/);
    // ADD reading past the scratch buffer.
    assertThrows(
      () => n.exec(ctx, 0, 0, Int32Array.of(RfOp.ADD, 0, 0, 100, 64), none, out, 4096, 0),
      (e: unknown) => e instanceof InvalidArgumentError && /exceeds scratch/.test(e.message),
    );
    // Attention without a KV cache, download past the host buffer.
    assertThrows(
      () => n.exec(ctx, 0, 0, Int32Array.of(RfOp.DOWNLOAD, 8, 0, 64), none, out, 4096, 0),
      /host output/,
    );
  } finally {
    n.contextDestroy(ctx);
  }
}, opts);

test("backend: token ids outside the vocabulary and KV overflow are typed errors", async () => {
  const r = new Rng(9);
  const context = await hip.createContext([
    weightTensor("emb", GGMLType.Q8_0, [64, 10], r.floats(640)),
  ]);
  try {
    const g = new GraphBuilder(2, 1);
    const e = g.push({ op: "embed", layer: -1, out: g.value(2, 64, "e"), weight: "emb" });
    const graph = g.build(e);
    const req = {
      graph,
      nodes: [0],
      pos0: 0,
      inputs: new Map<number, Float32Array>(),
      outputs: [e],
    };
    await assertRejects(
      () => context.compute({ ...req, tokens: Int32Array.of(3, 10) }),
      (err: unknown) => err instanceof InvalidArgumentError && /token id 10/.test(err.message),
    );
    const ok = await context.compute({ ...req, tokens: Int32Array.of(3, 9) });
    assertEquals(ok.get(e)!.length, 128);

    const kv = context.createKV({
      layers: [0],
      capacity: 4,
      nHeadKV: 1,
      headDim: 64,
      valueDim: 64,
    });
    const a = new GraphBuilder(5, 1);
    const q = a.value(5, 64, "q");
    const o = a.push({
      op: "attention",
      layer: 0,
      out: a.value(5, 64, "o"),
      q,
      k: q,
      v: q,
      nHead: 1,
      nHeadKV: 1,
      headDim: 64,
      valueDim: 64,
      scale: 0.125,
    });
    await assertRejects(
      () =>
        context.compute({
          graph: a.build(o),
          nodes: [0],
          kv,
          tokens: new Int32Array(5),
          pos0: 0,
          inputs: new Map([[q, r.floats(5 * 64)]]),
          outputs: [o],
        }),
      // The scheduler checks capacity before it calls a backend; the native validator
      // still refuses a program that would write past the cache.
      (err: unknown) =>
        (err instanceof BackendError || err instanceof InvalidArgumentError) &&
        /KV capacity/.test(err.message),
    );
    kv.dispose();
  } finally {
    context.dispose();
  }
}, opts);
