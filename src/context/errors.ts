/**
 * Errors of the context store, one class with a literal code per failure kind and the facts.
 *
 * @module
 */
import { type ErrorFacts, RocmForgeError } from "../core/errors.ts";

/** Every code a {@linkcode ContextError} carries. */
export type ContextErrorCode =
  | "CONTEXT_UNKNOWN_COLLECTION"
  | "CONTEXT_COLLECTION_EXISTS"
  | "CONTEXT_UNKNOWN_DOCUMENT"
  | "CONTEXT_BAD_NAME"
  | "CONTEXT_DIMENSION_MISMATCH"
  | "CONTEXT_MODEL_MISMATCH"
  | "CONTEXT_BINARY_FILE"
  | "CONTEXT_EMPTY_DOCUMENT"
  | "CONTEXT_FILE_TOO_LARGE"
  | "CONTEXT_NOT_A_FILE"
  | "CONTEXT_BAD_FILTER"
  | "CONTEXT_BAD_QUERY"
  | "CONTEXT_BAD_OPTION"
  | "CONTEXT_SCHEMA_VERSION"
  | "CONTEXT_CLOSED";

/** A context-store request that cannot be served as asked. */
export class ContextError extends RocmForgeError<ContextErrorCode> {
  constructor(code: ContextErrorCode, message: string, facts: ErrorFacts = {}) {
    super(code, message, facts);
  }
}

/** Codes that mean "no such thing" (HTTP 404); every other code is the caller's input (400). */
export const NOT_FOUND_CODES: ReadonlySet<ContextErrorCode> = new Set([
  "CONTEXT_UNKNOWN_COLLECTION",
  "CONTEXT_UNKNOWN_DOCUMENT",
]);
