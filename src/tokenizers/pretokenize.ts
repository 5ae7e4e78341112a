/**
 * Byte-level BPE pre-tokenizers: the regex lists llama.cpp applies for each
 * `tokenizer.ggml.pre` value, written as JavaScript `u` regexes. `\s` is replaced by
 * llama.cpp's whitespace set (see {@linkcode WS_CLASS}); `\s+(?!\S)|\s+` keeps llama.cpp's
 * "leave the last space for the next word" rule, and contractions are matched
 * case-insensitively where llama.cpp does (`'[sS]`...). Each regex splits every chunk the
 * previous one produced; both the matches and the text between them become chunks.
 *
 * @module
 */
import { WS_CLASS } from "./unicode.ts";

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

const S = `[${WS_CLASS}]`;
const NS = `[^${WS_CLASS}]`;
const CONTRACTIONS_CI = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";
const GPT2 = `'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^${WS_CLASS}\\p{L}\\p{N}]+` +
  `|${S}+(?!${NS})|${S}+`;
const LLAMA3_TAIL = `| ?[^${WS_CLASS}\\p{L}\\p{N}]+[\\r\\n]*|${S}*[\\r\\n]+|${S}+(?!${NS})|${S}+`;
const LLAMA3 = `${CONTRACTIONS_CI}|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}${LLAMA3_TAIL}`;
const QWEN2 = `${CONTRACTIONS_CI}|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}${LLAMA3_TAIL}`;
const QWEN35 = `${CONTRACTIONS_CI}|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}` +
  `| ?[^${WS_CLASS}\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|${S}*[\\r\\n]+|${S}+(?!${NS})|${S}+`;
const SEED_CODER = `${CONTRACTIONS_CI}|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1}` +
  `| ?[^${WS_CLASS}\\p{L}\\p{N}\\r\\n]+|${S}*[\\r\\n]+|${S}+(?!${NS})|${S}+`;
const BAILINGMOE =
  `'(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}` +
  `| ?[^${WS_CLASS}\\p{L}\\p{N}]+[\\r\\n]*|${S}*[\\r\\n]|${S}+(?!${NS})|${S}+`;
const JAIS2_WS = [512, 256, 128, 64, 32, 16, 8, 4].map((n) => `|${S}{${n}}(?!${NS})`).join("");
const JAIS2 = `${CONTRACTIONS_CI}|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}` +
  `| ?[^${WS_CLASS}\\p{L}\\p{N}]+[\\r\\n]*|${S}*[\\r\\n]+${JAIS2_WS}|${S}{1,2}(?!${NS})|${S}{1}`;
const NEWLINE_RUNS = "[^\\n]+|[\\n]+";
const UPPER = "(?:(?=\\p{L})[^a-z])";
const LOWER = "(?:(?=\\p{L})[^A-Z])";
const TEKKEN = `[^\\r\\n\\p{L}\\p{N}]?${UPPER}*${LOWER}+|[^\\r\\n\\p{L}\\p{N}]?${UPPER}+${LOWER}*` +
  `|\\p{N}| ?[^${WS_CLASS}\\p{L}\\p{N}]+[\\r\\n/]*|${S}*[\\r\\n]+|${S}+(?!${NS})|${S}+`;
const GPT4O = `[^\\r\\n\\p{L}\\p{N}]?${UPPER}*${LOWER}+${CONTRACTIONS_CI}?` +
  `|[^\\r\\n\\p{L}\\p{N}]?${UPPER}+${LOWER}*${CONTRACTIONS_CI}?|\\p{N}{1,3}` +
  `| ?[^${WS_CLASS}\\p{L}\\p{N}]+[\\r\\n/]*|${S}*[\\r\\n]+|${S}+(?!${NS})|${S}+`;
