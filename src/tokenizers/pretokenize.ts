/**
 * BPE pre-tokenizer presets: the regex list (from `pretokenize_patterns.ts`) and the flags
 * llama.cpp's `llama_vocab::load` gives each `tokenizer.ggml.pre` value, and the splitter:
 * each regex splits every chunk the previous one produced; both the matches and the text
 * between them become chunks.
 *
 * @module
 */
import { PATTERNS } from "./pretokenize_patterns.ts";
import { withLlamaCategories } from "./unicode_flags.ts";

/** How a BPE vocabulary pre-tokenizes and which flags its pre-tokenizer type implies. */
export interface BpePreset {
  /** Canonical pre-tokenizer type (llama.cpp's LLAMA_VOCAB_PRE_TYPE_* in lower case). */
  type: string;
  regexes: RegExp[];
  /** A word that is itself a token is emitted without merging (llama3, tekken). */
  ignoreMerges: boolean;
  cleanSpaces: boolean;
  addBos: boolean;
  /**
   * GPT-2 byte-level symbols (true), or raw UTF-8 code points with `<0xXX>` byte tokens and
   * spaces escaped as "▁" (false: SPM-style BPE, gemma4).
   */
  byteLevel: boolean;
}

interface PreDef {
  type: keyof typeof PATTERNS;
  ignoreMerges?: boolean;
  cleanSpaces?: boolean;
  addBos?: boolean;
  byteLevel?: boolean;
}

const PRE: Record<string, PreDef> = {};
function def(names: string[], d: PreDef): void {
  for (const n of names) PRE[n] = d;
}
def(["default"], { type: "default" });
def(
  [
    "llama3",
    "llama-v3",
    "llama-bpe",
    "falcon3",
    "falcon-h1",
    "pixtral",
    "midm-2.0",
    "lfm2",
    "jina-v5-nano",
  ],
  { type: "llama3", ignoreMerges: true, addBos: true },
);
def(["minicpm5"], { type: "minicpm5", ignoreMerges: true });
def(["jais-2"], { type: "jais2" });
def(["dbrx", "smaug-bpe", "chatglm-bpe", "glm4"], { type: "llama3" });
def(["deepseek-llm"], { type: "deepseek-llm", cleanSpaces: false });
def(["deepseek-coder"], { type: "deepseek-coder", cleanSpaces: false });
def(["deepseek-v3", "hunyuan-dense", "joyai-llm"], { type: "deepseek-v3", cleanSpaces: false });
def(["falcon"], { type: "falcon" });
def(["starcoder", "refact", "codeshell", "exaone", "minerva-7b", "mellum2"], {
  type: "starcoder",
});
def(["command-r", "smollm"], { type: "starcoder", cleanSpaces: false });
def(
  [
    "gpt-2",
    "phi-2",
    "jina-es",
    "jina-de",
    "gigachat",
    "jina-v1-en",
    "jina-v2-es",
    "jina-v2-de",
    "jina-v2-code",
    "roberta-bpe",
    "mpt",
    "olmo",
    "jais",
    "exaone4",
    "a.x-4.0",
    "mellum",
    "modern-bert",
  ],
  { type: "gpt2" },
);
def(["trillion", "granite-docling"], { type: "gpt2", cleanSpaces: false });
def(["qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "hunyuan", "solar-open", "grok-2"], {
  type: "qwen2",
  cleanSpaces: false,
});
def(["laguna"], { type: "laguna", cleanSpaces: false });
def(["seed-coder"], { type: "seed-coder", cleanSpaces: false });
def(["tiny_aya", "cohere2moe"], { type: "tiny-aya", cleanSpaces: false });
def(["youtu"], { type: "youtu", cleanSpaces: false, ignoreMerges: true });
def(["exaone-moe"], { type: "exaone-moe" });
def(["superbpe"], { type: "superbpe", cleanSpaces: false });
def(["afmoe"], { type: "afmoe", cleanSpaces: false });
def(["granite-embed-multi-97m"], { type: "granite-multi", cleanSpaces: false, ignoreMerges: true });
def(["bailingmoe", "bailingmoe2", "llada-moe"], { type: "bailingmoe", cleanSpaces: false });
def(["qwen35"], { type: "qwen35", cleanSpaces: false });
def(["stablelm2", "megrez"], { type: "qwen2" });
def(["poro-chat"], { type: "poro", cleanSpaces: false });
def(["bloom", "gpt3-finnish"], { type: "poro" });
def(["viking"], { type: "viking", cleanSpaces: false });
def(["tekken"], { type: "tekken", cleanSpaces: false, ignoreMerges: true, addBos: true });
def(["gpt-4o", "llama4", "kanana2", "talkie", "minimax-m2"], { type: "gpt4o", cleanSpaces: false });
def(["gemma4", "granite-embed-multi-311m"], { type: "gemma4", addBos: true, byteLevel: false });
def(["sarvam-moe"], { type: "sarvam-moe", cleanSpaces: false, byteLevel: false });
def(["chameleon"], { type: "chameleon", cleanSpaces: false, addBos: true });

const compiled = new Map<string, RegExp[]>();

/** The preset for a `tokenizer.ggml.pre` value, or undefined when it is not known. */
export function bpePreset(pre: string): BpePreset | undefined {
  const d = PRE[pre];
  if (d === undefined) return undefined;
  let regexes = compiled.get(d.type);
  if (regexes === undefined) {
    regexes = PATTERNS[d.type].map((p) => new RegExp(withLlamaCategories(p), "gu"));
    compiled.set(d.type, regexes);
  }
  return {
    type: d.type,
    regexes,
    ignoreMerges: d.ignoreMerges ?? false,
    cleanSpaces: d.cleanSpaces ?? true,
    addBos: d.addBos ?? false,
    byteLevel: d.byteLevel ?? true,
  };
}

/** The `tokenizer.ggml.pre` values this module knows. */
export function knownPreTokenizers(): string[] {
  return Object.keys(PRE);
}

/** Splits text into words: each regex splits each chunk into matches and the gaps between. */
export function preTokenize(text: string, regexes: readonly RegExp[]): string[] {
  let chunks = [text];
  for (const re of regexes) {
    const next: string[] = [];
    for (const chunk of chunks) {
      let last = 0;
      re.lastIndex = 0;
      for (let m = re.exec(chunk); m !== null; m = re.exec(chunk)) {
        if (m[0].length === 0) {
          // An empty match only splits (std::regex, as llama.cpp runs superbpe's lookahead).
          if (m.index > last) next.push(chunk.slice(last, m.index));
          last = m.index;
          re.lastIndex += (chunk.codePointAt(re.lastIndex) ?? 0) > 0xffff ? 2 : 1;
          continue;
        }
        if (m.index > last) next.push(chunk.slice(last, m.index));
        next.push(m[0]);
        last = m.index + m[0].length;
      }
      if (last < chunk.length) next.push(chunk.slice(last));
    }
    chunks = next;
  }
  return chunks;
}
