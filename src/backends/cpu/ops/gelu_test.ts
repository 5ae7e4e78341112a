/** GeGLU through ggml's half-precision GELU table: values, the +-10 cut-offs, and rounding. */
import { assert, assertEquals } from "../../../../tests/assert.ts";
import { test } from "../../../../tests/harness.ts";
import { f16ToF32, f32ToF16 } from "../../../gguf/quants/half.ts";
import { geglu, geluF32 } from "./gelu.ts";

test("gelu: float32 formula near the exact tanh GELU", () => {
  for (const x of [-3, -1, -0.5, 0, 0.25, 1, 2.5, 6]) {
    const exact = 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
    assert(Math.abs(geluF32(x) - exact) <= 1e-6 * Math.max(1, Math.abs(exact)), `${x}`);
  }
  assertEquals(geluF32(0), 0);
});

test("geglu: table lookup of half(x), exact cut-offs, float32 product", () => {
  const gate = Float32Array.of(-12, -10, 0.3337, 1.5, 10, 11);
  const up = Float32Array.of(2, 2, 3, -2, 0.5, 0.5);
  const out = new Float32Array(6);
  geglu(gate, up, out, 6);
  assertEquals([out[0], out[1]], [0, 0]);
  assertEquals([out[4], out[5]], [5, 5.5]);
  for (const i of [2, 3]) {
    const g = f16ToF32(f32ToF16(geluF32(f16ToF32(f32ToF16(gate[i])))));
    assertEquals(out[i], Math.fround(g * up[i]));
  }
  // The table rounds: the result is a half value times up, not gelu(x) * up.
  assert(out[2] !== Math.fround(geluF32(gate[2]) * up[2]));
});
