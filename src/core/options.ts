/**
 * Strict option objects for the public API. Every options object (generate, sampling,
 * session, loadModel) has a zod `strictObject` schema; `parseOptions` checks a value at call
 * time and turns the first problem into an InvalidArgumentError. An unknown key names itself
 * and the closest valid key (by edit distance), so `{ temprature: 2 }` says "did you mean
 * temperature?" instead of running with defaults.
 *
 * @module
 */
import { z } from "../deps/zod.ts";
import { InvalidArgumentError } from "./errors.ts";

/** Edit distance (Levenshtein, with adjacent transpositions costing 1), case-insensitive. */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase(), t = b.toLowerCase();
  const rows: number[][] = [];
  for (let i = 0; i <= s.length; i++) {
    rows.push(new Array<number>(t.length + 1).fill(0));
    rows[i][0] = i;
  }
  for (let j = 0; j <= t.length; j++) rows[0][j] = j;
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) {
        d = Math.min(d, rows[i - 2][j - 2] + 1);
      }
      rows[i][j] = d;
    }
  }
  return rows[s.length][t.length];
}

/** The candidate closest to `key` (ties: the first), or undefined when there is none. */
export function closestName(key: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(key, c);
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best;
}

/** The keys an object schema accepts at `path` inside `schema` (optional wrappers skipped). */
function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let s: unknown = schema;
  const unwrap = () => {
    while (s instanceof z.ZodOptional || s instanceof z.ZodNullable) s = s.unwrap();
  };
  unwrap();
  for (const p of path) {
    if (!(s instanceof z.ZodObject)) return [];
    s = (s.shape as Record<string, unknown>)[String(p)];
    unwrap();
  }
  return s instanceof z.ZodObject ? Object.keys(s.shape) : [];
}

const joinPath = (prefix: string, path: readonly PropertyKey[]) =>
  [prefix, ...path.map(String)].filter((x) => x !== "").join(".");

/**
 * Parses `value` with a strict schema; `what` names the options in messages (e.g.
 * "generate options"). Returns the parsed value (the same fields; zod drops nothing, since
 * unknown keys are errors).
 */
export function parseOptions<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what: string,
  prefix = "",
): z.output<S> {
  if (value === undefined) value = {};
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new InvalidArgumentError(`${what} must be an object`, {
      expected: "object",
      actual: value === null ? "null" : Array.isArray(value) ? "array" : typeof value,
    });
  }
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  // An unknown key is the likeliest cause of the other issues (a misspelled required key).
  const issue = r.error.issues.find((i) => i.code === "unrecognized_keys") ?? r.error.issues[0];
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0];
    const valid = keysAt(schema, issue.path);
    const near = closestName(key, valid);
    const field = joinPath(prefix, [...issue.path, key]);
    throw new InvalidArgumentError(
      `unknown ${what} key ${field}${near === undefined ? "" : ` (did you mean ${near}?)`}`,
      { field, actual: key, expected: near, valid },
    );
  }
  const field = joinPath(prefix, issue.path) || "(options)";
  throw new InvalidArgumentError(`${what}: ${field}: ${issue.message}`, {
    field,
    expected: issue.code,
    actual: issue.path.reduce<unknown>(
      (o, k) => (o !== null && typeof o === "object" ? (o as Record<PropertyKey, unknown>)[k] : o),
      value,
    ),
  });
}

/** Schema pieces shared by the option schemas. */
export const opt = {
  int: (min: number, max = Number.MAX_SAFE_INTEGER) =>
    z.number().int().min(min).max(max).optional(),
  bool: () => z.boolean().optional(),
  fn: (what: string) =>
    z.custom<(...a: never[]) => unknown>((v) => typeof v === "function", {
      message: `${what} must be a function`,
    }).optional(),
  signal: () =>
    z.custom<AbortSignal>((v) => v instanceof AbortSignal, {
      message: "signal must be an AbortSignal",
    }).optional(),
};
