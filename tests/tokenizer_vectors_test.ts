/**
 * llama.cpp's tokenizer test vectors (`models/ggml-vocab-*.gguf.inp/.out`): every string of
 * the `.inp` file, encoded with addSpecial=false and parseSpecial=false, must give exactly
 * the ids of the `.out` line (they come from the Hugging Face tokenizers). Vocab GGUFs
 * without vectors must load and round-trip the same strings through encode/decode.
 *
 * `llama.cpp-vocab/vectors-only/` (qwen2, llama-bpe, command-r, ...) holds vectors whose
 * vocab GGUF is not in the shared data, so they cannot be run here.
 *
 * @module
 */
import { assert, assertEquals, assertStrictEquals } from "./assert.ts";
import { findGGUFFiles } from "./gguf_test_util.ts";
import { test } from "./harness.ts";
import { HAVE_SHARED, NO_SHARED_REASON, sharedPath } from "./shared_data.ts";
import { plainMetadata } from "../src/gguf/gguf_file.ts";
import { openGGUF } from "../src/gguf/reader.ts";
import { pathExists, readTextFile } from "../src/runtime/host.ts";
import { tokenizerFromMetadata } from "../src/tokenizers/from_gguf.ts";

const SEPARATOR = "\n__ggml_vocab_test__\n";
const dir = sharedPath("models", "llama.cpp-vocab");
const opts = { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON };
/** Vocabularies whose vectors the shared data has (listed so a missing file fails). */
const WITH_VECTORS = ["bert-bge", "deepseek-coder", "gpt-2", "llama-spm", "phi-3"];
const vocabs = HAVE_SHARED
  ? findGGUFFiles(dir)
  : WITH_VECTORS.map((n) => `${dir}/ggml-vocab-${n}.gguf`);

function inputs(file: string): string[] {
  const parts = readTextFile(file).split(SEPARATOR);
  // The file ends with a separator: the last part is not a test string.
  assertStrictEquals(parts.pop(), "");
  return parts;
}

test("vector files are present for the expected vocabularies", () => {
  for (const name of WITH_VECTORS) {
    assert(pathExists(`${dir}/ggml-vocab-${name}.gguf.out`), name);
    assert(vocabs.includes(`${dir}/ggml-vocab-${name}.gguf`), name);
  }
  assert(vocabs.length >= 8, `found ${vocabs.length} vocab GGUFs`);
}, opts);

for (const path of vocabs) {
  const vocab = path.slice(path.lastIndexOf("/") + 1);
  const load = () => tokenizerFromMetadata(plainMetadata(openGGUF(path)));
  if (!HAVE_SHARED || pathExists(`${path}.out`)) {
    test(`${vocab}: every test vector encodes exactly`, () => {
      const tok = load();
      const texts = inputs(`${path}.inp`);
      const lines = readTextFile(`${path}.out`).split("\n");
      assert(texts.length >= 40 && lines.length >= texts.length);
      let matched = 0;
      for (let i = 0; i < texts.length; i++) {
        const want = lines[i].trim() === "" ? [] : lines[i].trim().split(/\s+/).map(Number);
        assertEquals(tok.encode(texts[i]), want, `${vocab} #${i} ${JSON.stringify(texts[i])}`);
        matched++;
      }
      assertStrictEquals(matched, texts.length);
    }, opts);
  } else {
    test(`${vocab}: loads and round-trips the test strings`, () => {
      const tok = load();
      assert(tok.vocabSize > 1000);
      const texts = inputs(`${dir}/ggml-vocab-llama-spm.gguf.inp`);
      for (const text of texts) {
        const ids = tok.encode(text);
        assert(ids.length > 0 || text === "");
        assert(ids.every((id) => id >= 0 && id < tok.vocabSize));
        assertStrictEquals(tok.decode(ids), text, `${vocab} ${JSON.stringify(text)}`);
      }
    }, opts);
  }
}
