/**
 * The vocabulary read from GGUF metadata: token strings, scores, per-token attributes,
 * the text → id map and the tokenizer flags, following llama.cpp's `llama_vocab::load`
 * (defaults per tokenizer model, then metadata overrides).
 *
 * @module
 */
import { TokenizerError } from "../core/errors.ts";
import {
  byteArray,
  type Metadata,
  numberArray,
  optBool,
  optString,
  stringArray,
} from "./metadata.ts";
import { type BpePreset, bpePreset } from "./pretokenize.ts";
import { applySpecialIds, type SpecialIds } from "./special_ids.ts";
import { TokenAttr } from "./token_attr.ts";
import type { UgmOptions } from "./ugm.ts";

export { TokenAttr };

/** GGUF token types (`tokenizer.ggml.token_type`) → attribute bits. */
const TYPE_TO_ATTR: Record<number, number> = {
  1: TokenAttr.NORMAL,
  2: TokenAttr.UNKNOWN,
  3: TokenAttr.CONTROL,
  4: TokenAttr.USER_DEFINED,
  5: TokenAttr.UNUSED,
  6: TokenAttr.BYTE,
};

/** Tokenizer algorithm family. */
export type VocabKind = "spm" | "bpe" | "wpm" | "ugm";

/** BertNormalizer options of WordPiece vocabularies (`tokenizer.ggml.normalizer.*`). */
export interface WpmNormalizer {
  lowercase: boolean;
  stripAccents: boolean;
}

/** A loaded vocabulary. */
export interface Vocab extends SpecialIds {
  kind: VocabKind;
  /** `tokenizer.ggml.model`. */
  model: string;
  /** `tokenizer.ggml.pre` ("default" when absent). */
  pre: string;
  texts: string[];
  scores: Float32Array;
  attrs: Uint16Array;
  textToId: Map<string, number>;
  /** BPE merge ranks keyed by `left + " " + right` (first occurrence wins). */
  mergeRanks: Map<string, number> | undefined;
  /** Pre-tokenizer of a BPE vocabulary. */
  preset: BpePreset | undefined;
  addBos: boolean;
  addEos: boolean;
  addSep: boolean;
  addSpacePrefix: boolean;
  cleanSpaces: boolean;
  normalizer: WpmNormalizer;
  /** Unigram normalization (`ugm` only): precompiled charsmap and space merging. */
  ugm: UgmOptions | undefined;
  /** Longest token in code points (WPM search bound; 0 for other kinds). */
  maxTokenChars: number;
  /** Control, user-defined and unknown tokens, longest text first (llama.cpp's order). */
  specialCache: number[];
}

const MODEL_KIND: Record<string, VocabKind> = {
  llama: "spm",
  gpt2: "bpe",
  gemma4: "bpe",
  bert: "wpm",
  t5: "ugm",
};
const KNOWN_UNSUPPORTED = ["rwkv", "plamo2", "no_vocab", "none"];

/**
 * Merge ranks keyed by the merge string itself ("left right", split at the first space
 * after index 0, as llama.cpp splits it). Byte-level symbols never contain a space, so the
 * lookup key `left + " " + right` is unambiguous. First occurrence wins.
 */
function parseMerges(merges: string[]): Map<string, number> {
  const ranks = new Map<string, number>();
  for (let i = 0; i < merges.length; i++) {
    const m = merges[i];
    const pos = m.indexOf(" ", 1);
    if (pos < 0 || pos === m.length - 1) {
      throw new TokenizerError(
        "TOKENIZER_BAD_METADATA",
        `tokenizer.ggml.merges[${i}] is not "left right": ${JSON.stringify(m.slice(0, 40))}`,
        { key: "tokenizer.ggml.merges", offset: i, expected: "left right", actual: m.slice(0, 40) },
      );
    }
  }
  // Set from the end so the first occurrence wins (llama.cpp's emplace) with one hash each.
  for (let i = merges.length - 1; i >= 0; i--) ranks.set(merges[i], i);
  return ranks;
}

