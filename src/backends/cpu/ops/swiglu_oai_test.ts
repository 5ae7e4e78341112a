import { assert, assertStrictEquals } from "../../../../tests/assert.ts";
import { test } from "../../../../tests/harness.ts";
import { SWIGLU_OAI_LIMIT, swigluOai } from "./swiglu_oai.ts";

test("swiglu_oai: gate clamped above, up clamped both ways, (up + 1) factor", () => {
  const gate = Float32Array.from([-3, 0, 0.5, 6.5, 7, 9, 40]);
  const up = Float32Array.from([-9, -1, 0.25, 2, -7.5, 8, 100]);
  const out = new Float32Array(gate.length);
  swigluOai(gate, up, out, gate.length);
  const lim = SWIGLU_OAI_LIMIT;
  for (let i = 0; i < gate.length; i++) {
    const x = Math.min(gate[i], lim), y = Math.max(-lim, Math.min(up[i], lim));
    const want = x / (1 + Math.exp(-1.702 * x)) * (y + 1);
    assert(
      Math.abs(out[i] - want) <= 1e-6 * Math.max(1, Math.abs(want)),
      `${i}: ${out[i]} ${want}`,
    );
  }
  // Past the limits neither input changes the output any more.
  assertStrictEquals(out[5], out[6]);
  assertStrictEquals(out[1], 0); // up = -1 cancels
});
