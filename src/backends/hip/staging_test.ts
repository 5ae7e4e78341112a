import { assertEquals, assertRejects } from "../../../tests/assert.ts";
import { test } from "../../../tests/harness.ts";
import type { WeightTensor } from "../../core/backend.ts";
import { AbortError } from "../../core/errors.ts";
import { type StagingDevice, stagingParts, uploadStaged } from "./staging.ts";

/**
 * A device whose copies are asynchronous: a queued copy reads its slot only when it
 * "completes" (at the slot's wait, or at flush), so a slot refilled before its copy finished
 * would land the wrong bytes in the arena. Logs every call.
 */
class FakeDevice implements StagingDevice {
  readonly arena: Uint8Array;
  readonly log: string[] = [];
  private readonly pending = new Map<number, [number, number]>();
  maxInFlight = 0;
  constructor(private readonly buffer: Uint8Array, private readonly slots: number, size: number) {
    this.arena = new Uint8Array(size);
  }
  private get slotBytes() {
    return this.buffer.byteLength / this.slots;
  }
  upload(slot: number, offset: number, bytes: number): void {
    if (this.pending.has(slot)) throw new Error(`slot ${slot} refilled while busy`);
    this.pending.set(slot, [offset, bytes]);
    this.maxInFlight = Math.max(this.maxInFlight, this.pending.size);
    this.log.push(`upload ${slot} ${offset} ${bytes}`);
  }
  wait(slot: number): void {
    const p = this.pending.get(slot);
    if (!p) return;
    const at = slot * this.slotBytes;
    this.arena.set(this.buffer.subarray(at, at + p[1]), p[0]);
    this.pending.delete(slot);
    this.log.push(`wait ${slot}`);
  }
  flush(): void {
    for (const s of [...this.pending.keys()]) this.wait(s);
  }
}

const bytesOf = (n: number, seed: number) =>
  Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7) & 255);

function tensor(name: string, data: Uint8Array, parts: boolean, reads: string[]): WeightTensor {
  const t: WeightTensor = {
    info: {
      name,
      dims: [data.length],
      type: 0,
      offset: 0,
      nElements: data.length,
      nBytes: data.length,
    },
    read: () => {
      reads.push(`${name} whole`);
      return data;
    },
  };
  if (!parts) return t;
  return {
    ...t,
    readInto: (start, target) => {
      reads.push(`${name} ${start}+${target.length}`);
      target.set(data.subarray(start, start + target.length));
    },
  };
}

test("stagingParts cuts each tensor into slot-sized parts in order", () => {
  assertEquals(stagingParts([10, 3, 8], 4), [
    [0, 0, 4],
    [0, 4, 4],
    [0, 8, 2],
    [1, 0, 3],
    [2, 0, 4],
    [2, 4, 4],
  ]);
  assertEquals(stagingParts([], 4), []);
});

test("uploadStaged lands every tensor's bytes at its offset, reading each part once in order", async () => {
  const sizes = [1000, 37, 4096, 1, 2500, 256];
  const data = sizes.map((n, i) => bytesOf(n, i));
  const offsets: number[] = [];
  let end = 0;
  for (const n of sizes) {
    offsets.push(end);
    end += Math.ceil(n / 256) * 256;
  }
  for (const slots of [1, 2, 3, 4]) {
    const buffer = new Uint8Array(slots * 512);
    const dev = new FakeDevice(buffer, slots, end);
    const reads: string[] = [];
    // Even tensors read in parts, odd ones through read() (a backend-neutral fallback).
    const items = data.map((d, i) => ({
      tensor: tensor(`t${i}`, d, i % 2 === 0, reads),
      offset: offsets[i],
    }));
    await uploadStaged(buffer, slots, dev, items);
    dev.flush();
    data.forEach((d, i) => assertEquals(dev.arena.subarray(offsets[i], offsets[i] + d.length), d));
    // Sequential: tensors in the given order, parts in ascending order; read() once per tensor.
    assertEquals(reads, [
      "t0 0+512",
      "t0 512+488",
      "t1 whole",
      "t2 0+512",
      "t2 512+512",
      "t2 1024+512",
      "t2 1536+512",
      "t2 2048+512",
      "t2 2560+512",
      "t2 3072+512",
      "t2 3584+512",
      "t3 whole",
      "t4 0+512",
      "t4 512+512",
      "t4 1024+512",
      "t4 1536+512",
      "t4 2048+452",
      "t5 whole",
    ]);
    assertEquals(dev.maxInFlight, slots, `${slots} slots: copies in flight`);
  }
});

test("uploadStaged overlaps: the next part is read before the previous copy is waited for", async () => {
  const buffer = new Uint8Array(3 * 100);
  const dev = new FakeDevice(buffer, 3, 1000);
  const reads: string[] = [];
  await uploadStaged(buffer, 3, dev, [{
    tensor: tensor("a", bytesOf(1000, 1), true, reads),
    offset: 0,
  }]);
  // Slot k is waited for only when the ring comes back to it, 3 parts later.
  assertEquals(dev.log.slice(0, 6), [
    "upload 0 0 100",
    "upload 1 100 100",
    "upload 2 200 100",
    "wait 0",
    "upload 0 300 100",
    "wait 1",
  ]);
  dev.flush();
  assertEquals(dev.arena, bytesOf(1000, 1));
});

test("uploadStaged stops at an aborted signal between tensors and rejects a ragged buffer", async () => {
  const buffer = new Uint8Array(200);
  const dev = new FakeDevice(buffer, 2, 512);
  const ac = new AbortController();
  const reads: string[] = [];
  const items = [0, 1].map((i) => ({
    tensor: tensor(`t${i}`, bytesOf(50, i), true, reads),
    offset: i * 256,
  }));
  const first = items[0].tensor;
  items[0] = {
    ...items[0],
    tensor: {
      ...first,
      readInto: (s, t) => {
        first.readInto!(s, t);
        ac.abort();
      },
    },
  };
  await assertRejects(() => uploadStaged(buffer, 2, dev, items, ac.signal), AbortError);
  assertEquals(reads, ["t0 0+50"]);
  await assertRejects(() => uploadStaged(new Uint8Array(201), 2, dev, items), RangeError);
});
