/**
 * Rotary position embedding on the CPU, llama.cpp semantics (normal and NeoX ordering,
 * linear frequency scaling, YaRN).
 *
 * @module
 */
import type { RopeParams } from "../../../core/graph.ts";
import { fmaf, fr } from "./f32.ts";
import { sincosf } from "./libm.ts";

/** YaRN correction range [low, high] in rotary dimensions. */
export function yarnCorrDims(p: RopeParams): [number, number] {
  const corr = (nRot: number) =>
    (p.nRot * Math.log(p.nCtxOrig / (nRot * 2 * Math.PI))) / (2 * Math.log(p.freqBase));
  const start = Math.floor(corr(p.betaFast));
  const end = Math.ceil(corr(p.betaSlow));
  return [Math.max(0, start), Math.min(p.nRot - 1, end)];
}

/**
 * Fills cos/sin tables for one position: entry i covers the pair starting at rotary
 * dimension 2i. Float32 steps of ggml's rope cache (ggml_rope_cache_init / rope_yarn):
 * theta starts at float(pos) and is multiplied by theta_scale = powf(base, -2/n_rot) once
 * per pair, in float32; cos and sin come from glibc's sincosf (libm.ts), times mscale.
 * The YaRN branch keeps GCC's contraction of theta_interp * (1 - mix) + theta_extrap * mix
 * into one FMA; its logf is approximated by Math.log. `freqFactors` (rope_freqs) divide the
 * angle of each pair as in ggml_rope_cache_init.
 */
export function ropeAngles(
  p: RopeParams,
  pos: number,
  cos: Float32Array,
  sin: Float32Array,
  freqFactors?: Float32Array,
): void {
  const thetaScale = fr(Math.pow(fr(p.freqBase), fr(-2 / p.nRot)));
  const freqScale = fr(p.freqScale);
  const extFactor = fr(p.extFactor);
  const [low, high] = p.extFactor !== 0 ? yarnCorrDims(p) : [0, 0];
  let theta = fr(pos);
  for (let i = 0; i < p.nRot / 2; i++) {
    // rope_yarn(theta / ff, ...): the extrapolated angle divided by the frequency factor.
    const thetaExtrap = freqFactors ? fr(theta / freqFactors[i]) : theta;
    const thetaInterp = fr(freqScale * thetaExtrap);
    let th = thetaInterp;
    let mscale = fr(p.attnFactor);
    if (extFactor !== 0) {
      const y = fr(fr(i - low) / Math.max(0.001, fr(high - low)));
      const rampMix = fr(fr(1 - Math.min(1, Math.max(0, y))) * extFactor);
      th = fmaf(thetaInterp, fr(1 - rampMix), fr(thetaExtrap * rampMix));
      mscale = fr(fmaf(0.10000000149011612, fr(Math.log(fr(1 / freqScale))), 1) * mscale);
    }
    const [s, c] = sincosf(th);
    cos[i] = fr(c * mscale);
    sin[i] = fr(s * mscale);
    theta = fr(theta * thetaScale);
  }
}

/**
 * Applies RoPE to x [rows, nHeads*headDim] where row t has position pos0 + t. Each pair is
 * rotated as GCC compiled ggml's rotate_pairs (FMA contraction of the first product):
 * x0' = fma(x0, cos, -(x1 * sin)), x1' = fma(x0, sin, x1 * cos).
 */
export function rope(
  x: Float32Array,
  rows: number,
  nHeads: number,
  headDim: number,
  p: RopeParams,
  pos0: number,
  out: Float32Array,
  freqFactors?: Float32Array,
): void {
  const half = p.nRot / 2;
  const cos = new Float32Array(half);
  const sin = new Float32Array(half);
  const cols = nHeads * headDim;
  if (out !== x) out.set(x.subarray(0, rows * cols));
  for (let t = 0; t < rows; t++) {
    ropeAngles(p, pos0 + t, cos, sin, freqFactors);
    for (let h = 0; h < nHeads; h++) {
      const o = t * cols + h * headDim;
      for (let i = 0; i < half; i++) {
        const a = p.mode === "neox" ? o + i : o + 2 * i;
        const b = p.mode === "neox" ? o + i + half : o + 2 * i + 1;
        const x0 = x[a];
        const x1 = x[b];
        out[a] = fmaf(x0, cos[i], -fr(x1 * sin[i]));
        out[b] = fmaf(x0, sin[i], fr(x1 * cos[i]));
      }
    }
  }
}
