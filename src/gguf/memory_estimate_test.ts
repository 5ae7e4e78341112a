import { assertEquals, assertStrictEquals, assertThrows } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { InvalidArgumentError, ModelConfigError } from "../core/errors.ts";
import { GGUFBuilder } from "./builder.ts";
import { estimateMemory, MARGIN_FIXED_BYTES } from "./memory_estimate.ts";
import { parseGGUF } from "./reader.ts";

// embd 16, 2 blocks, 4 heads (head dim 4), 2 KV heads, ffn 32, vocab 10.
function model() {
  const b = new GGUFBuilder()
    .setString("general.architecture", "llama")
    .setU32("llama.context_length", 256)
    .setU32("llama.embedding_length", 16)
    .setU32("llama.block_count", 2)
    .setU32("llama.feed_forward_length", 32)
    .setU32("llama.attention.head_count", 4)
    .setU32("llama.attention.head_count_kv", 2)
    .setU32("llama.vocab_size", 10)
    .addTensor("token_embd.weight", [16, 10], "F32", new Float32Array(160)) // 640 B
    .addTensor("output_norm.weight", [16], "F32", new Float32Array(16)); // 64 B
  for (let l = 0; l < 2; l++) {
    b.addTensor(`blk.${l}.attn_q.weight`, [32, 16], "Q8_0", new Uint8Array(16 * 34)); // 544 B
    b.addTensor(`blk.${l}.attn_norm.weight`, [16], "F32", new Float32Array(16)); // 64 B
  }
  return parseGGUF(b.build());
}

test("memory estimate: weights, KV cache, scratch and margin by formula", () => {
  const f = model();
  const e = estimateMemory(f, { contextLength: 100, batchSize: 8 });
  const kvPerLayer = 100 * 2 * (4 + 4) * 2; // ctx x kvHeads x (k + v) x f16
  assertStrictEquals(e.weightsBytes, 640 + 64 + 2 * (544 + 64));
  assertStrictEquals(e.kvCacheBytes, 2 * kvPerLayer);
  assertStrictEquals(e.scratchBytes, 8 * 4 * (4 * 16 + 3 * 32 + 4 * 100 + 10));
  const base = e.weightsBytes + e.kvCacheBytes + e.scratchBytes;
  assertStrictEquals(e.marginBytes, Math.ceil(base * 0.1) + MARGIN_FIXED_BYTES);
  assertStrictEquals(e.totalBytes, base + e.marginBytes);
  assertEquals(e.perLayerBytes, [608 + kvPerLayer, 608 + kvPerLayer]);
  const f32 = estimateMemory(f, { contextLength: 100, batchSize: 8, kvType: "f32" });
  assertStrictEquals(f32.kvCacheBytes, 2 * e.kvCacheBytes);
  // q8_0: 34 bytes per 32 elements; q4_0: 18; K and V apart
  const q8 = estimateMemory(f, { contextLength: 100, batchSize: 8, kvType: "q8_0" });
  assertStrictEquals(q8.kvCacheBytes, 2 * 100 * 2 * (4 + 4) * 34 / 32);
  const mixed = estimateMemory(f, { contextLength: 100, kvType: { k: "q4_0", v: "f16" } });
  assertStrictEquals(mixed.kvCacheBytes, 2 * 100 * 2 * (4 * 18 / 32 + 4 * 2));
});

test("memory estimate: layer subsets and batch capped at the context", () => {
  const f = model();
  const kvPerLayer = 10 * 2 * 8 * 2;
  const one = estimateMemory(f, { contextLength: 10, layers: [1] });
  assertStrictEquals(one.weightsBytes, 704 + 608);
  assertStrictEquals(one.kvCacheBytes, kvPerLayer);
  assertEquals(one.perLayerBytes, [0, 608 + kvPerLayer]);
  assertStrictEquals(one.scratchBytes, 10 * 4 * (64 + 96 + 40 + 10));
  const none = estimateMemory(f, { contextLength: 10, layers: 0 });
  assertStrictEquals(none.weightsBytes, 704);
  assertStrictEquals(none.kvCacheBytes, 0);
});

test("memory estimate: bad options and non-model files", () => {
  const f = model();
  for (
    const opts of [
      { contextLength: 0 },
      { contextLength: 1.5 },
      { contextLength: 8, layers: 3 },
      {
        contextLength: 8,
        layers: [2],
      },
      { contextLength: 8, batchSize: 0 },
      { contextLength: 8, kvType: "q8" as "f16" },
      { contextLength: 8, kvType: { k: "bf16" as "f16" } },
    ]
  ) {
    assertThrows(() => estimateMemory(f, opts), InvalidArgumentError, JSON.stringify(opts));
  }
  const vocab = parseGGUF(new GGUFBuilder().setString("general.architecture", "gpt2").build());
  assertThrows(() => estimateMemory(vocab, { contextLength: 8 }), ModelConfigError);
});
