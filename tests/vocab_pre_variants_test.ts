/**
 * Every byte-level pre-tokenizer name llama.cpp knows, applied to the gpt-2 vocabulary:
 * ROCmForge's ids equal llama.cpp's for every test string (`tests/vocab_vectors/
 * pre_variants.json` holds hashes of llama.cpp's ids, written by
 * `node tests/vocab_make_vectors.mjs`), or the name is one ROCmForge does not know, which
 * loads as a typed TOKENIZER_UNSUPPORTED error (see tests/vocab_llamacpp_test.ts).
 *
 * @module
 */
import { assert, assertEquals, assertStrictEquals } from "./assert.ts";
import { test } from "./harness.ts";
import { LLAMACPP_TREE, llamacppPath, NO_LLAMACPP_REASON } from "./llamacpp_tree.ts";
import { fromFileUrl, join } from "./_path.ts";
import { plainMetadata } from "../src/gguf/gguf_file.ts";
import { openGGUF } from "../src/gguf/reader.ts";
import { readTextFile } from "../src/runtime/host.ts";
import { bpePreset, knownPreTokenizers } from "../src/tokenizers/pretokenize.ts";
import { GgufTokenizer } from "../src/tokenizers/tokenizer.ts";
import { loadVocab } from "../src/tokenizers/vocab.ts";

const SEPARATOR = "\n__ggml_vocab_test__\n";
const VECTORS = join(fromFileUrl(new URL(".", import.meta.url)), "vocab_vectors");
const opts = { ignore: !LLAMACPP_TREE, reason: NO_LLAMACPP_REASON };
/** Pre-tokenizers that are not byte-level (tested on their own vocabularies, or not at all). */
const NOT_BYTE_LEVEL = ["gemma4", "granite-embed-multi-311m", "sarvam-moe"];

interface Variants {
  base: string;
  hashes: Record<string, string[]>;
}

/** FNV-1a over the ids' decimal text joined by spaces (as tests/vocab_make_vectors.mjs). */
function fnv(ids: number[]): string {
  let h = 0x811c9dc5;
  for (const ch of ids.join(" ")) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, "0");
}

function inputs(file: string): string[] {
  const parts = readTextFile(file).split(SEPARATOR);
  if (parts[parts.length - 1] === "") parts.pop();
  return parts;
}

test("every byte-level pre-tokenizer llama.cpp knows matches it or is unsupported", () => {
  const ref = JSON.parse(readTextFile(join(VECTORS, "pre_variants.json"))) as Variants;
  const path = llamacppPath("models", ref.base);
  const vocab = loadVocab(plainMetadata(openGGUF(path)));
  const texts = [...inputs(`${path}.inp`), ...inputs(join(VECTORS, "extra.inp"))];
  const names = Object.keys(ref.hashes);
  const supported: string[] = [];
  const unsupported: string[] = [];
  const failures: string[] = [];
  for (const name of names) {
    const preset = bpePreset(name);
    if (preset === undefined) {
      unsupported.push(name);
      continue;
    }
    supported.push(name);
    const tok = new GgufTokenizer({ ...vocab, pre: name, preset });
    const want = ref.hashes[name];
    assertStrictEquals(want.length, texts.length, name);
    for (let i = 0; i < texts.length; i++) {
      if (fnv(tok.encode(texts[i])) !== want[i] && failures.length < 10) {
        failures.push(`${name} #${i} ${JSON.stringify(texts[i])}`);
      }
    }
  }
  console.log(
    `pre-tokenizers: ${supported.length}/${names.length} of llama.cpp's byte-level names ` +
      `match on ${texts.length} strings; unsupported: ${unsupported.join(", ")}`,
  );
  assertEquals(failures, []);
  // Every name ROCmForge knows is one llama.cpp knows (no typos, nothing invented).
  const extra = knownPreTokenizers().filter((n) =>
    !names.includes(n) && !NOT_BYTE_LEVEL.includes(n)
  );
  assertEquals(extra, []);
  assert(supported.length >= 82, `only ${supported.length} pre-tokenizers supported`);
}, opts);
