/**
 * Argument checks shared by the samplers and the sampling parameters. Every failure is an
 * InvalidArgumentError whose message and facts name the offending field.
 *
 * @module
 */
import { InvalidArgumentError } from "../core/errors.ts";

function show(value: unknown): string {
  if (typeof value === "number") return String(value);
  if (typeof value === "string") return JSON.stringify(value);
  return value === null ? "null" : typeof value;
}

/** Throws an InvalidArgumentError that names `field`, what it must be, and what it was. */
export function fieldError(field: string, expected: string, actual: unknown): never {
  throw new InvalidArgumentError(`${field} must be ${expected}, got ${show(actual)}`, {
    field,
    expected,
    actual,
  });
}

/** A number that is not NaN (±Infinity allowed). */
export function requireNumber(field: string, value: unknown): number {
  if (typeof value !== "number" || Number.isNaN(value)) fieldError(field, "a number", value);
  return value;
}

/** A finite number. */
export function requireFinite(field: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    fieldError(field, "a finite number", value);
  }
  return value;
}

/** A finite number in [lo, hi]. */
export function requireInRange(field: string, value: unknown, lo: number, hi: number): number {
  const v = requireFinite(field, value);
  if (v < lo || v > hi) fieldError(field, `in [${lo}, ${hi}]`, value);
  return v;
}

/** A finite number >= min. */
export function requireAtLeast(field: string, value: unknown, min: number): number {
  const v = requireFinite(field, value);
  if (v < min) fieldError(field, `>= ${min}`, value);
  return v;
}

/** A finite number > 0. */
export function requirePositive(field: string, value: unknown): number {
  const v = requireFinite(field, value);
  if (v <= 0) fieldError(field, "> 0", value);
  return v;
}

/** An integer in [min, max]. */
export function requireInteger(
  field: string,
  value: unknown,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    fieldError(
      field,
      max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : "an integer",
      value,
    );
  }
  if (value < min || value > max) {
    fieldError(
      field,
      max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer in [${min}, ${max}]`,
      value,
    );
  }
  return value;
}

/** The error a selecting sampler throws when nothing can be chosen. */
export function nothingToSample(sampler: string, size: number): never {
  const why = size === 0 ? "the candidate set is empty" : "every candidate has logit -Infinity";
  throw new InvalidArgumentError(`${sampler}: cannot select a token: ${why}`, {
    field: "candidates",
    expected: "at least one candidate with a finite or +Infinity logit",
    actual: size,
  });
}
