/**
 * The tokenizer contract (plugin API version 1): encoding text to token ids, decoding ids
 * back to text, a streaming decoder that never splits a UTF-8 character, and the special
 * token ids the engine needs (BOS, EOS, end-of-generation).
 *
 * @module
 */

/** Version of the {@linkcode Tokenizer} interface; plugins declare it as `apiVersion`. */
export const TOKENIZER_API_VERSION = 1;

/** Options of {@linkcode Tokenizer.encode}. */
export interface EncodeOptions {
  /**
   * Add the model's BOS (and EOS / SEP) tokens as its metadata says (llama.cpp's
   * `add_special`). Default false.
   */
  addSpecial?: boolean;
  /**
   * Recognise the text of control tokens (token type 3, e.g. `<s>`, `<|im_start|>`) and
   * unknown-type tokens in the input and emit their ids (llama.cpp's `parse_special`).
   * User-defined tokens (type 4) are always recognised, as in llama.cpp and Hugging Face
   * tokenizers. Default false.
   */
  parseSpecial?: boolean;
}

/** Options of {@linkcode Tokenizer.decode}. */
export interface DecodeOptions {
  /**
   * Drop control and unknown-type tokens (llama.cpp's `unparse_special = false`) and a
   * leading BOS / trailing EOS that the tokenizer adds itself (`remove_special`).
   * Default false: special tokens render as their text.
   */
  skipSpecial?: boolean;
  /**
   * Keep the space that SPM puts before the first word (`add_space_prefix`). Default false:
   * like llama.cpp's `llama_detokenize`, the first token's leading space is removed, so
   * `decode(encode(s)) === s`.
   */
  keepLeadingSpace?: boolean;
  /**
   * Apply llama.cpp's `clean_spaces` passes (" ," → ",", " 's" → "'s", ...) for tokenizers
   * whose metadata enables them (most byte-level BPE ones). Lossy; default false.
   */
  cleanSpaces?: boolean;
}

/** Options of {@linkcode Tokenizer.createStreamDecoder}. */
export interface StreamDecoderOptions {
  /** Control and unknown-type tokens produce no text. Default false. */
  skipSpecial?: boolean;
}

/**
 * Incremental detokenizer for generated tokens. Never emits a broken UTF-8 character:
 * bytes of an incomplete character are held until the character is complete. Pieces are
 * not left-stripped, so the text of a continuation keeps its leading space.
 */
export interface StreamDecoder {
  /** Adds one token and returns the text that became complete. */
  push(token: number): string;
  /** Ends the stream; held bytes of an incomplete character become U+FFFD. */
  flush(): string;
}

/** A tokenizer built from model metadata. All ids are vocabulary indices. */
export interface Tokenizer {
  readonly apiVersion: 1;
  /** Tokenizer kind and pre-tokenizer, e.g. "spm", "bpe:llama-bpe", "wpm". */
  readonly name: string;
  readonly vocabSize: number;
  readonly bos: number | undefined;
  readonly eos: number | undefined;
  readonly eot: number | undefined;
  readonly unk: number | undefined;
  readonly pad: number | undefined;
  /** Whether `encode(..., {addSpecial: true})` prepends BOS. */
  readonly addBos: boolean;
  /** Whether `encode(..., {addSpecial: true})` appends EOS. */
  readonly addEos: boolean;
  encode(text: string, opts?: EncodeOptions): number[];
  decode(tokens: readonly number[], opts?: DecodeOptions): string;
  /** The bytes a token contributes to text (special tokens: their text). */
  tokenBytes(id: number): Uint8Array;
  /** The raw vocabulary string of a token. */
  tokenText(id: number): string;
  /** True for control and unknown-type tokens: those `skipSpecial` drops. */
  isSpecial(id: number): boolean;
  /** True for EOS, EOT and the other end-of-generation tokens llama.cpp detects. */
  isEog(id: number): boolean;
  createStreamDecoder(opts?: StreamDecoderOptions): StreamDecoder;
}
