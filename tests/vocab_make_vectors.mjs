#!/usr/bin/env node
// Writes tests/vocab_vectors/<vocab>.json: llama.cpp's own token ids (node-llama-cpp's CPU
// build, common_tokenize with add_special=false, parse_special=false, as
// tests/test-tokenizer-0.cpp) for every models/ggml-vocab-*.gguf of llama.cpp's tree, over
// the vocab's .inp strings (llama-spm's where the vocab has none) and tests/vocab_vectors/extra.inp,
// and tests/vocab_vectors/pre_variants.json: hashes of llama.cpp's ids for the llama-bpe
// vocabulary under every pre-tokenizer name llama.cpp knows.
// tests/vocab_llamacpp_test.ts checks ROCmForge against these files.
// usage: node tests/vocab_make_vectors.mjs [LLAMACPP_TREE] [--pre-only] && deno fmt tests/vocab_vectors
// (run ../shared/ref/setup.sh first)
import { createRequire } from "node:module";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const cache = process.env.RF_REF_DIR ?? join(homedir(), ".cache", "rocmforge-ref");
const treeArg = process.argv.slice(2).find((a) => !a.startsWith("--"));
const tree = treeArg ?? process.env.ROCMFORGE_LLAMACPP ?? join(cache, "llama.cpp");
const require = createRequire(join(cache, "package.json"));
const { getLlama } = await import(require.resolve("node-llama-cpp"));
const here = dirname(fileURLToPath(import.meta.url));
const SEP = "\n__ggml_vocab_test__\n";

/** The strings of an .inp file (a trailing separator ends the last one). */
function inputs(file) {
  const text = readFileSync(file, "utf8");
  const parts = text.split(SEP);
  if (parts[parts.length - 1] === "") parts.pop();
  return parts;
}

const models = join(tree, "models");
const extra = inputs(join(here, "vocab_vectors", "extra.inp"));
const llama = await getLlama({ gpu: false, logLevel: "error" });
const pkg = JSON.parse(
  readFileSync(join(require.resolve("node-llama-cpp"), "../../package.json"), "utf8"),
);
const preOnly = process.argv.includes("--pre-only");
for (const file of readdirSync(models).filter((f) => /^ggml-vocab-.*\.gguf$/.test(f)).sort()) {
  if (preOnly) break;
  const name = file.slice("ggml-vocab-".length, -".gguf".length);
  const own = join(models, `${file}.inp`);
  const inp = existsSync(own) ? own : join(models, "ggml-vocab-llama-spm.gguf.inp");
  const model = await llama.loadModel({ modelPath: join(models, file), vocabOnly: true });
  const tok = (s) => s === "" ? [] : Array.from(model._model.tokenize(s, false));
  const out = {
    vocab: file,
    made_by: `node tests/vocab_make_vectors.mjs (llama.cpp in node-llama-cpp ${pkg.version})`,
    inp: inp.slice(models.length + 1),
    inp_ids: inputs(inp).map(tok),
    extra_ids: extra.map(tok),
  };
  await model.dispose();
  writeFileSync(join(here, "vocab_vectors", `${name}.json`), JSON.stringify(out) + "\n");
  console.log(name, out.inp_ids.length, out.extra_ids.length);
}

// Every pre-tokenizer name llama.cpp's llama-vocab.cpp knows, applied to the llama-bpe
// byte-level gpt-2 vocabulary (its tokenizer.ggml.pre value patched in the file): a 32-bit
// FNV-1a hash of the ids of each string of gpt-2's .inp and extra.inp, per name. Names whose
// pre-tokenizer is not byte-level are left out: llama.cpp aborts on a byte-level vocabulary.
const NOT_BYTE_LEVEL = ["gemma4", "granite-embed-multi-311m", "sarvam-moe", "whitespace"];
const source = readFileSync(join(tree, "src", "llama-vocab.cpp"), "utf8");
const names = [...new Set([...source.matchAll(/tokenizer_pre == "([^"]+)"/g)].map((m) => m[1]))]
  .filter((n) => !NOT_BYTE_LEVEL.includes(n));
const base = readFileSync(join(models, "ggml-vocab-gpt-2.gguf"));
const texts = [...inputs(join(models, "ggml-vocab-gpt-2.gguf.inp")), ...extra];
const variants = {};
const tmp = join(here, "vocab_vectors", ".variant.gguf");
for (const name of names.sort()) {
  writeFileSync(tmp, withPre(base, name));
  const model = await llama.loadModel({ modelPath: tmp, vocabOnly: true });
  variants[name] = texts.map((s) =>
    fnv(s === "" ? [] : Array.from(model._model.tokenize(s, false)))
  );
  await model.dispose();
}
rmSync(tmp);
writeFileSync(
  join(here, "vocab_vectors", "pre_variants.json"),
  JSON.stringify({
    base: "ggml-vocab-gpt-2.gguf",
    made_by: `node tests/vocab_make_vectors.mjs (llama.cpp in node-llama-cpp ${pkg.version})`,
    strings: "ggml-vocab-gpt-2.gguf.inp, then extra.inp",
    hashes: variants,
  }) + "\n",
);
console.log("pre-tokenizer variants", names.length);
await llama.dispose();

/** FNV-1a over the ids' decimal text joined by spaces (tests/vocab_llamacpp_test.ts agrees). */
function fnv(ids) {
  let h = 0x811c9dc5;
  for (const ch of ids.join(" ")) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, "0");
}

/** The GGUF bytes with the string value of tokenizer.ggml.pre replaced by `pre`. */
function withPre(file, pre) {
  const key = Buffer.from("tokenizer.ggml.pre");
  const at = file.indexOf(key);
  if (at < 8 || file.readBigUInt64LE(at - 8) !== BigInt(key.length)) throw new Error("no pre key");
  const typeAt = at + key.length;
  if (file.readUInt32LE(typeAt) !== 8) throw new Error("pre is not a string");
  const len = Number(file.readBigUInt64LE(typeAt + 4));
  const value = Buffer.from(pre);
  const head = Buffer.alloc(12);
  head.writeUInt32LE(8, 0);
  head.writeBigUInt64LE(BigInt(value.length), 4);
  return Buffer.concat([file.subarray(0, typeAt), head, value, file.subarray(typeAt + 12 + len)]);
}
