/**
 * The native kernels against the TypeScript path: bit for bit for Q4_0 ("rows" with a
 * multiple of 8 rows, "lanes" otherwise), Q8_0 (repacked in groups of 8 rows or not) and Q4_K
 * with a multiple of 8 rows, where
 * ops/matmul_exact.ts and ops/matmul_q4k.ts compute llama.cpp's x86 arithmetic; within float
 * rounding for Q5_K, Q6_K and other Q4_K (the TypeScript reference sums dequantized rows; the
 * kernels take ggml_vec_dot_q*_K_q8_K's int8 lanes).
 * The AVX2 and AVX512-VNNI builds give the same bits for every type. Skips when the library
 * is not built (`deno task build:native --target cpu`).
 *
 * @module
 */
import { test } from "../../../../tests/harness.ts";
import { randomFloats } from "../../../../tests/random_data.ts";
import { assert, assertEquals } from "../../../../tests/assert.ts";
import { GGMLType, typeTraits } from "../../../gguf/ggml_types.ts";
import { quantize } from "../../../gguf/quants/mod.ts";
import { fileExists } from "../../../runtime/ffi_load.ts";
import { matmul } from "../ops/matmul.ts";
import { NativeKernels, nativeLibraryCandidates, type NativeVariant } from "./native_kernels.ts";

const HAVE_LIB = nativeLibraryCandidates().some(fileExists);
const opts = {
  ignore: !HAVE_LIB,
  reason: "librocmforge_cpu.so not built (deno task build:native --target cpu)",
};

interface Case {
  type: GGMLType;
  rows: number;
  cols: number;
  T: number;
  bias: boolean;
  seed: number;
}

function cases(): Case[] {
  const out: Case[] = [];
  let seed = 7;
  for (const type of [GGMLType.Q4_0, GGMLType.Q8_0, GGMLType.Q4_K, GGMLType.Q5_K, GGMLType.Q6_K]) {
    const cols = typeTraits(type).blockSize === 256 ? 512 : 96;
    // 200 rows: chunks of 16 rows (two groups of 8 at once in the VNNI build) and one of 8
    for (const rows of [64, 36, 200]) {
      for (const T of [1, 3, 5, 9, 17]) {
        for (const bias of [false, true]) out.push({ type, rows, cols, T, bias, seed: seed++ });
      }
    }
  }
  return out;
}

function run(k: NativeKernels, c: Case): { got: Float32Array; want: Float32Array } {
  const raw = quantize(c.type, randomFloats(c.rows * c.cols, c.seed, 1));
  const x = randomFloats(c.T * c.cols, c.seed + 1, 2);
  const bias = c.bias ? randomFloats(c.rows, c.seed + 2, 1) : undefined;
  const got = new Float32Array(c.T * c.rows);
  k.matmul(k.prepare(c.type, c.rows, c.cols, raw), x, c.T, got, bias);
  const want = new Float32Array(c.T * c.rows);
  const rowBytes = raw.length / c.rows;
  matmul({ type: c.type, rows: c.rows, cols: c.cols, data: raw, rowBytes }, x, c.T, want, bias);
  return { got, want };
}

const label = (c: Case) => `${typeTraits(c.type).name} ${c.rows}x${c.cols} T=${c.T} bias=${c.bias}`;

async function variants(): Promise<NativeKernels[]> {
  const ks = [await NativeKernels.open({ threads: 2, variant: "avx2" })];
  try {
    ks.push(await NativeKernels.open({ threads: 2, variant: "avx512vnni" }));
  } catch {
    // a CPU without AVX512-VNNI runs the AVX2 build only
  }
  return ks;
}

test("native matmul equals the TypeScript path (Q4_0, Q8_0, Q4_K bit for bit)", async () => {
  for (const k of await variants()) {
    try {
      const bad: string[] = [];
      for (const c of cases()) {
        const { got, want } = run(k, c);
        const exact = c.type === GGMLType.Q4_0 || c.type === GGMLType.Q8_0 ||
          (c.type === GGMLType.Q4_K && c.rows % 8 === 0);
        let worst = 0, scale = 0;
        for (let i = 0; i < got.length; i++) {
          scale = Math.max(scale, Math.abs(want[i]));
          worst = Math.max(worst, Math.abs(got[i] - want[i]));
          if (exact && !Object.is(got[i], want[i])) {
            bad.push(`${k.variant} ${label(c)} i=${i}: native ${got[i]}, ts ${want[i]}`);
            break;
          }
        }
        assert(scale > 0, "the case must have non-trivial outputs");
        if (!exact && worst > 1e-4 * scale) {
          bad.push(`${k.variant} ${label(c)}: off by ${worst} (outputs up to ${scale})`);
        }
      }
      assertEquals(bad, []);
    } finally {
      k.dispose();
    }
  }
}, opts);

test("native AVX2 and AVX512-VNNI builds give the same bits", async () => {
  const ks = await variants();
  try {
    if (ks.length < 2) return;
    for (const c of cases()) {
      const a = run(ks[0], c).got, b = run(ks[1], c).got;
      for (let i = 0; i < a.length; i++) {
        assert(Object.is(a[i], b[i]), `${label(c)} i=${i}: avx2 ${a[i]}, vnni ${b[i]}`);
      }
    }
  } finally {
    for (const k of ks) k.dispose();
  }
}, opts);

test("repacked Q4_0, Q8_0 and Q4_K matrices unpack to their GGUF bytes", async () => {
  const k = await NativeKernels.open({});
  try {
    for (const type of [GGMLType.Q4_0, GGMLType.Q8_0, GGMLType.Q4_K]) {
      const rows = 16, cols = 512;
      const raw = quantize(type, randomFloats(rows * cols, 3, 1));
      const m = k.prepare(type, rows, cols, raw);
      assert(m.repacked, `${typeTraits(type).name} with 16 rows is repacked`);
      assertEquals([...k.unpack(m)], [...raw]);
    }
  } finally {
    k.dispose();
  }
}, opts);

test("native kernels refuse what they cannot run", async () => {
  const k = await NativeKernels.open({});
  try {
    assert(!k.supports(GGMLType.Q5_1, 8, 64), "Q5_1 has no native kernel");
    assert(k.supports(GGMLType.Q5_K, 8, 256), "Q5_K has one");
    assert(!k.supports(GGMLType.Q4_K, 8, 96), "Q4_K rows must be whole super-blocks");
    let err: unknown;
    try {
      k.matmul(
        k.prepare(GGMLType.Q8_0, 8, 32, new Uint8Array(8 * 34)),
        new Float32Array(31),
        1,
        new Float32Array(8),
      );
    } catch (e) {
      err = e;
    }
    assertEquals((err as { code?: string }).code, "INVALID_ARGUMENT");
  } finally {
    k.dispose();
  }
  let err: unknown;
  try {
    await NativeKernels.open({ variant: "bogus" as NativeVariant });
  } catch (e) {
    err = e;
  }
  assertEquals((err as { code?: string }).code, "INVALID_ARGUMENT");
}, opts);
