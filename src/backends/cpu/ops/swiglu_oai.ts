/**
 * gpt-oss's expert activation (ggml_swiglu_oai, ggml-cpu's swiglu_oai_f32 with llama.cpp's
 * alpha 1.702 and limit 7): x = min(gate, limit), y = clamp(up, -limit, limit),
 * out = x / (1 + expf(alpha * -x)) * (y + 1), each step in float32 with glibc's expf.
 *
 * @module
 */
import { fr } from "./f32.ts";
import { expf } from "./libm.ts";

/** llama.cpp's constants for LLM_FFN_SWIGLU_OAI_MOE. */
export const SWIGLU_OAI_ALPHA = 1.702;
export const SWIGLU_OAI_LIMIT = 7;

/** out[i] = swiglu_oai(gate[i], up[i]) for i < n. */
export function swigluOai(gate: Float32Array, up: Float32Array, out: Float32Array, n: number) {
  const alpha = fr(SWIGLU_OAI_ALPHA), limit = fr(SWIGLU_OAI_LIMIT);
  for (let i = 0; i < n; i++) {
    const x = Math.min(gate[i], limit);
    const y = Math.min(Math.max(up[i], -limit), limit);
    const glu = fr(x / fr(1 + expf(fr(alpha * -x))));
    out[i] = fr(glu * fr(y + 1));
  }
}
