/**
 * Batched embeddings (several inputs per forward pass) against one input per pass, for BERT,
 * nomic-bert (random-weight tiny models made here) and a decoder (stories260K), with inputs
 * of mixed lengths; and on a backend without multiSequence (as HIP was), where an encoder falls
 * back to one input per pass.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeSyntheticModel } from "../scripts/make_synthetic_model.ts";
import { createCpuBackend } from "../src/backends/cpu/backend.ts";
import type { Backend } from "../src/core/backend.ts";
import { embed, poolHidden } from "../src/core/embed.ts";
import { canBatchEmbeddings, embedTokens, packInputs } from "../src/core/embed_batch.ts";
import { AbortError } from "../src/core/errors.ts";
import { Model } from "../src/core/model.ts";
import type { ForwardGate } from "../src/core/request_scheduler.ts";
import { modelEmbedder } from "../src/context/model_embedder.ts";
import { builtinArchitectures } from "../src/model/mod.ts";
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { test } from "./harness.ts";
import { cosine } from "./embed_util.ts";
import { HAVE_SHARED, NO_SHARED_REASON, sharedPath } from "./shared_data.ts";

const opts = { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON };
/** Batched vs alone: the same F32 arithmetic per row, so the vectors agree to rounding. */
const COS_TOL = 1e-6;
const TEXTS = [
  "a small dog",
  "Once upon a time there was a little girl who liked to run in the park with her dog.",
  "hi",
  "The cat sat on the mat and looked at the bird outside the window for a long time.",
  "red",
  "One more input, of middling length, to fill the pass.",
];

/** A gate that counts the passes it runs. */
function countingGate(): ForwardGate & { steps: number } {
  const g = {
    steps: 0,
    run<T>(work: () => Promise<T> | T): Promise<T> {
      g.steps++;
      return Promise.resolve().then(work);
    },
  };
  return g;
}

async function checkBatched(model: Model, label: string): Promise<void> {
  const alone = await embed(model, TEXTS, { sequences: 1 });
  const batched = await embed(model, TEXTS, { batchSize: 64 });
  assertEquals(batched.length, TEXTS.length);
  let worst = 0;
  batched.forEach((v, i) => worst = Math.max(worst, 1 - cosine(v, alone[i])));
  console.error(`embed batch ${label}: worst 1 - cosine ${worst.toExponential(2)}`);
  assert(worst <= COS_TOL, `${label}: 1 - cosine ${worst}`);
  // Each pooling over each input's own rows.
  for (const pooling of ["cls", "last"] as const) {
    const one = await embed(model, TEXTS, { pooling, sequences: 1 });
    const many = await embed(model, TEXTS, { pooling, batchSize: 64 });
    many.forEach((v, i) => assert(1 - cosine(v, one[i]) <= COS_TOL, `${label} ${pooling} ${i}`));
  }
  // The passes: inputs packed by 64 tokens, every pack of several runs as one gated pass.
  const inputs = TEXTS.map((t) => model.tokenizer.encode(t, { addSpecial: true }));
  const packs = packInputs(inputs.map((t) => t.length), 64, 64);
  assert(packs.some((p) => p.length > 1), `${label}: no pack holds several inputs`);
  const gate = countingGate();
  const dim = model.config.embeddingLength;
  const viaGate = await embedTokens(model, inputs, (h, r) => poolHidden(h, r, dim), {
    batchSize: 64,
    gate,
  });
  assertEquals(gate.steps, packs.filter((p) => p.length > 1).length, `${label}: gated passes`);
  const mean = await embed(model, TEXTS, { pooling: "mean", sequences: 1 });
  viaGate.forEach((v, i) => assert(1 - cosine(v, mean[i]) <= COS_TOL, `${label} gate ${i}`));
  // Cancelled between passes.
  const ac = new AbortController();
  ac.abort();
  await assertRejects(() => embed(model, TEXTS, { signal: ac.signal }), AbortError);
}

function load(
  path: string,
  backends: Backend[] = [createCpuBackend()],
  gpuLayers?: number,
): Promise<Model> {
  return Model.load(path, {
    architectures: builtinArchitectures,
    backends,
    ...(gpuLayers === undefined ? {} : { gpuLayers }),
  });
}

/** A CPU backend under another name that declines batched nodes (as HIP did). */
function nobatch(): Backend {
  return { ...createCpuBackend(), name: "nobatch", priority: 10, multiSequence: false };
}

/** An encoder file: batched on the CPU, through the embedder, and off a nobatch backend. */
async function checkEncoder(arch: string, path: string): Promise<void> {
  const model = await load(path);
  try {
    assert(canBatchEmbeddings(model), `${arch} batches on the CPU`);
    await checkBatched(model, arch);
    const want = await embed(model, TEXTS, { sequences: 1 });
    // The context store's embedder packs texts the same way.
    const e = modelEmbedder(model, { batchSize: 64 });
    try {
      const got = await e.embed(TEXTS);
      got.forEach((v, i) => assert(1 - cosine(v, want[i]) <= COS_TOL, `${arch} embedder ${i}`));
    } finally {
      e.dispose();
    }
    // A backend that declines batched nodes holds every layer (bert's position
    // table with them, so it goes one input per pass; nomic-bert's rope and attention read no
    // weights, but the CPU holds nothing to run them on), or all layers but one (the input
    // embeddings, bert's position table with them, stay on the CPU; nomic-bert's rope and
    // attention move there).
    for (const gpuLayers of [undefined, model.config.blockCount - 1]) {
      const mixed = await load(path, [nobatch(), createCpuBackend()], gpuLayers);
      try {
        assert(mixed.placement.includes("nobatch"), mixed.placement);
        // Input embeddings stay on the CPU unless every layer is on the device.
        assertEquals(canBatchEmbeddings(mixed), gpuLayers !== undefined, `${arch} ${gpuLayers}`);
        const got = await embed(mixed, TEXTS, { batchSize: 64 });
        got.forEach((v, i) =>
          assert(1 - cosine(v, want[i]) <= COS_TOL, `${arch} nobatch ${gpuLayers} ${i}`)
        );
      } finally {
        mixed.dispose();
      }
    }
  } finally {
    model.dispose();
  }
}

test("embed batch: packs inputs by tokens and count, a long one alone", () => {
  assertEquals(packInputs([3, 4, 10, 2, 2, 2], 8, 2), [[0, 1], [2], [3, 4], [5]]);
  assertEquals(packInputs([], 8, 2), []);
});

test(
  "embed batch: bert and nomic-bert batched equal one by one, also off HIP-like backends",
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "rf-embed-batch-"));
    try {
      for (const arch of ["bert", "nomic-bert"]) {
        const out = join(dir, `${arch}.gguf`);
        await makeSyntheticModel({
          arch,
          shape: "tiny",
          type: "F32",
          out,
          seed: 7,
          vocab: sharedPath("models", "llama.cpp-vocab", "ggml-vocab-bert-bge.gguf"),
        });
        await checkEncoder(arch, out);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
  opts,
);

test("embed batch: a decoder's batched embeddings equal one by one", async () => {
  const model = await load(sharedPath("models", "stories260K.gguf"));
  try {
    assert(canBatchEmbeddings(model));
    await checkBatched(model, "stories260K");
  } finally {
    model.dispose();
  }
}, opts);
