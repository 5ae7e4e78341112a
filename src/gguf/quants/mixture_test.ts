/**
 * llama.cpp's K-quant mixtures: the type each tensor of a 22-layer llama (TinyLlama's shape)
 * gets, from llama-quant.cpp's rules evaluated by hand here (use_more_bits(i, 22) holds for
 * layers 0, 1, 4, 7, 10, 13, 16, 19, 20, 21), the tied-embedding and fallback cases, and
 * the models the rules are not reproduced for.
 *
 * @module
 */
import { test } from "../../../tests/harness.ts";
import { assertEquals, assertThrows } from "../../../tests/assert.ts";
import { GGMLType } from "../ggml_types.ts";
import { QuantError } from "./errors.ts";
import { type MixtureTensor, mixtureTypes } from "./mixture.ts";

const LAYERS = 22;
const MORE_BITS = [0, 1, 4, 7, 10, 13, 16, 19, 20, 21];

function llama(layers: number, tied = false, dim = 2048): MixtureTensor[] {
  const t: MixtureTensor[] = [{ name: "token_embd.weight", dims: [dim, 32000] }];
  for (let l = 0; l < layers; l++) {
    t.push({ name: `blk.${l}.attn_norm.weight`, dims: [dim] });
    for (const m of ["attn_q", "attn_k", "attn_v", "attn_output"]) {
      t.push({ name: `blk.${l}.${m}.weight`, dims: [dim, dim] });
    }
    t.push({ name: `blk.${l}.ffn_norm.weight`, dims: [dim] });
    t.push({ name: `blk.${l}.ffn_gate.weight`, dims: [dim, 5632] });
    t.push({ name: `blk.${l}.ffn_up.weight`, dims: [dim, 5632] });
    t.push({ name: `blk.${l}.ffn_down.weight`, dims: [5632, dim] });
  }
  t.push({ name: "output_norm.weight", dims: [dim] });
  if (!tied) t.push({ name: "output.weight", dims: [dim, 32000] });
  return t;
}

function typesByName(ts: MixtureTensor[], types: (GGMLType | undefined)[]) {
  return new Map(ts.map((t, i) => [t.name, types[i]]));
}

for (const [mix, base] of [["Q4_K_M", GGMLType.Q4_K], ["Q5_K_M", GGMLType.Q5_K]] as const) {
  test(`${mix}: Q6_K output, attn_v and ffn_down of the more-bits layers, the rest ${base}`, () => {
    const ts = llama(LAYERS);
    const got = typesByName(ts, mixtureTypes(mix, ts, { layers: LAYERS, experts: 0 }));
    assertEquals(got.get("output.weight"), GGMLType.Q6_K);
    assertEquals(got.get("token_embd.weight"), base);
    assertEquals(got.get("output_norm.weight"), undefined);
    for (let l = 0; l < LAYERS; l++) {
      const more = MORE_BITS.includes(l) ? GGMLType.Q6_K : base;
      assertEquals(got.get(`blk.${l}.attn_v.weight`), more, `layer ${l} attn_v`);
      assertEquals(got.get(`blk.${l}.ffn_down.weight`), more, `layer ${l} ffn_down`);
      for (const m of ["attn_q", "attn_k", "attn_output", "ffn_gate", "ffn_up"]) {
        assertEquals(got.get(`blk.${l}.${m}.weight`), base, `layer ${l} ${m}`);
      }
      assertEquals(got.get(`blk.${l}.attn_norm.weight`), undefined);
    }
  });
}

test("Q3_K_M: Q5_K attn_v of the first two, ffn_down of layer 0 (22 / 16), Q4_K the rest", () => {
  const ts = llama(LAYERS);
  const got = typesByName(ts, mixtureTypes("Q3_K_M", ts, { layers: LAYERS, experts: 0 }));
  assertEquals(got.get("output.weight"), GGMLType.Q6_K);
  assertEquals(got.get("token_embd.weight"), GGMLType.Q3_K);
  for (let l = 0; l < LAYERS; l++) {
    assertEquals(got.get(`blk.${l}.attn_v.weight`), l < 2 ? GGMLType.Q5_K : GGMLType.Q4_K);
    assertEquals(got.get(`blk.${l}.ffn_down.weight`), l < 1 ? GGMLType.Q5_K : GGMLType.Q4_K);
    assertEquals(got.get(`blk.${l}.attn_output.weight`), GGMLType.Q4_K);
    for (const m of ["attn_q", "attn_k", "ffn_gate", "ffn_up"]) {
      assertEquals(got.get(`blk.${l}.${m}.weight`), GGMLType.Q3_K);
    }
  }
});

test("mixtures: a tied embedding takes the output's Q6_K; rows of 288 fall back", () => {
  const tied = llama(4, true);
  const got = typesByName(tied, mixtureTypes("Q4_K_M", tied, { layers: 4, experts: 0 }));
  assertEquals(got.get("token_embd.weight"), GGMLType.Q6_K);
  // 288 is not a multiple of 256: Q4_K -> Q5_0, Q6_K -> Q8_0 (the output's own rule);
  // use_more_bits(i, 4) holds for layers 2 and 3
  const odd = llama(4, false, 288);
  const o = typesByName(odd, mixtureTypes("Q4_K_M", odd, { layers: 4, experts: 0 }));
  assertEquals(o.get("blk.1.attn_q.weight"), GGMLType.Q5_0);
  assertEquals(o.get("blk.2.attn_v.weight"), GGMLType.Q8_0);
  assertEquals(o.get("blk.0.attn_v.weight"), GGMLType.Q5_0);
  assertEquals(o.get("output.weight"), GGMLType.Q8_0);
  assertEquals(o.get("blk.2.ffn_down.weight"), GGMLType.Q6_K); // 5632 columns
});

test("mixtures: MoE layers come from the names; 8 experts and 80 layers are refused", () => {
  const ts: MixtureTensor[] = [
    { name: "blk.1.ffn_down_exps.weight", dims: [512, 256, 4] },
    { name: "blk.0.ffn_down_exps.weight", dims: [512, 256, 4] },
    { name: "blk.0.ffn_gate_inp.weight", dims: [256, 4] },
  ];
  // 16 layers: use_more_bits holds for 0, 1 and 4, not for 3
  const m = (n: string) => ts.map((t) => ({ ...t, name: t.name.replace("blk.1.", n) }));
  assertEquals(mixtureTypes("Q4_K_M", m("blk.4."), { layers: 16, experts: 4 }), [
    GGMLType.Q6_K,
    GGMLType.Q6_K,
    undefined,
  ]);
  assertEquals(
    mixtureTypes("Q4_K_M", m("blk.3."), { layers: 16, experts: 4 })[0],
    GGMLType.Q4_K,
  );
  assertThrows(
    () => mixtureTypes("Q4_K_M", m("blk.16."), { layers: 16, experts: 4 }),
    QuantError,
    "blk.16.",
  );
  assertThrows(() => mixtureTypes("Q4_K_M", ts, { layers: 16, experts: 8 }), QuantError);
  assertThrows(() => mixtureTypes("Q4_K_M", llama(80), { layers: 80, experts: 0 }), QuantError);
});
