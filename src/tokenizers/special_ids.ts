/**
 * Special token ids and flags, as llama.cpp settles them: per-model defaults, overridden by
 * `tokenizer.ggml.*_token_id` keys that lie inside the vocabulary; end-of-turn, FIM and
 * end-of-generation tokens detected by their text; the sorted cache of tokens that are
 * split out of raw text before tokenization; and the per-model strip attributes.
 *
 * @module
 */
import { TokenizerError } from "../core/errors.ts";
import { type Metadata, optBool, optString, optUint } from "./metadata.ts";
import { TokenAttr } from "./token_attr.ts";
import type { Vocab } from "./vocab.ts";

/** Special ids of a vocabulary (undefined: the model has none). */
export interface SpecialIds {
  bos: number | undefined;
  eos: number | undefined;
  eot: number | undefined;
  eom: number | undefined;
  unk: number | undefined;
  sep: number | undefined;
  pad: number | undefined;
  mask: number | undefined;
  /** Every end-of-generation id. */
  eog: Set<number>;
}

type IdField = "bos" | "eos" | "eot" | "eom" | "unk" | "sep" | "pad" | "mask";

const DEFAULTS: Record<Vocab["kind"], Partial<Record<IdField, number>>> = {
  spm: { bos: 1, eos: 2, unk: 0 },
  bpe: { bos: 11, eos: 11 },
  wpm: { bos: 101, unk: 100, sep: 102, pad: 0, mask: 103 },
  ugm: { eos: 1, unk: 2, pad: 0 },
};

const ID_KEYS: [IdField, string][] = [
  ["bos", "tokenizer.ggml.bos_token_id"],
  ["eos", "tokenizer.ggml.eos_token_id"],
  ["eot", "tokenizer.ggml.eot_token_id"],
  ["eom", "tokenizer.ggml.eom_token_id"],
  ["unk", "tokenizer.ggml.unknown_token_id"],
  ["sep", "tokenizer.ggml.seperator_token_id"],
  ["pad", "tokenizer.ggml.padding_token_id"],
  ["mask", "tokenizer.ggml.mask_token_id"],
];

/** End-of-turn texts, most specific first (llama.cpp takes the first it meets). */
const EOT_TEXTS = [
  "<|eot_id|>",
  "<|im_end|>",
  "<|end|>",
  "<end_of_turn>",
  "<|endoftext|>",
  "<|end_of_text|>",
  "<EOT>",
  "_<EOT>",
  "[EOT]",
  "<｜end▁of▁sentence｜>",
  "<end_of_utterance>",
];
/** Texts of tokens that end generation (llama.cpp marks them control). */
const EOG_TEXTS = [
  "<|eot_id|>",
  "<|im_end|>",
  "<|end|>",
  "<|return|>",
  "<|call|>",
  "<|flush|>",
  "<|calls|>",
  "<end_of_turn>",
  "<|endoftext|>",
  "</s>",
  "<|eom_id|>",
  "<EOT>",
  "_<EOT>",
  "[EOT]",
  "[EOS]",
  "<|end_of_text|>",
  "<end_of_utterance>",
  "<eos>",
  "<turn|>",
  "<|tool_response>",
  "<｜end▁of▁sentence｜>",
  "[e~[",
];
/** FIM prefix / suffix / middle tokens: llama.cpp marks them control. */
const FIM_CONTROL: [string, string[]][] = [
  ["tokenizer.ggml.fim_pre_token_id", [
    "<|fim_prefix|>",
    "<fim-prefix>",
    "<fim_prefix>",
    "<｜fim▁begin｜>",
    "<PRE>",
    "▁<PRE>",
    "<|code_prefix|>",
    "<|prefix|>",
  ]],
  ["tokenizer.ggml.fim_suf_token_id", [
    "<|fim_suffix|>",
    "<fim-suffix>",
    "<fim_suffix>",
    "<｜fim▁hole｜>",
    "<SUF>",
    "▁<SUF>",
    "<|code_suffix|>",
    "<|suffix|>",
  ]],
  ["tokenizer.ggml.fim_mid_token_id", [
    "<|fim_middle|>",
    "<fim-middle>",
    "<fim_middle>",
    "<｜fim▁end｜>",
    "<MID>",
    "▁<MID>",
    "<|code_middle|>",
    "<|middle|>",
  ]],
];
/** FIM pad / repo / file-separator tokens, which llama.cpp also treats as end of generation. */
const FIM_EOG: [string, string[]][] = [
  ["tokenizer.ggml.fim_pad_token_id", ["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"]],
  [
    "tokenizer.ggml.fim_rep_token_id",
    ["<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"],
  ],
  ["tokenizer.ggml.fim_sep_token_id", ["<|file_sep|>"]],
];
/** gpt-oss tokens llama.cpp always renders (it makes them user-defined). */
const ALWAYS_RENDERED = ["<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"];

function inRange(v: Vocab, id: number | undefined): number | undefined {
  return id !== undefined && id < v.texts.length ? id : undefined;
}

function findText(v: Vocab, texts: string[]): number | undefined {
  for (const t of texts) {
    const id = v.textToId.get(t);
    if (id !== undefined) return id;
  }
  return undefined;
}

function markControl(v: Vocab, id: number): void {
  v.attrs[id] |= TokenAttr.CONTROL;
}

