/**
 * The regexes llama.cpp's `llm_tokenizer_bpe` applies for each pre-tokenizer type, as
 * JavaScript `u` regex sources. `\\s` is llama.cpp's whitespace set ({@linkcode WS_CLASS});
 * `\\p{Lu}`-style classes are `\\p{L}` because llama.cpp's category collapsing folds them;
 * llama.cpp's custom splitters (gpt2, llama3, qwen2, qwen35, afmoe digits, newline runs) are
 * written as the regexes they implement. tests/vocab_pre_variants_test.ts checks every type
 * against llama.cpp.
 *
 * @module
 */
import { WS_CLASS } from "./unicode.ts";

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
/** Letters and marks: llama.cpp folds \p{Lu} \p{Ll} \p{Lt} \p{Lm} \p{Lo} into \p{L}. */
const LM = "[\\p{L}\\p{M}]";
const CASED_WORDS = `[^\\r\\n\\p{L}\\p{N}]?${LM}*${LM}+${CONTRACTIONS_CI}?` +
  `|[^\\r\\n\\p{L}\\p{N}]?${LM}+${LM}*${CONTRACTIONS_CI}?`;
const CASED_TAIL = `| ?[^${WS_CLASS}\\p{L}\\p{N}]+[\\r\\n/]*|${S}*[\\r\\n]+|${S}+(?!${NS})|${S}+`;
/** Digit runs cut into groups of three from the right (llama.cpp's afmoe digit splitter). */
const DIGITS_BY_THREE = "\\p{N}{1,3}(?=(?:\\p{N}{3})*(?!\\p{N}))";
const EXAONE_MOE =
  `${CONTRACTIONS_CI}|[^\\r\\n\\p{L}\\p{N}]?(?:\\p{L}\\p{M}*(?: \\p{L}\\p{M}*)*)+` +
  `|\\p{N}| ?[^${WS_CLASS}\\p{L}\\p{N}]+[\\r\\n/]?|${S}*[\\r\\n]|${S}+(?!${NS})|${S}+`;
const UPPER_M = "(?:(?=[\\p{L}\\p{M}])[^a-z])";
const LOWER_M = "(?:(?=[\\p{L}\\p{M}])[^A-Z])";
const GRANITE_MULTI = `[^\\r\\n\\p{L}\\p{N}]?${UPPER_M}*${LOWER_M}+${CONTRACTIONS_CI}?` +
  `|[^\\r\\n\\p{L}\\p{N}]?${UPPER_M}+${LOWER_M}*${CONTRACTIONS_CI}?|\\p{N}{1,3}${CASED_TAIL}`;
const YOUTU_CJK = "[\\uAC00-\\uD7A3\\u3131-\\u318E]+|[\\uFF01\\u2026\\u201C\\u201D\\u2018\\u2019" +
  "\\u2014\\uFF1A\\uFF1B\\uFF0C\\u3001-\\u303F\\uFE30-\\uFE4F]+|[\\u3105-\\u312F]+" +
  "|[\\u4E00-\\u9FA5\\u3040-\\u309F\\u30A0-\\u30FF]+";
const DSV3_MAIN =
  "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\\r\\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+" +
  `| ?[\\p{P}\\p{S}]+[\\r\\n]*|${S}*[\\r\\n]+|${S}+(?!${NS})|${S}+`;
/** afmoe's CJK and Southeast Asian scripts, exactly llama.cpp's ranges (U+8C48, not U+F900). */
const AFMOE_SCRIPTS =
  "[\\u4E00-\\u9FFF\\u3400-\\u4DBF\\u8C48-\\uFAFF\\u3040-\\u309F\\u30A0-\\u30FF" +
  "\\uFF65-\\uFF9F\\u2F00-\\u2FDF\\u0E40-\\u0E7F\\u0E80-\\u0EFF\\u1780-\\u17FF\\u1000-\\u109F" +
  "\\uAA60-\\uAA7F\\uA9E0-\\uA9FF\\uAC00-\\uD7AF\\u1100-\\u11FF]+";
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

/** Regex sources per pre-tokenizer type, applied in order. */
export const PATTERNS: Record<string, string[]> = {
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
    DSV3_MAIN,
  ],
  superbpe: ["\\p{N}+", "(?=(\\d{3})+(?!\\d))"],
  afmoe: [DIGITS_BY_THREE, AFMOE_SCRIPTS, DSV3_MAIN],
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
  "tiny-aya": [DIGITS_BY_THREE, `${CASED_WORDS}|\\p{N}{1,3}${CASED_TAIL}`],
  youtu: [YOUTU_CJK, `${CASED_WORDS}|\\p{N}${CASED_TAIL}`],
  "exaone-moe": [EXAONE_MOE],
  "granite-multi": [GRANITE_MULTI],
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
