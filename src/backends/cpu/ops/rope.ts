/**
 * Rotary position embedding on the CPU, llama.cpp semantics (normal and NeoX ordering,
 * linear frequency scaling, YaRN).
 *
 * @module
 */
import type { RopeParams } from "../../../core/graph.ts";

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
 * dimension 2i.
 */
export function ropeAngles(
  p: RopeParams,
  pos: number,
  cos: Float32Array,
  sin: Float32Array,
): void {
  const thetaScale = Math.pow(p.freqBase, -2 / p.nRot);
  const [low, high] = p.extFactor !== 0 ? yarnCorrDims(p) : [0, 0];
  let thetaExtrap = pos;
  for (let i = 0; i < p.nRot / 2; i++) {
    const thetaInterp = p.freqScale * thetaExtrap;
    let theta = thetaInterp;
    let mscale = p.attnFactor;
    if (p.extFactor !== 0) {
      const y = (i - low) / Math.max(0.001, high - low);
      const rampMix = (1 - Math.min(1, Math.max(0, y))) * p.extFactor;
      theta = thetaInterp * (1 - rampMix) + thetaExtrap * rampMix;
      mscale *= 1 + 0.1 * Math.log(1 / p.freqScale);
    }
    cos[i] = Math.cos(theta) * mscale;
    sin[i] = Math.sin(theta) * mscale;
    thetaExtrap *= thetaScale;
  }
}

/** Applies RoPE to x [rows, nHeads*headDim] where row t has position pos0 + t. */
export function rope(
  x: Float32Array,
  rows: number,
  nHeads: number,
  headDim: number,
  p: RopeParams,
  pos0: number,
  out: Float32Array,
): void {
  const half = p.nRot / 2;
  const cos = new Float32Array(half);
  const sin = new Float32Array(half);
  const cols = nHeads * headDim;
  if (out !== x) out.set(x.subarray(0, rows * cols));
  for (let t = 0; t < rows; t++) {
    ropeAngles(p, pos0 + t, cos, sin);
    for (let h = 0; h < nHeads; h++) {
      const o = t * cols + h * headDim;
      for (let i = 0; i < half; i++) {
        const a = p.mode === "neox" ? o + i : o + 2 * i;
        const b = p.mode === "neox" ? o + i + half : o + 2 * i + 1;
        const x0 = x[a];
        const x1 = x[b];
        out[a] = x0 * cos[i] - x1 * sin[i];
        out[b] = x0 * sin[i] + x1 * cos[i];
      }
    }
  }
}