/** Fills ids, add flags, EOG set, special cache and strip attributes of `v`. */
export function applySpecialIds(v: Vocab, md: Metadata, generalName: string): void {
  // llama.cpp's gemma4 model has no default special ids: they come from the metadata.
  const defaults = v.model === "gemma4" ? {} : DEFAULTS[v.kind];
  for (const [field, key] of ID_KEYS) {
    let id = inRange(v, defaults[field]);
    const fromMd = optUint(md, key);
    if (fromMd !== undefined && fromMd < v.texts.length) id = fromMd;
    v[field] = id;
  }
  if (v.pre === "chatglm-bpe" && optUint(md, "tokenizer.ggml.bos_token_id") === undefined) {
    v.bos = undefined;
  }
  v.addBos = optBool(md, "tokenizer.ggml.add_bos_token") ?? v.addBos;
  if (v.preset?.type === "gemma4") v.addBos = true; // llama.cpp's Gemma 4 override
  v.addEos = optBool(md, "tokenizer.ggml.add_eos_token") ?? v.addEos;
  v.addSep = optBool(md, "tokenizer.ggml.add_sep_token") ?? v.addSep;
  const required: [string, boolean, IdField][] = [
    ["add_bos_token", v.addBos, "bos"],
    ["add_eos_token", v.addEos, "eos"],
    ["add_sep_token", v.addSep, "sep"],
  ];
  for (const [flag, on, field] of required) {
    if (on && v[field] === undefined) {
      throw new TokenizerError(
        "TOKENIZER_BAD_METADATA",
        `tokenizer.ggml.${flag} is true but the model has no ${field} token`,
        { key: `tokenizer.ggml.${flag}`, expected: `a ${field} token id`, actual: "none" },
      );
    }
  }

  if (v.eot === undefined) {
    v.eot = findText(v, EOT_TEXTS);
    if (v.eot !== undefined) markControl(v, v.eot);
  }
  if (v.eom === undefined) {
    v.eom = v.textToId.get("<|eom_id|>");
    if (v.eom !== undefined) markControl(v, v.eom);
  }
  for (const [key, texts] of FIM_CONTROL) {
    const fromMd = optUint(md, key);
    const id = fromMd !== undefined && fromMd < v.texts.length ? undefined : findText(v, texts);
    if (id !== undefined) markControl(v, id);
  }
  for (const [key, texts] of FIM_EOG) {
    const fromMd = optUint(md, key);
    if (fromMd !== undefined && fromMd < v.texts.length) {
      v.eog.add(fromMd);
      continue;
    }
    const id = findText(v, texts);
    if (id !== undefined) {
      markControl(v, id);
      v.eog.add(id);
    }
  }
  for (const t of EOG_TEXTS) {
    const id = v.textToId.get(t);
    if (id === undefined) continue;
    v.eog.add(id);
    markControl(v, id);
  }
  for (const t of ALWAYS_RENDERED) {
    const id = v.textToId.get(t);
    if (id !== undefined) v.attrs[id] = TokenAttr.USER_DEFINED;
  }
  for (const id of [v.eos, v.eot, v.eom]) if (id !== undefined) v.eog.add(id);
  dropEogWorkarounds(v);

  buildSpecialCache(v);
  applyStripAttrs(v, generalName.toLowerCase(), optString(md, "general.architecture") ?? "");
}

/**
 * llama.cpp's EOG workarounds: with `<|return|>` + `<|call|>` (o200k_harmony) or `<|calls|>` +
 * `<|flush|>` (solar-open), `<|end|>` is no EOG and becomes user-defined; with
 * `<|tool_response>` (gemma4), `</s>` is no EOG and becomes normal.
 */
function dropEogWorkarounds(v: Vocab): void {
  const has = (t: string) => {
    const id = v.textToId.get(t);
    return id !== undefined && v.eog.has(id);
  };
  const end = v.textToId.get("<|end|>");
  if (
    end !== undefined && has("<|end|>") &&
    ((has("<|return|>") && has("<|call|>")) || (has("<|calls|>") && has("<|flush|>")))
  ) {
    v.eog.delete(end);
    v.attrs[end] = TokenAttr.USER_DEFINED;
  }
  const s = v.textToId.get("</s>");
  if (s !== undefined && has("</s>") && has("<|tool_response>")) {
    v.eog.delete(s);
    v.attrs[s] = TokenAttr.NORMAL;
  }
}

function utf8Length(s: string): number {
  let n = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    n += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return n;
}

function buildSpecialCache(v: Vocab): void {
  const mask = TokenAttr.CONTROL | TokenAttr.USER_DEFINED | TokenAttr.UNKNOWN;
  const ids: number[] = [];
  for (let i = 0; i < v.attrs.length; i++) if (v.attrs[i] & mask) ids.push(i);
  const len = new Map(ids.map((id) => [id, utf8Length(v.texts[id])]));
  ids.sort((a, b) => len.get(b)! - len.get(a)! || a - b);
  v.specialCache = ids;
}

function setAttr(v: Vocab, id: number | undefined, bit: number, on: boolean): void {
  if (id === undefined) return;
  v.attrs[id] = on ? v.attrs[id] | bit : v.attrs[id] & ~bit;
}

/** llama.cpp's per-model token attributes (they are not stored in GGUF files). */
function applyStripAttrs(v: Vocab, name: string, arch: string): void {
  if (
    ["jina-v2-de", "jina-v2-es", "jina-v2-code"].some((p) => v.pre.includes(p)) ||
    ["nomic-bert-moe", "jina-bert-v3"].some((a) => arch.includes(a))
  ) {
    setAttr(v, v.textToId.get("<mask>"), TokenAttr.LSTRIP, true);
  } else if (name.includes("phi-3") || name.includes("phi3")) {
    for (const id of v.specialCache) setAttr(v, id, TokenAttr.RSTRIP, true);
    setAttr(v, v.textToId.get("</s>"), TokenAttr.RSTRIP, true);
    for (const t of ["<unk>", "<s>", "<|endoftext|>"]) {
      setAttr(v, v.textToId.get(t), TokenAttr.RSTRIP, false);
    }
  }
}
