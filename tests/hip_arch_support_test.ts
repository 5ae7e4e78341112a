/**
 * Which ops of each built-in architecture's random model the HIP backend declines (they run on
 * the CPU, switching device inside each layer): only attention with soft-capping or a sliding
 * window (Gemma 2 and 3) and the expert FFNs (Mixtral, Qwen3-MoE). Llama 3 (rope factors),
 * Qwen3 (per-head q/k norms) and Phi-3 (slices of fused products, scale) run entirely on HIP.
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

/** The ops HIP declines in each architecture's decode and prefill graphs. */
const DECLINED: Record<string, string[]> = {
  llama3: [],
  qwen3: [],
  phi3: [],
  gemma2: ["attention"],
  gemma3: ["attention"],
  mixtral: ["moe"],
  qwen3moe: ["moe"],
};

test(
  "hip support: each architecture declines only windowed/soft-capped attention and MoE",
  async () => {
    const hip = createHipBackend();
    const dir = mkdtempSync(join(tmpdir(), "rf-hip-support-"));
    try {
      for (const [arch, want] of Object.entries(DECLINED)) {
        const out = join(dir, `${arch}.gguf`);
        await makeSyntheticModel({
          arch,
          shape: "tiny",
          type: "Q8_0",
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
        assertEquals([...declined].sort(), want, arch);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
  HAVE_SHARED ? {} : { ignore: true, reason: NO_SHARED_REASON },
);
