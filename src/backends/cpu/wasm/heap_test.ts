/**
 * WasmHeap: aligned allocation, growth, reuse of freed blocks (first fit, split, merge),
 * and a typed error past 4 GiB.
 *
 * @module
 */
import { test } from "../../../../tests/harness.ts";
import { assert, assertStrictEquals, assertThrows } from "../../../../tests/assert.ts";
import { OutOfMemoryError } from "../../../core/errors.ts";
import { sharedMemorySupported } from "./module.ts";
import { PAGE, WasmHeap } from "./heap.ts";

const opts = { ignore: !sharedMemorySupported(), reason: "no shared WebAssembly memory here" };

test("WasmHeap aligns, grows and reuses freed blocks", () => {
  const h = new WasmHeap(100, 1);
  const a = h.alloc(10, 64);
  assertStrictEquals(a, 128);
  const b = h.alloc(3 * PAGE, 16);
  assert(b >= a + 10 && b % 16 === 0);
  assert(h.memory.buffer.byteLength >= b + 3 * PAGE, "memory did not grow");
  h.u8[b + 3 * PAGE - 1] = 7;
  const c = h.alloc(1000, 16);
  h.free(b, 3 * PAGE);
  assertStrictEquals(h.freeBytes, 3 * PAGE);
  const d = h.alloc(PAGE, 64); // first fit inside the freed block
  assertStrictEquals(d, alignTo(b, 64));
  h.free(d, PAGE);
  assertStrictEquals(h.freeBytes, 3 * PAGE); // merged back into one block
  const top = h.used;
  h.free(c, 1000); // touches the freed block and ends at the top: the top drops to b
  assert(h.used < top && h.used === b, `top ${h.used} after freeing the tail`);
  assertStrictEquals(h.freeBytes, 0);
}, opts);

test("WasmHeap refuses more than 4 GiB, and bad sizes, with OutOfMemoryError", () => {
  const h = new WasmHeap(0, 1);
  assertThrows(() => h.alloc(2 ** 32 + 64), OutOfMemoryError);
  assertThrows(() => h.alloc(0.5), OutOfMemoryError);
  assertThrows(() => h.alloc(-1), OutOfMemoryError);
}, opts);

function alignTo(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}
