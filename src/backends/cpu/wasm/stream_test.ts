/**
 * The streaming read (the bandwidth microbenchmark's kernel) reads every byte of its region
 * on every thread count and variant: its xor equals the xor computed here, and a region
 * that is not whole rows inside the kernel memory is refused.
 *
 * @module
 */
import { test } from "../../../../tests/harness.ts";
import { assertEquals, assertThrows } from "../../../../tests/assert.ts";
import { InvalidArgumentError } from "../../../core/errors.ts";
import { kernelModule } from "./module.ts";
import { WasmKernels } from "./runtime.ts";
import { STREAM_ROW_BYTES } from "./stream.ts";

test("streamRead: the xor of everything read, on 1 and 2 threads, both variants", async () => {
  const bytes = 37 * STREAM_ROW_BYTES;
  const data = new Uint8Array(bytes).map((_, i) => (i * 2654435761) >>> 13);
  const words = new Int32Array(data.buffer);
  let want = 0;
  for (const w of words) want ^= w;
  for (const variant of ["simd128", "relaxed"] as const) {
    if (!kernelModule(variant)) continue;
    for (const threads of [1, 2]) {
      const k = (await WasmKernels.create({ threads, variant }))!;
      try {
        const p = k.upload(data);
        assertEquals(k.streamRead(p, bytes), want, `${variant}, ${threads} threads`);
        assertThrows(() => k.streamRead(p, bytes - 64), InvalidArgumentError, "whole");
        assertThrows(() => k.streamRead(p + bytes, bytes), InvalidArgumentError, "whole");
      } finally {
        await k.dispose();
      }
    }
  }
}, { ignore: kernelModule() === undefined, reason: "no WebAssembly SIMD / shared memory here" });