const DEEPSEEK_LLM_LETTERS =
  "A-Za-z\\u00B5\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u01BA\\u01BC-\\u01BF" +
  "\\u01C4-\\u0293\\u0295-\\u02AF\\u0370-\\u0373\\u0376\\u0377\\u037B-\\u037D" +
  "\\u037F\\u0386\\u0388-\\u038A\\u038C\\u038E-\\u03A1\\u03A3-\\u03F5" +
  "\\u03F7-\\u0481\\u048A-\\u052F\\u0531-\\u0556\\u10A0-\\u10C5\\u13A0-\\u13F5" +
  "\\u13F8-\\u13FD\\u1C90-\\u1CBA\\u1CBD-\\u1CBF\\u1D00-\\u1D2B\\u1D6B-\\u1D77" +
  "\\u1D79-\\u1D9A\\u1E00-\\u1F15\\u1F18-\\u1F1D\\u1F20-\\u1F45\\u1F48-\\u1F4D" +
  "\\u1F50-\\u1F57\\u1F59\\u1F5B\\u1F5D\\u1F5F-\\u1F7D\\u1F80-\\u1FB4" +
  "\\u1FB6-\\u1FBC\\u1FBE\\u1FC2-\\u1FC4\\u1FC6-\\u1FCC\\u1FD0-\\u1FD3" +
  "\\u1FD6-\\u1FDB\\u1FE0-\\u1FEC\\u1FF2-\\u1FF4\\u1FF6-\\u1FFC\\u2102\\u2107" +
  "\\u210A-\\u2113\\u2115\\u2119-\\u211D\\u2124\\u2126\\u2128\\u212A-\\u212D" +
  "\\u212F-\\u2134\\u2139\\u213C-\\u213F\\u2145-\\u2149\\u214E\\u2183\\u2184" +
  "\\u2C00-\\u2C7B\\u2C7E-\\u2CE4\\u2CEB-\\u2CEE\\u2CF2\\u2CF3\\uA640-\\uA66D" +
  "\\uA680-\\uA69B\\uA722-\\uA76F\\uA771-\\uA787\\uA78B-\\uA78E\\uAB70-\\uABBF" +
  "\\uFB00-\\uFB06\\uFB13-\\uFB17\\uFF21-\\uFF3A\\uFF41-\\uFF5A" +
  "\\u{10400}-\\u{1044F}\\u{104B0}-\\u{104D3}\\u{104D8}-\\u{104FB}" +
  "\\u{10C80}-\\u{10CB2}\\u{10CC0}-\\u{10CF2}\\u{118A0}-\\u{118DF}" +
  "\\u{1E900}-\\u{1E943}";
const CJK = "[\\u4E00-\\u9FA5\\u0800-\\u4E00\\uAC00-\\uD7FF]+";
const PORO = ` ?[^(${WS_CLASS}|.,!?\\u2026\\u3002\\uFF0C\\u3001\\u0964\\u06D4\\u060C)]+`;

const PATTERNS: Record<string, string[]> = {
  default: ["[\\p{P}\\$\\+<=>\\^~\\|]+", GPT2, "\\p{N}+", "[0-9][0-9][0-9]"],
  llama3: [LLAMA3],
  "deepseek-llm": [
    "[\\r\\n]",
    `${S}?[${DEEPSEEK_LLM_LETTERS}]+`,
    `${S}?[!-/:-~\\uFF01-\\uFF0F\\uFF1A-\\uFF5E\\u2018-\\u201F\\u3000-\\u3002]+`,
    `${S}+$`,
    CJK,
    "\\p{N}+",
  ],
  "deepseek-v3": [
    "\\p{N}{1,3}",
    "[\\u4E00-\\u9FA5\\u3040-\\u309F\\u30A0-\\u30FF]+",
    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\\r\\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+" +
    `| ?[\\p{P}\\p{S}]+[\\r\\n]*|${S}*[\\r\\n]+|${S}+(?!${NS})|${S}+`,
  ],
  "deepseek-coder": ["[\\r\\n]", `${S}?\\p{L}+`, `${S}?\\p{P}+`, CJK, "\\p{N}"],
  falcon: ["[\\p{P}\\$\\+<=>\\^~\\|`]+", GPT2, "[0-9][0-9][0-9]"],
  starcoder: ["\\p{N}", GPT2],
  gpt2: [GPT2],
  qwen2: [QWEN2],
  qwen35: [QWEN35],
  poro: [PORO],
  viking: [PORO, "\\p{N}"],
  tekken: [TEKKEN],
  gpt4o: [GPT4O],
  gemma4: [NEWLINE_RUNS],
  "sarvam-moe": [NEWLINE_RUNS],
  laguna: [NEWLINE_RUNS, QWEN2],
  minicpm5: [
    "\\p{N}{1,3}",
    `${CONTRACTIONS_CI}|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}+${LLAMA3_TAIL}`,
  ],
  "seed-coder": [SEED_CODER],
  bailingmoe: [BAILINGMOE],
  jais2: [JAIS2],
  chameleon: [
    "<sentinel:[0-9]+>",
    "(?:IMGIMG)(?:[A-I]{1,4})Z",
    "[\\t\\n]|    |  ",
    "\\p{N}",
    "[\\p{P}!-/:-@\\[-`{-~]",
    GPT2,
  ],
};

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
    regexes = PATTERNS[d.type].map((p) => new RegExp(p, "gu"));
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
