/**
 * Weight upload through the staging ring on a device (skipped without one): tensors of every
 * type the HIP kernels read, sized so the larger ones cross several slots, come back from the
 * arena bit-identical to their bytes, whether read in parts (`readInto`) or whole (`read()`);
 * a misused ring (a slot refilled before its copy was waited for, a part larger than a slot,
 * a range outside the arena) is a typed error.
 *
 * @module
 */
import { createHipBackend } from "../src/backends/hip/backend.ts";
import { weightBytes } from "../src/backends/hip/program_io.ts";
import { HipStaging } from "../src/backends/hip/staging_native.ts";
import { HIP_WEIGHT_TYPES } from "../src/backends/hip/support.ts";
import { HipWeightStore } from "../src/backends/hip/weights.ts";
import type { WeightTensor } from "../src/core/backend.ts";
import { InvalidArgumentError } from "../src/core/errors.ts";
import { type GGMLType, typeTraits } from "../src/gguf/ggml_types.ts";
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { Rng } from "./conformance_util.ts";
import { test } from "./harness.ts";

const hip = createHipBackend();
const probe = await hip.probe();
const opts = { ignore: !probe.available, reason: `HIP backend unavailable: ${probe.reason}` };

function randomTensor(name: string, type: GGMLType, rows: number, seed: number, parts: boolean) {
  const dims = [typeTraits(type).blockSize * 8, rows];
  const n = weightBytes(type, dims);
  const rng = new Rng(seed);
  const data = Uint8Array.from({ length: n }, () => Math.floor(rng.next() * 256));
  let offset = 0;
  const t: WeightTensor = {
    info: { name, dims, type, offset: seed * 1e6, nElements: dims[0] * rows, nBytes: n },
    read: () => data,
    ...(parts
      ? {
        readInto: (start: number, target: Uint8Array) => {
          assertEquals(start, offset, `${name}: parts in order`);
          target.set(data.subarray(start, start + target.byteLength));
          offset += target.byteLength;
        },
      }
      : {}),
  };
  return { t, data };
}

test(
  "hip staging: every weight type lands bit-identical, across slots, in parts or whole",
  async () => {
    const n = await hip.native();
    const ctx = n.contextCreate(0);
    try {
      const types = [...HIP_WEIGHT_TYPES] as GGMLType[];
      // Every 4th tensor is large (about a third of the total: it spans several slots).
      const made = types.map((type, i) =>
        randomTensor(`w${i}`, type, i % 4 === 0 ? 97 * 16 : 3 + i, i + 1, i % 2 === 0)
      );
      const store = await HipWeightStore.load(n, ctx, made.map((m) => m.t));
      try {
        for (const m of made) {
          assert(store.has(m.t.info.name), m.t.info.name);
          assertEquals(
            store.download(m.t.info.name),
            m.data,
            `${m.t.info.name} (${m.t.info.type})`,
          );
        }
      } finally {
        store.dispose();
      }
    } finally {
      n.contextDestroy(ctx);
    }
  },
  opts,
);

test("hip staging: misuse of the ring is InvalidArgumentError", async () => {
  const n = await hip.native();
  const ctx = n.contextCreate(0);
  const arena = n.arenaCreate(ctx, 4096);
  const off = n.arenaAlloc(arena, 4096);
  const s = HipStaging.create(n, ctx, arena, 1024, 2);
  try {
    s.buffer.fill(7);
    s.upload(0, off, 1024);
    assertThrows(() => s.upload(0, off + 1024, 16), InvalidArgumentError); // not waited for
    assertThrows(() => s.upload(1, off, 1025), InvalidArgumentError); // larger than a slot
    assertThrows(() => s.upload(1, off + 4000, 200), InvalidArgumentError); // outside the block
    s.wait(0);
    s.wait(0); // nothing queued: returns at once
    s.upload(0, off + 1024, 16);
    s.dispose();
    const back = new Uint8Array(1040);
    n.arenaDownload(arena, off, back);
    assertEquals(back, new Uint8Array(1040).fill(7));
  } finally {
    s.dispose();
    n.arenaDestroy(arena);
    n.contextDestroy(ctx);
  }
}, opts);
