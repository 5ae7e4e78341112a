import { assert } from "../../../../tests/assert.ts";
import { test } from "../../../../tests/harness.ts";
import { randomFloats } from "../../../../tests/random_data.ts";
import { attention, type AttentionShape } from "./attention.ts";
import { attentionSoftmax, nKvCells } from "./attention_softmax.ts";
import { f16Layer } from "./kv_rows.ts";

const shape: AttentionShape = { nHead: 4, nHeadKV: 2, headDim: 64, valueDim: 64, scale: 0.125 };
const cap = 300;

/** Plain float64 softmax attention over the f16-rounded cache, for rows from pos0. */
function reference(
  q: Float32Array,
  kc: Float32Array,
  vc: Float32Array,
  rows: number,
  pos0: number,
  s: AttentionShape & { softcap?: number },
): Float64Array {
  const kCols = s.nHeadKV * s.headDim, out = new Float64Array(rows * s.nHead * s.valueDim);
  for (let t = 0; t < rows; t++) {
    for (let h = 0; h < s.nHead; h++) {
      const kvh = Math.floor(h / (s.nHead / s.nHeadKV)), n = pos0 + t + 1;
      const sc = Array.from({ length: n }, (_, p) => {
        let d = 0;
        for (let i = 0; i < s.headDim; i++) {
          d += q[(t * s.nHead + h) * s.headDim + i] * kc[p * kCols + kvh * s.headDim + i];
        }
        return (s.softcap ? s.softcap * Math.tanh(d / s.softcap) : d) * s.scale;
      });
      const m = Math.max(...sc), e = sc.map((x) => Math.exp(x - m));
      const z = e.reduce((a, b) => a + b, 0);
      for (let d = 0; d < s.valueDim; d++) {
        let acc = 0;
        for (let p = 0; p < n; p++) acc += e[p] / z * vc[p * kCols + kvh * s.valueDim + d];
        out[(t * s.nHead + h) * s.valueDim + d] = acc;
      }
    }
  }
  return out;
}

test("non-flash attention: a prompt batch then single steps track a float64 softmax", () => {
  const cols = shape.nHeadKV * shape.headDim, cap0 = 300;
  const kv = f16Layer(cap0 * cols, cap0 * cols);
  const flash = f16Layer(cap0 * cols, cap0 * cols);
  const s = { ...shape, softcap: cap };
  let pos = 0;
  for (const rows of [7, 1, 1, 270 - 9, 1]) {
    const seed = 11 + pos;
    const q = randomFloats(rows * shape.nHead * shape.headDim, seed, 1);
    const k = randomFloats(rows * cols, seed + 1, 1), v = randomFloats(rows * cols, seed + 2, 1);
    const out = new Float32Array(rows * shape.nHead * shape.valueDim);
    attentionSoftmax(q, k, v, rows, pos, kv, s, out);
    const ref = reference(q, kv.k.data, kv.v.data, rows, pos, s);
    let worst = 0;
    for (let i = 0; i < out.length; i++) worst = Math.max(worst, Math.abs(out[i] - ref[i]));
    assert(worst < 2e-3, `rows ${rows} at ${pos}: ${worst}`);
    // Without a soft-cap the flash steps compute the same attention up to float16 roundings.
    const a = new Float32Array(out.length), b = new Float32Array(out.length);
    attentionSoftmax(q, k, v, rows, pos, kv, shape, a);
    attention(q, k, v, rows, pos, flash, shape, b);
    for (let i = 0; i < a.length; i++) assert(Math.abs(a[i] - b[i]) < 2e-3, `${a[i]} ${b[i]}`);
    pos += rows;
  }
});

test("attention sinks: flash and non-flash steps agree with a float64 softmax that has the sink", () => {
  const cols = shape.nHeadKV * shape.headDim, n = 40;
  const sinks = Float32Array.from([0.5, -1, 2, 30]); // 30: the sink is the maximum
  const q = randomFloats(n * shape.nHead * shape.headDim, 5, 1);
  const k = randomFloats(n * cols, 6, 1), v = randomFloats(n * cols, 7, 1);
  const a = new Float32Array(n * shape.nHead * shape.valueDim), b = new Float32Array(a.length);
  const kvA = f16Layer(64 * cols, 64 * cols);
  const kvB = f16Layer(64 * cols, 64 * cols);
  attentionSoftmax(q, k, v, n, 0, kvA, shape, a, sinks);
  attention(q, k, v, n, 0, kvB, shape, b, sinks);
  const plain = reference(q, kvA.k.data, kvA.v.data, n, 0, shape);
  for (let t = 0; t < n; t++) {
    for (let h = 0; h < shape.nHead; h++) {
      // The sink only rescales: out = plain * Z / (Z + exp(sink)), Z the row's softmax sum.
      let z = 0, m = -Infinity;
      const sc: number[] = [];
      for (let p = 0; p <= t; p++) {
        let d = 0;
        for (let i = 0; i < shape.headDim; i++) {
          d += q[(t * shape.nHead + h) * shape.headDim + i] *
            kvA.k.data[p * cols + Math.floor(h / 2) * shape.headDim + i];
        }
        sc.push(d * shape.scale);
      }
      m = Math.max(...sc, sinks[h]);
      for (const x of sc) z += Math.exp(x - m);
      const f = z / (z + Math.exp(sinks[h] - m));
      for (let d = 0; d < shape.valueDim; d++) {
        const i = (t * shape.nHead + h) * shape.valueDim + d;
        const want = plain[i] * f;
        assert(
          Math.abs(a[i] - want) < 2e-3 && Math.abs(b[i] - want) < 2e-3,
          `${a[i]} ${b[i]} ${want}`,
        );
      }
      if (h === 3) {
        assert(Math.abs(a[t * shape.nHead * shape.valueDim + 3 * shape.valueDim]) < 1e-9);
      }
    }
  }
});

test("nKvCells pads llama.cpp's n_kv to 256 cells, within the cache", () => {
  assert(nKvCells(1, 512) === 256 && nKvCells(257, 512) === 512 && nKvCells(300, 300) === 300);
  assert(nKvCells(10, 128) === 128);
});
