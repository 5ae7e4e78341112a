/**
 * Which ops of each built-in architecture's random model the HIP backend declines (they run on
 * the CPU, switching device inside each layer): none, for every weight type the HIP kernels read
 * (gpt-oss's MXFP4_MOE and Q3_K_M included; support_test.ts has a type they do not read).
 * Llama 3 (rope factors), Qwen3 (per-head q/k norms), Phi-3 (slices of fused products, scale),
 * Gemma 2 and 3 (soft-capped and sliding-window attention), Mixtral and Qwen3-MoE (expert FFNs),
 * gpt-oss with other expert types (sink attention, expert FFNs) and the BERT encoders (non-causal
 * attention, LayerNorm, GELU, position embeddings) run entirely on HIP.
 * Needs no GPU: the capability check is the backend's own pure rule (support.ts).
 *
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeSyntheticModel } from "../scripts/make_synthetic_model.ts";
import { createHipBackend } from "../src/backends/hip/backend.ts";
import { describeModel } from "../src/core/model_load.ts";
import type { GGMLType } from "../src/gguf/ggml_types.ts";
import { openGGUF } from "../src/gguf/reader.ts";
import { builtinArchitectures } from "../src/model/mod.ts";
import { assertEquals } from "./assert.ts";
import { test } from "./harness.ts";
import { HAVE_SHARED, NO_SHARED_REASON, sharedPath } from "./shared_data.ts";

/** The vocabulary each architecture's random model takes. */
function vocabFor(arch: string): string {
  if (arch === "phi3") return sharedPath("models", "llama.cpp-vocab", "ggml-vocab-phi-3.gguf");
  if (arch.includes("bert")) {
    return sharedPath("models", "llama.cpp-vocab", "ggml-vocab-bert-bge.gguf");
  }
  return sharedPath("models", "stories260K.gguf");
}

/** The ops HIP declines in each architecture's decode and prefill graphs (Q8_0 models). */
const DECLINED: Record<string, string[]> = {
  llama3: [],
  qwen3: [],
  phi3: [],
  gemma2: [],
  gemma3: [],
  mixtral: [],
  qwen3moe: [],
  "gpt-oss": [],
  bert: [],
  "nomic-bert": [],
};
/** The same for other types (Q3_K_M: Q3_K with Q4_K/Q5_K/Q6_K tensors). */
const DECLINED_TYPED: [string, string, string[]][] = [
  ["gpt-oss", "MXFP4", []],
  ["llama3", "Q3_K_M", []],
  ["mixtral", "Q4_K", []],
  ["qwen3moe", "F16", []],
];

test(
  "hip support: each architecture runs entirely on HIP, MXFP4 and Q3_K_M models included",
  async () => {
    const hip = createHipBackend();
    const dir = mkdtempSync(join(tmpdir(), "rf-hip-support-"));
    try {
      const cases: [string, string, string[]][] = [
        ...Object.entries(DECLINED).map(([a, w]): [string, string, string[]] => [a, "Q8_0", w]),
        ...DECLINED_TYPED,
      ];
      for (const [arch, modelType, want] of cases) {
        const out = join(dir, `${arch}-${modelType}.gguf`);
        await makeSyntheticModel({
          arch,
          shape: "tiny",
          type: modelType,
          out,
          seed: 7,
          vocab: vocabFor(arch),
        });
        const spec = describeModel(openGGUF(out), builtinArchitectures);
        const type = (n: string) => spec.tensors.get(n)?.type as GGMLType | undefined;
        const declined = new Set<string>();
        // An encoder's graphs give hidden rows, a decoder's logits of all rows or the last.
        const graphs = arch.includes("bert")
          ? [spec.graphs.graph(2, "hidden"), spec.graphs.graph(1, "hidden")]
          : [spec.graphs.graph(2, "all"), spec.graphs.graph(1, "last")];
        for (const g of graphs) {
          for (const n of g.nodes) if (!hip.supportsOp(n, type)) declined.add(n.op);
        }
        assertEquals([...declined].sort(), want, `${arch} ${modelType}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
  HAVE_SHARED ? {} : { ignore: true, reason: NO_SHARED_REASON },
);
