/**
 * Builds a {@linkcode Tokenizer} from GGUF metadata (`tokenizer.ggml.*`):
 *
 * | `tokenizer.ggml.model` | algorithm |
 * |---|---|
 * | `llama` | SentencePiece BPE by token score, `<0xXX>` byte fallback (llama.cpp SPM) |
 * | `gpt2`  | byte-level BPE by merge rank, pre-tokenizer from `tokenizer.ggml.pre` |
 * | `gemma4` | BPE over raw code points, spaces as "▁", `<0xXX>` byte fallback |
 * | `bert`  | WordPiece (llama.cpp WPM) |
 * | `t5`    | unigram with the precompiled charsmap (llama.cpp UGM) |
 *
 * Other models (rwkv, plamo2, ...) and unknown pre-tokenizers throw TokenizerError
 * `TOKENIZER_UNSUPPORTED`; missing or malformed tokens, scores, token types or merges throw
 * `TOKENIZER_BAD_METADATA`.
 *
 * @example
 * ```ts
 * const tok = tokenizerFromMetadata(plainMetadata(openGGUF("model.gguf")));
 * const ids = tok.encode("Hello", { addSpecial: true });
 * ```
 *
 * @module
 */
import type { MetaValue } from "../gguf/gguf_file.ts";
import { GgufTokenizer } from "./tokenizer.ts";
import type { Tokenizer } from "./types.ts";
import { loadVocab } from "./vocab.ts";

export { TOKENIZER_API_VERSION } from "./types.ts";
export type {
  DecodeOptions,
  EncodeOptions,
  StreamDecoder,
  StreamDecoderOptions,
  Tokenizer,
} from "./types.ts";

/** Builds the tokenizer described by a model's metadata. Throws TokenizerError. */
export function tokenizerFromMetadata(md: ReadonlyMap<string, MetaValue>): Tokenizer {
  return new GgufTokenizer(loadVocab(md));
}
