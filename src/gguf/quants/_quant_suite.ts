/**
 * Shared quantizer tests, registered per type by the family test files: error bound on
 * seeded normal data at several magnitudes, all-zero and tiny blocks, exact round trip of
 * values the format represents, and rejection of partial blocks.
 *
 * @module
 */
import { assert, assertThrows } from "../../../tests/assert.ts";
import { test } from "../../../tests/harness.ts";
import { type GGMLTypeName, typeByName } from "../ggml_types.ts";
import { dequantize, QuantError, quantize } from "./mod.ts";
import { relativeRmse, seededNormal } from "./_test_data.ts";

/** What a quantizer must achieve. */
export interface QuantExpectations {
  /** Upper bound on RMSE / RMS of the input for standard normal data (measured, not hoped). */
  rmse: number;
  /** Values the format holds exactly (a whole number of blocks): must come back unchanged. */
  exact?: Float32Array;
}

/** Quantize then dequantize. */
export function roundTrip(name: GGMLTypeName, x: Float32Array): Float32Array {
  const t = typeByName(name).id;
  return dequantize(t, quantize(t, x), x.length);
}

/** Registers the shared tests for one type. */
export function quantizerSuite(name: GGMLTypeName, want: QuantExpectations): void {
  const t = typeByName(name);
  const n = 16 * Math.max(t.blockSize, 32) * 4;

  test(`${name}: round-trip error on normal data stays under ${want.rmse} of the RMS`, () => {
    for (const [seed, sigma] of [[1, 1], [2, 0.02], [3, 1e-3], [4, 300]] as const) {
      const x = seededNormal(n, seed, sigma);
      const err = relativeRmse(roundTrip(name, x), x);
      assert(err < want.rmse, `${name} seed ${seed} sigma ${sigma}: relative RMSE ${err}`);
      assert(err > 0 || name === "F32", `${name}: suspiciously lossless (${err})`);
    }
  });

  test(`${name}: an all-zero block decodes to zeros and tiny inputs stay finite`, () => {
    const zeros = roundTrip(name, new Float32Array(t.blockSize * 2));
    // ±0 both count: ggml decodes a zero Q6_K block as 0 * (0 - 32) = -0.
    for (const v of zeros) assert(v === 0, `${name}: ${v} instead of 0`);
    const tiny = seededNormal(t.blockSize * 2, 9, 1e-30);
    for (const v of roundTrip(name, tiny)) assert(Number.isFinite(v) && Math.abs(v) < 1e-20);
  });

  if (want.exact) {
    const exact = want.exact;
    test(`${name}: values the format represents round-trip exactly`, () => {
      const back = roundTrip(name, exact);
      for (let i = 0; i < exact.length; i++) {
        assert(Object.is(back[i], exact[i]), `${name} element ${i}: ${back[i]} != ${exact[i]}`);
      }
    });
  }

  if (t.blockSize > 1) {
    test(`${name}: a partial block is rejected with a typed error`, () => {
      assertThrows(
        () => quantize(t.id, new Float32Array(t.blockSize + 1)),
        (e: unknown) => e instanceof QuantError && e.code === "QUANT_BAD_LENGTH",
      );
    });
  }
}

/** A whole number of 32-blocks of `scale * q`, q from `codes`, repeated to fill n. */
export function gridValues(n: number, codes: number[], scale: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = codes[i % codes.length] * scale;
  return out;
}
