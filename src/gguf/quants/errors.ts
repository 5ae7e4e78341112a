/**
 * The typed error of the (de)quantizers: input or output buffers of the wrong size, and
 * models a quantization mixture is not reproduced for.
 * Unknown or unsupported tensor types use UnsupportedTypeError from core/errors.ts.
 *
 * @module
 */
import { type ErrorFacts, RocmForgeError } from "../../core/errors.ts";

/** Codes of QuantError. */
export type QuantErrorCode =
  /** The source holds fewer bytes than the blocks to decode need. */
  | "QUANT_INPUT_TOO_SHORT"
  /** The destination cannot hold the decoded or encoded values. */
  | "QUANT_OUTPUT_TOO_SHORT"
  /** An element count that is negative, not an integer, or not a whole number of blocks. */
  | "QUANT_BAD_LENGTH"
  /** A model a quantization mixture's rules are not reproduced for (see mixture.ts). */
  | "QUANT_MIXTURE_UNSUPPORTED";

/** A buffer size or element count that does not fit the tensor type's block layout. */
export class QuantError extends RocmForgeError<QuantErrorCode> {
  constructor(code: QuantErrorCode, message: string, facts: ErrorFacts = {}) {
    super(code, message, facts);
  }
}
