/**
 * Every vocab-only GGUF in llama.cpp's `models/` folder either tokenizes 100% of its test
 * vectors or fails to load with TokenizerError `TOKENIZER_UNSUPPORTED` naming its tokenizer
 * model or pre-tokenizer. No vocabulary may load and then tokenize wrongly.
 *
 * Vectors, all encoded with addSpecial=false and parseSpecial=false (llama.cpp's
 * tests/test-tokenizer-0.cpp):
 * - `models/<vocab>.gguf.inp/.out` where the tree has them (Hugging Face's ids);
 * - `tests/vocab_vectors/<vocab>.json`: llama.cpp's own ids for the vocab's `.inp` strings
 *   (llama-spm's for vocabs without any) and for `tests/vocab_vectors/extra.inp` (Hangul,
 *   combining marks, unassigned code points, Unicode spaces, ...), written by
 *   `node tests/vocab_make_vectors.mjs`.
 *
 * @module
 */
import { assert, assertEquals, assertStrictEquals } from "./assert.ts";
import { test } from "./harness.ts";
import { LLAMACPP_TREE, llamacppPath, NO_LLAMACPP_REASON } from "./llamacpp_tree.ts";
import { fromFileUrl, join } from "./_path.ts";
import { readdirSync } from "node:fs";
import { TokenizerError } from "../src/core/errors.ts";
import { plainMetadata } from "../src/gguf/gguf_file.ts";
import { openGGUF } from "../src/gguf/reader.ts";
import { pathExists, readTextFile } from "../src/runtime/host.ts";
import { tokenizerFromMetadata } from "../src/tokenizers/from_gguf.ts";
import type { Tokenizer } from "../src/tokenizers/types.ts";

const SEPARATOR = "\n__ggml_vocab_test__\n";
const VECTORS = join(fromFileUrl(new URL(".", import.meta.url)), "vocab_vectors");
const opts = { ignore: !LLAMACPP_TREE, reason: NO_LLAMACPP_REASON };

/**
 * What each vocabulary must do: the tokenizer name it loads as, or `unsupported` with the
 * name its error must carry. A vocabulary missing here fails the test.
 */
const EXPECTED: Record<string, string> = {
  aquila: "bpe:default",
  baichuan: "spm",
  "bert-bge": "wpm",
  "command-r": "bpe:command-r",
  "deepseek-coder": "bpe:deepseek-coder",
  "deepseek-llm": "bpe:deepseek-llm",
  falcon: "bpe:falcon",
  "gemma-4": "bpe:gemma4",
  "gpt-2": "bpe:gpt-2",
  "gpt-neox": "bpe:default",
  "llama-bpe": "bpe:llama-bpe",
  "llama-spm": "spm",
  mpt: "bpe:mpt",
  "nomic-bert-moe": "ugm",
  "phi-3": "spm",
  qwen2: "bpe:qwen2",
  qwen35: "bpe:qwen35",
  refact: "bpe:refact",
  starcoder: "bpe:starcoder",
};

interface LlamacppVectors {
  inp: string;
  inp_ids: number[][];
  extra_ids: number[][];
}

/** The strings of an .inp file (a trailing separator ends the last one). */
function inputs(file: string): string[] {
  const parts = readTextFile(file).split(SEPARATOR);
  if (parts[parts.length - 1] === "") parts.pop();
  return parts;
}

/** Counts the strings that encode to exactly the expected ids; lists the first failures. */
function score(tok: Tokenizer, texts: string[], want: number[][], failures: string[]): number {
  assertStrictEquals(texts.length, want.length, "strings vs expected id lists");
  let ok = 0;
  for (let i = 0; i < texts.length; i++) {
    const got = tok.encode(texts[i]);
    if (got.length === want[i].length && got.every((id, j) => id === want[i][j])) ok++;
    else if (failures.length < 5) {
      failures.push(`#${i} ${JSON.stringify(texts[i])}\n  want ${want[i]}\n  got  ${got}`);
    }
  }
  return ok;
}

const vocabs = LLAMACPP_TREE
  ? readdirSync(llamacppPath("models")).filter((f) => /^ggml-vocab-.*\.gguf$/.test(f)).sort()
  : [];

test("every vocab of llama.cpp's models/ folder has an expectation and llama.cpp vectors", () => {
  const names = vocabs.map((f) => f.slice("ggml-vocab-".length, -".gguf".length));
  assertEquals(names, Object.keys(EXPECTED).sort());
  for (const n of names) assert(pathExists(join(VECTORS, `${n}.json`)), `${n}.json`);
}, opts);

for (const file of LLAMACPP_TREE ? vocabs : Object.keys(EXPECTED)) {
  const name = file.replace(/^ggml-vocab-/, "").replace(/\.gguf$/, "");
  test(`${name}: tokenizes 100% of its vectors or is a typed unsupported error`, () => {
    const path = llamacppPath("models", file);
    const expected = EXPECTED[name];
    let t0 = performance.now();
    let tok: Tokenizer;
    try {
      tok = tokenizerFromMetadata(plainMetadata(openGGUF(path)));
    } catch (e) {
      assert(e instanceof TokenizerError, `${name}: ${e}`);
      assertStrictEquals(e.code, "TOKENIZER_UNSUPPORTED", `${name}: ${e.message}`);
      assertStrictEquals(`unsupported:${e.facts.actual}`, expected, e.message);
      assert(e.message.includes(String(e.facts.actual)), e.message);
      console.log(`${name}: unsupported (${e.message})`);
      return;
    }
    const loadMs = performance.now() - t0;
    assertStrictEquals(tok.name, expected, `${name} tokenizer`);
    const ref = JSON.parse(readTextFile(join(VECTORS, `${name}.json`))) as LlamacppVectors;
    const failures: string[] = [];
    const parts: string[] = [];
    let passed = 0;
    let total = 0;
    t0 = performance.now();
    if (pathExists(`${path}.out`)) {
      const texts = inputs(`${path}.inp`);
      const lines = readTextFile(`${path}.out`).split("\n").slice(0, texts.length);
      const want = lines.map((l) => l.trim() === "" ? [] : l.trim().split(/\s+/).map(Number));
      const ok = score(tok, texts, want, failures);
      parts.push(`hf ${ok}/${texts.length}`);
      passed += ok;
      total += texts.length;
    }
    const sets: [string, string[], number[][]][] = [
      ["llama.cpp", inputs(llamacppPath("models", ref.inp)), ref.inp_ids],
      ["llama.cpp extra", inputs(join(VECTORS, "extra.inp")), ref.extra_ids],
    ];
    for (const [label, texts, want] of sets) {
      const ok = score(tok, texts, want, failures);
      parts.push(`${label} ${ok}/${texts.length}`);
      passed += ok;
      total += texts.length;
    }
    const encMs = performance.now() - t0;
    console.log(
      `${name}: ${tok.name} ${passed}/${total} (${parts.join(", ")}); ` +
        `load ${loadMs.toFixed(0)} ms, encode ${encMs.toFixed(0)} ms`,
    );
    assertStrictEquals(passed, total, `${name} mismatches:\n${failures.join("\n")}`);
    assert(total >= 70, `${name}: only ${total} vectors`);
    // ~10-100 ms here for 80-130 strings; a blow-up (quadratic search, runaway regex) fails.
    assert(encMs < 2000, `${name}: encoding the vectors took ${encMs.toFixed(0)} ms`);
  }, opts);
}
