/**
 * Writes a random-weight llama GGUF of a real shape, streamed tensor by tensor.
 *
 * usage: deno task make-model [--arch llama|llama3|qwen3] --shape tinyllama|llama7b|tiny
 *          --type Q4_0|Q8_0|Q4_K|F16|F32|Q4_K_M|Q5_K_M|Q3_K_M -o FILE [--seed N]
 *          [--vocab PATH.gguf]
 *
 * Q4_K_M, Q5_K_M and Q3_K_M are llama-quantize's mixtures (Q6_K output, attn_v and ffn_down
 * promoted by layer; src/gguf/quants/mixture.ts), with its general.file_type.
 * `--arch gpt-oss` takes F32, Q8_0, Q4_K or MXFP4 (llama-quantize's MXFP4_MOE: MXFP4 experts,
 * Q8_0 elsewhere; scripts/_synthetic_gpt_oss.ts).
 *
 * For the 32000-token shapes the tokenizer is copied from llama.cpp's Llama SPM vocab file
 * (--vocab, default ../shared/models/llama.cpp-vocab/ggml-vocab-llama-spm.gguf; for --arch phi3
 * ggml-vocab-phi-3.gguf, since llama.cpp refuses a model named phi3 whose vocabulary lacks
 * Phi-3's special tokens) when present, else synthesized. An explicit --vocab (or the phi3
 * default) of another size sets the shape's vocabulary to it.
 *
 * @module
 */
import { InvalidArgumentError } from "../src/core/errors.ts";
import type { GGUFMetaEntry } from "../src/gguf/gguf_file.ts";
import { openGGUF } from "../src/gguf/reader.ts";
import { writeGGUFChunks } from "../src/gguf/writer.ts";
import { createFileSink } from "../src/runtime/file_stream.ts";
import { args, exit, now, pathExists, writeStderr, writeStdout } from "../src/runtime/host.ts";
import {
  MODEL_ARCHS,
  MODEL_TYPES,
  type ModelArch,
  SHAPES,
  synthesizeModel,
} from "./_synthetic_model.ts";
import type { GGMLTypeName } from "../src/gguf/ggml_types.ts";

const DEFAULT_VOCAB = new URL(
  "../../shared/models/llama.cpp-vocab/ggml-vocab-llama-spm.gguf",
  import.meta.url,
).pathname;
/** Phi-3's vocabulary (32064 tokens), the default of --arch phi3. */
const PHI3_VOCAB =
  new URL("../../shared/models/llama.cpp-vocab/ggml-vocab-phi-3.gguf", import.meta.url)
    .pathname;

/** tokenizer.* entries of a GGUF file. */
export async function tokenizerOf(path: string): Promise<Map<string, GGUFMetaEntry>> {
  const f = await openGGUF(path);
  const out = new Map<string, GGUFMetaEntry>();
  for (const [k, v] of f.metadata) if (k.startsWith("tokenizer.")) out.set(k, v);
  return out;
}

/** Writes the model; returns bytes written. */
export async function makeSyntheticModel(opts: {
  arch?: string;
  shape: string;
  type: string;
  out: string;
  seed?: number;
  vocab?: string;
  log?: (line: string) => void;
}): Promise<number> {
  let shape = SHAPES[opts.shape];
  if (!shape) {
    throw new InvalidArgumentError(`--shape must be one of ${Object.keys(SHAPES).join(", ")}`, {
      actual: opts.shape,
    });
  }
  const arch = opts.arch ?? "llama";
  if (!(MODEL_ARCHS as readonly string[]).includes(arch)) {
    throw new InvalidArgumentError(`--arch must be one of ${MODEL_ARCHS.join(", ")}`, {
      actual: arch,
    });
  }
  const type = opts.type.toUpperCase() as GGMLTypeName;
  let tokenizer: Map<string, GGUFMetaEntry> | undefined;
  const vocabPath = opts.vocab ?? (arch === "phi3" ? PHI3_VOCAB : DEFAULT_VOCAB);
  // an explicit vocabulary, or Phi-3's default, sets the shape's vocabulary size
  const resize = opts.vocab !== undefined || arch === "phi3";
  if (opts.vocab !== undefined && !pathExists(vocabPath)) {
    throw new InvalidArgumentError(`--vocab ${vocabPath} does not exist`, { actual: vocabPath });
  }
  if ((shape.vocab === 32000 || opts.vocab !== undefined) && pathExists(vocabPath)) {
    const t = await tokenizerOf(vocabPath);
    const n = (t.get("tokenizer.ggml.tokens")?.value as unknown[] | undefined)?.length;
    if (n === shape.vocab) tokenizer = t;
    else if (resize && n !== undefined) {
      shape = { ...shape, vocab: n };
      tokenizer = t;
    }
  }
  const input = synthesizeModel({
    shape,
    arch: arch as ModelArch,
    type,
    tokenizer,
    seed: opts.seed,
    name: `synthetic-${arch}-${opts.shape}-${type}`,
  });
  const sink = createFileSink(opts.out);
  let bytes = 0;
  try {
    for (const chunk of writeGGUFChunks(input)) {
      sink.write(chunk);
      bytes += chunk.byteLength;
    }
  } finally {
    sink.close();
  }
  opts.log?.(
    `wrote ${opts.out}: ${opts.shape} ${type}, ${(bytes / 1e6).toFixed(1)} MB, tokenizer ${
      tokenizer ? vocabPath : "synthesized"
    }`,
  );
  return bytes;
}

function flag(a: string[], name: string, short?: string): string | undefined {
  const i = a.findIndex((x) => x === name || (short !== undefined && x === short));
  return i >= 0 ? a[i + 1] : undefined;
}

async function main(): Promise<void> {
  const a = args();
  const shape = flag(a, "--shape") ?? "tinyllama";
  const type = flag(a, "--type") ?? "Q4_0";
  const out = flag(a, "--out", "-o");
  if (!out || a.includes("--help")) {
    writeStderr(
      `usage: deno task make-model [--arch ${MODEL_ARCHS.join("|")}] --shape ${
        Object.keys(SHAPES).join("|")
      } --type ${MODEL_TYPES.join("|")} -o FILE [--seed N] [--vocab PATH]\n`,
    );
    exit(out ? 0 : 2);
  }
  const seed = flag(a, "--seed");
  const t0 = now();
  try {
    await makeSyntheticModel({
      arch: flag(a, "--arch"),
      shape,
      type,
      out,
      seed: seed === undefined ? undefined : Number(seed),
      vocab: flag(a, "--vocab"),
      log: (l) => writeStdout(`${l} in ${((now() - t0) / 1000).toFixed(1)} s\n`),
    });
  } catch (e) {
    writeStderr(`make-model: ${e instanceof Error ? e.message : e}\n`);
    exit(1);
  }
}

if ((import.meta as { main?: boolean }).main) await main();
