import { assertEquals, assertStrictEquals, assertThrows } from "../../../tests/assert.ts";
import { test } from "../../../tests/harness.ts";
import { SlotAllocator } from "./slot_allocator.ts";

test("SlotAllocator grows from its base and reuses the best-fitting freed block", () => {
  const a = new SlotAllocator(10);
  const x = a.alloc(4); // 10..13
  const y = a.alloc(2); // 14..15
  const z = a.alloc(6); // 16..21
  assertEquals([x, y, z], [10, 14, 16]);
  assertStrictEquals(a.end, 22);
  a.release(x);
  a.release(z);
  // 2 slots fit both the 4-block and the 6-block; best fit takes the 4-block.
  assertStrictEquals(a.alloc(2), 10);
  assertStrictEquals(a.end, 22);
  assertStrictEquals(a.inUse, 4);
});

test("SlotAllocator merges neighbours and extends a free tail instead of growing past it", () => {
  const a = new SlotAllocator(0);
  const p = a.alloc(3);
  const q = a.alloc(3);
  const r = a.alloc(3);
  a.release(p);
  a.release(r);
  a.release(q); // all three merge into one block 0..8
  assertStrictEquals(a.alloc(9), 0);
  assertStrictEquals(a.end, 9);
  const b = new SlotAllocator(0);
  b.alloc(2);
  const tail = b.alloc(2);
  b.release(tail);
  assertStrictEquals(b.alloc(5), 2); // the free tail is absorbed
  assertStrictEquals(b.end, 7);
});

test("SlotAllocator rejects releasing a block it did not hand out", () => {
  const a = new SlotAllocator(0);
  a.alloc(1);
  assertThrows(() => a.release(5), /not allocated/);
});