/** Builds the vocabulary; throws TokenizerError for unusable metadata. */
export function loadVocab(md: Metadata): Vocab {
  const model = optString(md, "tokenizer.ggml.model");
  if (model === undefined) {
    throw new TokenizerError("TOKENIZER_BAD_METADATA", "tokenizer.ggml.model is missing", {
      key: "tokenizer.ggml.model",
      expected: "llama | gpt2 | gemma4 | bert | t5",
      actual: "absent",
    });
  }
  const kind = MODEL_KIND[model];
  if (kind === undefined) {
    const known = KNOWN_UNSUPPORTED.includes(model) ? "not supported yet" : "unknown";
    throw new TokenizerError("TOKENIZER_UNSUPPORTED", `tokenizer model "${model}" is ${known}`, {
      key: "tokenizer.ggml.model",
      expected: "llama | gpt2 | gemma4 | bert | t5",
      actual: model,
    });
  }
  const texts = stringArray(md, "tokenizer.ggml.tokens", true).slice();
  const n = texts.length;
  if (n === 0) {
    throw new TokenizerError("TOKENIZER_BAD_METADATA", "tokenizer.ggml.tokens is empty", {
      key: "tokenizer.ggml.tokens",
      expected: "at least 1 token",
      actual: 0,
    });
  }
  const scoreList = numberArray(md, "tokenizer.ggml.scores", n, false);
  const typeList = numberArray(md, "tokenizer.ggml.token_type", n, true);
  const scores = new Float32Array(n);
  const attrs = new Uint16Array(n);
  const textToId = new Map<string, number>();
  let maxTokenChars = 0;
  for (let i = 0; i < n; i++) {
    if (texts[i] === "") texts[i] = `[EMPTY_${i}]`;
    textToId.set(texts[i], i); // the last id of a duplicated text wins, as in llama.cpp
    if (kind === "wpm") {
      let chars = 0;
      for (const _ of texts[i]) chars++;
      if (chars > maxTokenChars) maxTokenChars = chars;
    }
    if (scoreList) scores[i] = scoreList[i];
    attrs[i] = typeList ? (TYPE_TO_ATTR[typeList[i]] ?? TokenAttr.UNDEFINED) : TokenAttr.NORMAL;
  }

  let mergeRanks: Map<string, number> | undefined;
  if (kind === "bpe") mergeRanks = parseMerges(stringArray(md, "tokenizer.ggml.merges", true));

  // llama.cpp: the gemma4 model is BPE with the gemma4 pre-tokenizer whatever `pre` says.
  const pre = model === "gemma4" ? "gemma4" : optString(md, "tokenizer.ggml.pre") ?? "default";
  let preset: BpePreset | undefined;
  if (kind === "bpe") {
    preset = bpePreset(pre);
    if (preset === undefined) {
      throw new TokenizerError("TOKENIZER_UNSUPPORTED", `unknown BPE pre-tokenizer "${pre}"`, {
        key: "tokenizer.ggml.pre",
        expected: "a pre-tokenizer llama.cpp knows",
        actual: pre,
      });
    }
  }
  const vocab: Vocab = {
    kind,
    model,
    pre,
    texts,
    scores,
    attrs,
    textToId,
    mergeRanks,
    preset,
    addBos: preset ? preset.addBos : kind !== "ugm",
    addEos: kind === "ugm",
    addSep: kind === "wpm",
    addSpacePrefix: kind === "spm",
    cleanSpaces: preset ? preset.cleanSpaces : kind === "wpm",
    normalizer: { lowercase: true, stripAccents: true },
    ugm: kind === "ugm"
      ? {
        charsmap: byteArray(md, "tokenizer.ggml.precompiled_charsmap"),
        removeExtraWhitespaces: optBool(md, "tokenizer.ggml.remove_extra_whitespaces") ?? false,
      }
      : undefined,
    maxTokenChars,
    specialCache: [],
    bos: undefined,
    eos: undefined,
    eot: undefined,
    eom: undefined,
    unk: undefined,
    sep: undefined,
    pad: undefined,
    mask: undefined,
    eog: new Set(),
  };
  const space = optBool(md, "tokenizer.ggml.add_space_prefix");
  if (space !== undefined) vocab.addSpacePrefix = space;
  const lowercase = optBool(md, "tokenizer.ggml.normalizer.lowercase") ?? true;
  const stripAccents = optBool(md, "tokenizer.ggml.normalizer.strip_accents") ?? lowercase;
  vocab.normalizer = { lowercase, stripAccents };
  applySpecialIds(vocab, md, optString(md, "general.name") ?? "");
  return vocab;
}

/** Throws TOKENIZER_BAD_TOKEN unless `id` is a valid token id of `vocab`. */
export function checkId(vocab: Vocab, id: number): void {
  if (!Number.isInteger(id) || id < 0 || id >= vocab.texts.length) {
    throw new TokenizerError("TOKENIZER_BAD_TOKEN", `token id ${id} is outside the vocabulary`, {
      expected: `0..${vocab.texts.length - 1}`,
      actual: id,
    });
  }
}
