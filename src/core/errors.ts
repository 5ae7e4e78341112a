/**
 * Typed errors. Every failure kind has its own class with a literal `code` and the facts
 * that explain it (expected, actual, offset, bytes). Callers branch on `code`, never on
 * message text.
 *
 * @module
 */

/** Facts attached to an error; all optional, all plain data. */
export interface ErrorFacts {
  expected?: unknown;
  actual?: unknown;
  offset?: number;
  bytes?: number;
  [key: string]: unknown;
}

/** Base class of every ROCmForge error. */
export class RocmForgeError<C extends string = string> extends Error {
  readonly code: C;
  readonly facts: ErrorFacts;
  constructor(code: C, message: string, facts: ErrorFacts = {}, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.facts = facts;
    this.name = new.target.name;
  }
}

/** Malformed or unsupported GGUF bytes. */
export class GGUFError extends RocmForgeError<
  | "GGUF_BAD_MAGIC"
  | "GGUF_BAD_VERSION"
  | "GGUF_TRUNCATED"
  | "GGUF_BAD_VALUE"
  | "GGUF_BAD_TENSOR"
  | "GGUF_LIMIT"
> {}

/** A tensor type with no (de)quantizer, or a type id that ggml does not define. */
export class UnsupportedTypeError extends RocmForgeError<"UNSUPPORTED_TYPE"> {
  constructor(message: string, facts: ErrorFacts = {}) {
    super("UNSUPPORTED_TYPE", message, facts);
  }
}

/** Metadata that does not describe a model this project can run. */
export class ModelConfigError extends RocmForgeError<
  | "UNSUPPORTED_ARCHITECTURE"
  | "MISSING_METADATA"
  | "BAD_METADATA"
  | "MISSING_TENSOR"
  | "BAD_TENSOR_SHAPE"
> {}

/** A model, KV cache or scratch buffer that will not fit in the memory available. */
export class OutOfMemoryError extends RocmForgeError<"OUT_OF_MEMORY"> {
  constructor(message: string, facts: ErrorFacts = {}) {
    super("OUT_OF_MEMORY", message, facts);
  }
}

/** A session asked to hold more tokens than its context. */
export class ContextOverflowError extends RocmForgeError<"CONTEXT_OVERFLOW"> {
  constructor(message: string, facts: ErrorFacts = {}) {
    super("CONTEXT_OVERFLOW", message, facts);
  }
}

/** A plugin that fails validation or has an unsupported apiVersion. */
export class PluginError extends RocmForgeError<
  "PLUGIN_INVALID" | "PLUGIN_API_VERSION" | "PLUGIN_DUPLICATE" | "PLUGIN_NOT_FOUND"
> {}

/** A backend that cannot run: missing library, no device, failed call. */
export class BackendError extends RocmForgeError<
  "BACKEND_UNAVAILABLE" | "BACKEND_UNSUPPORTED_OP" | "BACKEND_CALL_FAILED" | "BACKEND_DISPOSED"
> {}

/** Tokenizer metadata that cannot be used, or input it cannot encode. */
export class TokenizerError extends RocmForgeError<
  "TOKENIZER_UNSUPPORTED" | "TOKENIZER_BAD_METADATA" | "TOKENIZER_BAD_TOKEN"
> {}

/** Invalid argument to a public API (out-of-range option, wrong type). */
export class InvalidArgumentError extends RocmForgeError<"INVALID_ARGUMENT"> {
  constructor(message: string, facts: ErrorFacts = {}) {
    super("INVALID_ARGUMENT", message, facts);
  }
}

/** An operation stopped by an AbortSignal. */
export class AbortError extends RocmForgeError<"ABORTED"> {
  constructor(message = "operation aborted") {
    super("ABORTED", message);
  }
}

/** A session, model or backend used after dispose(). */
export class DisposedError extends RocmForgeError<"DISPOSED"> {
  constructor(message: string, facts: ErrorFacts = {}) {
    super("DISPOSED", message, facts);
  }
}

/**
 * A model file that cannot be used or fetched: missing, a folder, unreadable, too small or
 * not GGUF; a download that failed, was cut short or has the wrong size or hash; a model
 * URI the resolver does not understand.
 */
export class ModelFileError extends RocmForgeError<
  | "MODEL_FILE_NOT_FOUND"
  | "MODEL_FILE_IS_DIRECTORY"
  | "MODEL_FILE_PERMISSION"
  | "MODEL_FILE_TOO_SMALL"
  | "MODEL_FILE_NOT_GGUF"
  | "MODEL_URI_INVALID"
  | "MODEL_DOWNLOAD_FAILED"
  | "MODEL_SIZE_MISMATCH"
  | "MODEL_CHECKSUM_MISMATCH"
> {}
