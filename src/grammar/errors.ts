/**
 * Typed errors of the grammar engine and the JSON Schema converter.
 *
 * @module
 */
import { RocmForgeError } from "../core/errors.ts";

/** A GBNF text that does not parse or compile, or input a grammar cannot accept. */
export class GrammarError extends RocmForgeError<
  | "GRAMMAR_SYNTAX"
  | "GRAMMAR_UNDEFINED_RULE"
  | "GRAMMAR_NO_ROOT"
  | "GRAMMAR_LEFT_RECURSION"
  | "GRAMMAR_LIMIT"
  | "GRAMMAR_UNSUPPORTED"
  | "GRAMMAR_REJECTED"
  | "GRAMMAR_NO_VALID_TOKEN"
  | "GRAMMAR_INCOMPLETE"
> {}

/** A JSON Schema the converter cannot turn into a grammar. */
export class JsonSchemaError extends RocmForgeError<
  "SCHEMA_INVALID" | "SCHEMA_UNSUPPORTED" | "SCHEMA_BAD_REF"
> {}
