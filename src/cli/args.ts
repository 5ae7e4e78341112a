/**
 * A small command-line flag parser: `--flag value`, `--flag=value`, `-f value`, `-f=value`,
 * boolean flags (`--flag`, `--flag=false`, `--no-flag`), repeated flags collected into arrays
 * (`multiple: true`), other spellings of a flag (`aliases: ["-ngl", "--n-gpu-layers"]`, e.g.
 * llama.cpp's), and `--` ending the flags. Anything it cannot accept is a UsageError
 * (code "USAGE"), which the CLI reports with exit status 2.
 *
 * @module
 */
import { type ErrorFacts, RocmForgeError } from "../core/errors.ts";

/** A command line the CLI cannot accept (unknown command or flag, bad flag value). */
export class UsageError extends RocmForgeError<"USAGE"> {
  constructor(message: string, facts: ErrorFacts = {}) {
    super("USAGE", message, facts);
  }
}

/** One flag's definition. */
export interface FlagSpec {
  readonly type: "string" | "number" | "integer" | "boolean";
  /** One-letter alias used as `-x`. */
  readonly short?: string;
  /** Other spellings, with their dashes: `-ngl`, `--n-gpu-layers`. */
  readonly aliases?: readonly string[];
  /** Collect every occurrence into an array (otherwise the last one wins). */
  readonly multiple?: boolean;
  /** Value when the flag is absent. */
  readonly default?: string | number | boolean;
  /** One line of help. */
  readonly description?: string;
  /** Placeholder in help, e.g. "N" for `--ctx N`. */
  readonly valueName?: string;
}

/** Flag definitions by long name (without the leading dashes). */
export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

type Scalar<F extends FlagSpec> = F["type"] extends "boolean" ? boolean
  : F["type"] extends "string" ? string
  : number;

/** The parsed value type of one flag. */
export type FlagValue<F extends FlagSpec> = F["multiple"] extends true ? Scalar<F>[]
  : F["type"] extends "boolean" ? boolean
  : F extends { readonly default: string | number | boolean } ? Scalar<F>
  : Scalar<F> | undefined;

/** Parsed flags, typed from their specs. */
export type Flags<S extends FlagSpecs> = { -readonly [K in keyof S]: FlagValue<S[K]> };

/** The result of `parseArgs`. */
export interface ParsedArgs<S extends FlagSpecs> {
  flags: Flags<S>;
  positionals: string[];
}

function convert(name: string, spec: FlagSpec, raw: string): string | number | boolean {
  switch (spec.type) {
    case "string":
      return raw;
    case "boolean":
      if (raw === "true" || raw === "1") return true;
      if (raw === "false" || raw === "0") return false;
      throw new UsageError(`--${name} takes true or false, not "${raw}"`, { actual: raw });
    default: {
      const n = raw.trim() === "" ? NaN : Number(raw);
      if (!Number.isFinite(n) || (spec.type === "integer" && !Number.isSafeInteger(n))) {
        throw new UsageError(
          `--${name} needs ${spec.type === "integer" ? "an integer" : "a number"}, not "${raw}"`,
          {
            actual: raw,
          },
        );
      }
      return n;
    }
  }
}

/** Parses `argv` against `specs`; throws UsageError for unknown flags or bad values. */
export function parseArgs<S extends FlagSpecs>(argv: readonly string[], specs: S): ParsedArgs<S> {
  const byShort = new Map<string, string>();
  const byLong = new Map<string, string>();
  for (const [name, s] of Object.entries(specs)) {
    if (s.short) byShort.set(s.short, name);
    for (const a of s.aliases ?? []) {
      if (a.startsWith("--")) byLong.set(a.slice(2), name);
      else byShort.set(a.slice(1), name);
    }
  }
  const values: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(specs)) {
    values[name] = s.multiple ? [] : s.default ?? (s.type === "boolean" ? false : undefined);
  }
  const positionals: string[] = [];
  const store = (name: string, v: string | number | boolean) => {
    if (specs[name].multiple) (values[name] as unknown[]).push(v);
    else values[name] = v;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    const long = arg.startsWith("--");
    const eq = arg.indexOf("=");
    const key = arg.slice(long ? 2 : 1, eq < 0 ? undefined : eq);
    const inline = eq < 0 ? undefined : arg.slice(eq + 1);
    let name = long ? (Object.hasOwn(specs, key) ? key : byLong.get(key) ?? key) : byShort.get(key);
    let negated = false;
    if (long && name !== undefined && !Object.hasOwn(specs, name) && name.startsWith("no-")) {
      const base = name.slice(3);
      if (Object.hasOwn(specs, base) && specs[base].type === "boolean" && inline === undefined) {
        name = base;
        negated = true;
      }
    }
    if (name === undefined || !Object.hasOwn(specs, name)) {
      throw new UsageError(
        `unknown flag ${long ? arg.slice(0, eq < 0 ? undefined : eq) : `-${key}`}`,
        {
          actual: arg,
        },
      );
    }
    const spec = specs[name];
    if (spec.type === "boolean") {
      store(name, negated ? false : inline === undefined ? true : convert(name, spec, inline));
      continue;
    }
    let raw = inline;
    if (raw === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`--${name} needs a value`, { actual: arg });
      raw = argv[++i];
    }
    store(name, convert(name, spec, raw));
  }
  return { flags: values as Flags<S>, positionals };
}

/** Help lines for flag specs, e.g. `  -c, --ctx N   context length`. */
export function formatFlags(specs: FlagSpecs): string {
  const rows = Object.entries(specs).map(([name, s]) => {
    const value = s.type === "boolean" ? "" : ` ${s.valueName ?? s.type.toUpperCase()}`;
    const more = (s.aliases ?? []).map((a) => `, ${a}`).join("");
    const left = `${s.short ? `-${s.short}, ` : "    "}--${name}${more}${value}`;
    const def = s.default !== undefined && s.type !== "boolean" ? ` (default ${s.default})` : "";
    return [left, `${s.description ?? ""}${def}${s.multiple ? " (repeatable)" : ""}`];
  });
  const width = Math.max(0, ...rows.map(([l]) => l.length));
  return rows.map(([l, r]) => `  ${l.padEnd(width)}  ${r}`.trimEnd()).join("\n");
}
