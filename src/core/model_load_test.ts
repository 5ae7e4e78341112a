/**
 * The load steps on their own, without a GGUF on disk: a file built in memory is described
 * through an architecture source, context sizing, probing with fake backends, layer costs,
 * the shared backend choice and the op/weight assignment with its strict mode.
 */
import { assert, assertEquals, assertRejects, assertThrows } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { GGUFBuilder } from "../gguf/builder.ts";
import { GGUFValueType } from "../gguf/gguf_file.ts";
import { parseGGUF } from "../gguf/reader.ts";
import { builtinArchitectures } from "../model/mod.ts";
import type { Architecture } from "./architecture.ts";
import type { Backend } from "./backend.ts";
import { BackendError, InvalidArgumentError, ModelConfigError } from "./errors.ts";
import {
  assignWeights,
  backendChoice,
  contextLengthFor,
  describeModel,
  layerCosts,
  probeTargets,
} from "./model_load.ts";

const DIM = 32, FF = 64, VOCAB = 8, LAYERS = 2;

/** A two-layer llama in memory (zero weights; only shapes matter here). */
function tinyLlama(arch = "llama") {
  const b = new GGUFBuilder()
    .setString("general.architecture", arch)
    .setU32(`${arch}.context_length`, 8192).setU32(`${arch}.embedding_length`, DIM)
    .setU32(`${arch}.block_count`, LAYERS).setU32(`${arch}.feed_forward_length`, FF)
    .setU32(`${arch}.attention.head_count`, 4).setU32(`${arch}.attention.head_count_kv`, 2)
    .setArray("tokenizer.ggml.tokens", GGUFValueType.STRING, [
      "a",
      "b",
      "c",
      "d",
      "e",
      "f",
      "g",
      "h",
    ]);
  const f32 = (name: string, dims: number[]) =>
    b.addTensor(name, dims, "F32", new Float32Array(dims.reduce((x, y) => x * y, 1)));
  f32("token_embd.weight", [DIM, VOCAB]);
  f32("output_norm.weight", [DIM]);
  for (let l = 0; l < LAYERS; l++) {
    const p = `blk.${l}.`;
    f32(p + "attn_norm.weight", [DIM]);
    f32(p + "attn_q.weight", [DIM, DIM]);
    f32(p + "attn_k.weight", [DIM, 16]);
    f32(p + "attn_v.weight", [DIM, 16]);
    f32(p + "attn_output.weight", [DIM, DIM]);
    f32(p + "ffn_norm.weight", [DIM]);
    f32(p + "ffn_gate.weight", [DIM, FF]);
    f32(p + "ffn_up.weight", [DIM, FF]);
    f32(p + "ffn_down.weight", [FF, DIM]);
  }
  return parseGGUF(b.build());
}

function fakeBackend(
  name: string,
  opts: { available?: boolean; free?: number; noAttention?: boolean } = {},
): Backend {
  return {
    apiVersion: 2,
    name,
    probe: () =>
      Promise.resolve(
        opts.available === false ? { available: false, reason: "no device", devices: [] } : {
          available: true,
          devices: [{ id: 0, name, totalMemory: opts.free ?? 0, freeMemory: opts.free ?? 0 }],
        },
      ),
    supportsOp: (n) => !(opts.noAttention && n.op === "attention"),
    createContext: () => Promise.reject(new Error("not used")),
    dispose() {},
  };
}

test("load steps: describeModel picks the architecture, its RoPE type and tied output", () => {
  const spec = describeModel(tinyLlama(), builtinArchitectures);
  assertEquals(spec.architecture.name, "llama");
  assertEquals([spec.config.blockCount, spec.config.ropeType, spec.config.vocabSize], [
    2,
    "normal",
    8,
  ]);
  const g = spec.graphs.graph(3, "last");
  assertEquals(g.nTokens, 3);
  // No output.weight: the head is tied to the embedding.
  const head = g.nodes[g.nodes.length - 1];
  assert(head.op === "matmul" && head.weight === "token_embd.weight");
  assertEquals(spec.tensors.get("blk.1.ffn_down.weight")?.dims, [FF, DIM]);
});

