/**
 * BERT and nomic-bert encoder embeddings against llama.cpp's (node-llama-cpp createEmbeddingContext, mean
 * pooling as the file says) on random-weight models the test regenerates and checks by SHA-256
 * (commands in tests/golden/README.md): cosine similarity within 1e-4 of 1, on the CPU.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCpuBackend } from "../src/backends/cpu/backend.ts";
import { embed } from "../src/core/embed.ts";
import { Model } from "../src/core/model.ts";
import { Session } from "../src/core/session.ts";
import { builtinArchitectures } from "../src/model/mod.ts";
import { sha256Hex } from "./_hash.ts";
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { test } from "./harness.ts";
import { cosine, embedGoldens } from "./embed_util.ts";
import { makeEmbedModel } from "./embed_models.ts";
import { HAVE_SHARED, NO_SHARED_REASON } from "./shared_data.ts";
import { InvalidArgumentError } from "../src/core/errors.ts";

const HASHES: Record<string, string> = {
  "bert-tiny-F32.gguf": "6b246d5d7057b144dc5dcd836ba4897b2d2194bfa0378d4dd625b2255862bac7",
  "bert-tiny-Q8_0.gguf": "0fa66a767cd134d18b4f068b9f5bc3462e17a0f33067f1687658e0990711a35b",
  "nomic-bert-tiny-F32.gguf": "20781140675abecefc58a433fc4b6f9cbdcac810c277e652d7bd1e5b3789e658",
  "nomic-bert-tiny-Q8_0.gguf": "06043322c5f6883f6f27bdcc87cdf30aeb510281aedbf2d5f6c0dece0c15c649",
};
const rows = embedGoldens();
const opts = { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON };

test("golden embed: bert encoders pool to llama.cpp's embeddings within 1e-4 cosine", async () => {
  const dir = mkdtempSync(join(tmpdir(), "rf-bert-"));
  try {
    for (const [name, hash] of Object.entries(HASHES)) {
      const out = await makeEmbedModel(dir, name);
      assertEquals(sha256Hex(readFileSync(out)), hash, `${name} differs from the golden's`);
      const model = await Model.load(out, {
        architectures: builtinArchitectures,
        backends: [createCpuBackend()],
      });
      try {
        assertEquals([model.causal, model.pooling], [false, "mean"]);
        const s = new Session(model);
        const dim = model.config.embeddingLength;
        assertEquals(model.architecture.name, name.startsWith("nomic") ? "nomic-bert" : "bert");
        for (const row of rows.filter((r) => r.model === name)) {
          assertEquals(model.tokenizer.encode(row.text, { addSpecial: false }), row.tokens);
          const fed = [row.bos, ...row.tokens, row.eos];
          assertEquals(model.tokenizer.encode(row.text, { addSpecial: true }), fed);
          // Twice on one session: an encoder evaluates each input whole, from position 0.
          for (let rep = 0; rep < 2; rep++) {
            const h = await s.eval(fed, "hidden");
            const mean = new Float64Array(dim);
            for (let t = 0; t < fed.length; t++) {
              for (let d = 0; d < dim; d++) mean[d] += h[t * dim + d] / fed.length;
            }
            const c = cosine(mean, row.embedding);
            console.error(
              `embed cosine ${name} "${row.text.slice(0, 20)}": 1 - ${(1 - c).toExponential(2)}`,
            );
            assert(1 - c <= 1e-4, `${name}: cosine ${c}`);
          }
        }
        // The library entry point: the model's own pooling, L2-normalized.
        const mine = rows.filter((r) => r.model === name);
        const vecs = await embed(model, mine.map((r) => r.text));
        vecs.forEach((v, i) => {
          let n = 0;
          for (const x of v) n += x * x;
          assert(Math.abs(n - 1) < 1e-5 && 1 - cosine(v, mine[i].embedding) <= 1e-4, mine[i].text);
        });
        await assertRejects(() => s.eval(rows[0].tokens, "last"), InvalidArgumentError);
        s.dispose();
      } finally {
        model.dispose();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, opts);
