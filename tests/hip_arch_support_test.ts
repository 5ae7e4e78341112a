/**
 * Which ops of each built-in architecture's random model the HIP backend declines (they run on
 * the CPU, switching device inside each layer): only attention with soft-capping, a sliding
 * window or sinks (Gemma 2 and 3, gpt-oss) and MXFP4 expert FFNs (gpt-oss's MXFP4_MOE). Llama 3
 * (rope factors), Qwen3 (per-head q/k norms), Phi-3 (slices of fused products, scale), Mixtral
 * and Qwen3-MoE (expert FFNs) run entirely on HIP.
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

/** The ops HIP declines in each architecture's decode and prefill graphs (Q8_0 models). */
const DECLINED: Record<string, string[]> = {
  llama3: [],
  qwen3: [],
  phi3: [],
  gemma2: ["attention"],
  gemma3: ["attention"],
  mixtral: [],
  qwen3moe: [],
  "gpt-oss": ["attention"],
};
/** The same for other types: gpt-oss's MXFP4 experts have no HIP decode. */
const DECLINED_TYPED: [string, string, string[]][] = [
  ["gpt-oss", "MXFP4", ["attention", "moe"]],
  ["mixtral", "Q4_K", []],
  ["qwen3moe", "F16", []],
];

test(
  "hip support: each architecture declines only windowed/soft-capped/sink attention and MXFP4 MoE",
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
          vocab: arch === "phi3"
            ? sharedPath("models", "llama.cpp-vocab", "ggml-vocab-phi-3.gguf")
            : sharedPath("models", "stories260K.gguf"),
        });
        const spec = describeModel(openGGUF(out), builtinArchitectures);
        const type = (n: string) => spec.tensors.get(n)?.type as GGMLType | undefined;
        const declined = new Set<string>();
        for (const g of [spec.graphs.graph(2, "all"), spec.graphs.graph(1, "last")]) {
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
