/**
 * The grammar's element encoding, as llama.cpp's `llama_gretype`: a rule is a sequence of
 * (type, value) pairs; alternatives are separated by ALT and the rule ends with END. A char
 * class is one CHAR/CHAR_NOT/CHAR_ANY element followed by CHAR_RNG_UPPER (range end) and
 * CHAR_ALT (more members) modifiers.
 *
 * @module
 */

// Element types (values match llama.cpp's `llama_gretype`).
/** End of a rule. */
export const END = 0;
/** Start of another alternative. */
export const ALT = 1;
/** Reference to rule `value`. */
export const RULE_REF = 2;
/** Code point `value` (or the start of a positive class). */
export const CHAR = 3;
/** Start of a negated class `[^...]`. */
export const CHAR_NOT = 4;
/** Upper bound of a range whose lower bound is the previous element. */
export const CHAR_RNG_UPPER = 5;
/** Another member of the class. */
export const CHAR_ALT = 6;
/** Any code point (`.`). */
export const CHAR_ANY = 7;
/** Token id `value` (`<[id]>`). */
export const TOKEN = 8;
/** Any token but `value` (`!<[id]>`). */
export const TOKEN_NOT = 9;

/** A parsed grammar: rule i is `rules[i]` as flat [type, value, type, value, ...]. */
export interface ParsedGrammar {
  /** Rule names by id (generated sub-rules are named like llama.cpp: `name_N`). */
  readonly names: readonly string[];
  /** Elements of each rule, flat pairs; every rule ends with END. */
  readonly rules: readonly (readonly number[])[];
}

/** Most repetitions `{m,n}` may expand to (llama.cpp's MAX_REPETITION_THRESHOLD). */
export const MAX_REPETITION = 2000;
