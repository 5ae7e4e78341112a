import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import type { TensorShape } from "../core/architecture.ts";
import { ModelConfigError } from "../core/errors.ts";
import type { GraphNode } from "../core/graph.ts";
import { GGMLType } from "../gguf/ggml_types.ts";
import type { MetaValue } from "../gguf/gguf_file.ts";
import { modelConfigFromMetadata } from "../gguf/model_config.ts";
import { gptOssArchitecture } from "./gpt_oss.ts";

const A = "gpt-oss";
const dim = 64, heads = 4, kv = 2, hd = 16, ff = 32, E = 4, L = 2, vocab = 50;

function metadata(extra: [string, MetaValue][] = []): Map<string, MetaValue> {
  return new Map<string, MetaValue>([
    ["general.architecture", A],
    [`${A}.context_length`, 128],
    [`${A}.embedding_length`, dim],
    [`${A}.feed_forward_length`, ff],
    [`${A}.block_count`, L],
    [`${A}.attention.head_count`, heads],
    [`${A}.attention.head_count_kv`, kv],
    [`${A}.attention.key_length`, hd],
    [`${A}.attention.value_length`, hd],
    [`${A}.rope.dimension_count`, hd],
    [`${A}.expert_count`, E],
    [`${A}.expert_used_count`, 2],
    [`${A}.expert_feed_forward_length`, ff],
    [`${A}.attention.sliding_window`, 8],
    [`${A}.vocab_size`, vocab],
    ...extra,
  ]);
}

/** The tensor table llama.cpp's converter writes, as [name, dims]. */
function tensors(): Map<string, TensorShape> {
  const t = new Map<string, TensorShape>();
  const add = (n: string, ...dims: number[]) => t.set(n, { dims, type: GGMLType.F32 });
  add("token_embd.weight", dim, vocab);
  add("output.weight", dim, vocab);
  add("output_norm.weight", dim);
  for (let l = 0; l < L; l++) {
    const p = `blk.${l}.`;
    add(p + "attn_norm.weight", dim);
    add(p + "post_attention_norm.weight", dim);
    for (const [n, rows] of [["q", heads * hd], ["k", kv * hd], ["v", kv * hd]] as const) {
      add(`${p}attn_${n}.weight`, dim, rows);
      add(`${p}attn_${n}.bias`, rows);
    }
    add(p + "attn_output.weight", heads * hd, dim);
    add(p + "attn_output.bias", dim);
    add(p + "attn_sinks.weight", heads);
    add(p + "ffn_gate_inp.weight", dim, E);
    add(p + "ffn_gate_inp.bias", E);
    add(p + "ffn_gate_exps.weight", dim, ff, E);
    add(p + "ffn_gate_exps.bias", ff, E);
    add(p + "ffn_up_exps.weight", dim, ff, E);
    add(p + "ffn_up_exps.bias", ff, E);
    add(p + "ffn_down_exps.weight", ff, dim, E);
    add(p + "ffn_down_exps.bias", dim, E);
  }
  return t;
}

function build(md = metadata(), t = tensors()) {
  const c = modelConfigFromMetadata(md, vocab, { ropeType: "neox" });
  return gptOssArchitecture.build(c, t, md, { contextLength: 128 });
}

test("gpt-oss graph: sinks on every layer, the window on layer 0 only, biased MoE", () => {
  const g = build().graph(5, "last");
  const att = g.nodes.filter((n): n is Extract<GraphNode, { op: "attention" }> =>
    n.op === "attention"
  );
  assertEquals(att.map((n) => [n.sinks, n.window]), [
    ["blk.0.attn_sinks.weight", 8],
    ["blk.1.attn_sinks.weight", undefined],
  ]);
  assertEquals(att[0].scale, Math.fround(1 / Math.fround(Math.sqrt(hd))));
  const moe = g.nodes.filter((n): n is Extract<GraphNode, { op: "moe" }> => n.op === "moe");
  assertEquals(moe.length, L);
  for (const m of moe) {
    assert(m.gating === "softmax_weight" && m.act === "swiglu_oai" && !m.normWeights);
    assert(m.routerBias && m.gateBias && m.upBias && m.downBias, "every expert bias");
  }
  const mm = g.nodes.filter((n) => n.op === "matmul" && n.weight.startsWith("blk.0.attn_"));
  assert(mm.every((n) => n.op === "matmul" && n.bias), "q/k/v/output biases");
});

test("gpt-oss: missing sinks, expert count or window, and pattern arrays are typed errors", () => {
  const codeOf = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      if (e instanceof ModelConfigError) return e.code;
      throw e;
    }
    return "none";
  };
  const noSinks = tensors();
  noSinks.delete("blk.1.attn_sinks.weight");
  assertEquals(codeOf(() => build(metadata(), noSinks)), "MISSING_TENSOR");
  const noCount = metadata();
  noCount.delete(`${A}.expert_count`);
  assertEquals(codeOf(() => build(noCount)), "MISSING_METADATA");
  const noWindow = metadata();
  noWindow.delete(`${A}.attention.sliding_window`);
  assertEquals(codeOf(() => build(noWindow)), "MISSING_METADATA");
  const arr = metadata([[`${A}.attention.sliding_window_pattern`, [true, false]]]);
  assertThrows(() => build(arr), ModelConfigError);
  const wrong = tensors();
  wrong.set("blk.0.ffn_down_exps.bias", { dims: [dim], type: GGMLType.F32 });
  assertEquals(codeOf(() => build(metadata(), wrong)), "BAD_TENSOR_SHAPE");
});