test("load steps: an architecture plugin's ropeType reaches the config; unknown ones are typed", () => {
  const seen: string[] = [];
  const neoxLlama: Architecture = {
    ...builtinArchitectures.architectureFor("llama"),
    name: "neo",
    architectures: ["neo"],
    ropeType: (arch) => {
      seen.push(arch);
      return "neox";
    },
  };
  const spec = describeModel(tinyLlama("neo"), { architectureFor: () => neoxLlama });
  assertEquals([spec.config.ropeType, seen], ["neox", ["neo"]]);
  assertThrows(
    () => describeModel(tinyLlama("neo"), builtinArchitectures),
    (e: unknown) =>
      e instanceof ModelConfigError && e.code === "UNSUPPORTED_ARCHITECTURE" &&
      e.facts.actual === "neo",
  );
});

test("load steps: context length defaults to min(model, 4096) and must be a positive integer", () => {
  const { config } = describeModel(tinyLlama(), builtinArchitectures);
  assertEquals(contextLengthFor(config), 4096);
  assertEquals(contextLengthFor(config, 100), 100);
  for (const bad of [0, -1, 1.5]) {
    assertThrows(() => contextLengthFor(config, bad), InvalidArgumentError);
  }
});

test("load steps: probing skips unavailable accelerators with a notice, or fails when strict", async () => {
  const cpu = fakeBackend("cpu");
  const log: string[] = [];
  const t = await probeTargets(
    [fakeBackend("gpu", { available: false }), fakeBackend("gpu2", { free: 5 })],
    cpu,
    false,
    (l) => log.push(l),
  );
  assertEquals(t.map((x) => [x.backend.name, x.freeBytes]), [["gpu2", 5]]);
  assertEquals(log, ["rocmforge: gpu unavailable (no device); using cpu"]);
  await assertRejects(
    () => probeTargets([fakeBackend("gpu", { available: false })], cpu, true),
    (e: unknown) => e instanceof BackendError && e.code === "BACKEND_UNAVAILABLE",
  );
});

test("load steps: layer costs add the KV cache to transformer layers; gpuLayers keeps the first ones back", () => {
  const spec = describeModel(tinyLlama(), builtinArchitectures);
  const g = spec.graphs.graph(2, "all");
  const all = layerCosts(g, spec.tensors, spec.config, 16, undefined);
  const bytes = new Map(all.onDevice.map((c) => [c.layer, c.bytes]));
  const kv = 16 * 2 * (8 + 8) * 4; // capacity * kv heads * (key + value dims) * f32
  const weights = (DIM + DIM * DIM + 2 * DIM * 16 + DIM * DIM + DIM + 3 * DIM * FF) * 4;
  assertEquals(bytes.get(0), weights + kv);
  assertEquals(bytes.get(-1), DIM * VOCAB * 4);
  assertEquals(bytes.get(LAYERS), (DIM + DIM * VOCAB) * 4); // output norm + tied head
  const one = layerCosts(g, spec.tensors, spec.config, 16, 1);
  assertEquals([one.forced.sort(), one.onDevice.map((c) => c.layer).sort()], [[-1, 0], [1, 2]]);
});

test("load steps: one backend choice; unsupported ops move to the fallback or fail when strict", () => {
  const spec = describeModel(tinyLlama(), builtinArchitectures);
  const cpu = fakeBackend("cpu"), gpu = fakeBackend("gpu", { noAttention: true });
  const layerBackend = new Map([[-1, cpu], [0, gpu], [1, gpu], [2, gpu]]);
  const choose = backendChoice(layerBackend, cpu);
  const g = spec.graphs.graph(1, "last");
  const attn = g.nodes.find((n) => n.op === "attention" && n.layer === 1)!;
  assertEquals(choose(attn).map((b) => b.name), ["gpu", "cpu"]);
  assertEquals(choose(g.nodes[0]).map((b) => b.name), ["cpu"]);
  const type = () => undefined;
  const a = assignWeights([g], layerBackend, cpu, type, false);
  assertEquals(a.moved, LAYERS); // one attention per layer
  assert(a.need.get(gpu)!.has("blk.0.attn_q.weight"));
  assert(a.need.get(cpu)!.has("token_embd.weight") && !a.need.get(cpu)!.has("blk.0.attn_q.weight"));
  assertThrows(
    () => assignWeights([g], layerBackend, cpu, type, true),
    (e: unknown) =>
      e instanceof BackendError && e.code === "BACKEND_UNSUPPORTED_OP" &&
      e.facts.actual === "attention",
  );
});
