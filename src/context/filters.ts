/**
 * Metadata filters as SQL: every `key = value` must hold on the document's metadata JSON
 * (`json_extract`; booleans compare as 1/0, as SQLite's JSON functions return them).
 * Parsing the CLI's `key=value` form lives here too.
 *
 * @module
 */
import type { SqlValue } from "../runtime/sqlite.ts";
import { ContextError } from "./errors.ts";
import type { MetadataFilter } from "./types.ts";

const KEY = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** SQL condition (over documents aliased `d`) and its parameters; "1" when empty. */
export function filterSql(filter: MetadataFilter | undefined): { sql: string; params: SqlValue[] } {
  const parts: string[] = [];
  const params: SqlValue[] = [];
  for (const [key, value] of Object.entries(filter ?? {})) {
    if (!KEY.test(key)) {
      throw new ContextError("CONTEXT_BAD_FILTER", `filter key "${key}" is not a plain name`, {
        actual: key,
      });
    }
    const t = typeof value;
    if (t !== "string" && t !== "number" && t !== "boolean") {
      throw new ContextError(
        "CONTEXT_BAD_FILTER",
        `filter ${key} must be a string, number or boolean`,
        {
          param: key,
          actual: value,
        },
      );
    }
    if (t === "number" && !Number.isFinite(value)) {
      throw new ContextError("CONTEXT_BAD_FILTER", `filter ${key} is not finite`, {
        actual: value,
      });
    }
    parts.push(`json_extract(d.metadata, ?) = ?`);
    params.push(`$."${key}"`, typeof value === "boolean" ? (value ? 1 : 0) : value);
  }
  return { sql: parts.length ? parts.join(" AND ") : "1", params };
}

/** Parses CLI filters `key=value` (true/false and numbers become JSON booleans/numbers). */
export function parseFilters(items: readonly string[]): MetadataFilter {
  const out: Record<string, string | number | boolean> = {};
  for (const item of items) {
    const eq = item.indexOf("=");
    if (eq <= 0) {
      throw new ContextError("CONTEXT_BAD_FILTER", `filter "${item}" is not key=value`, {
        actual: item,
      });
    }
    const key = item.slice(0, eq);
    const raw = item.slice(eq + 1);
    out[key] = raw === "true"
      ? true
      : raw === "false"
      ? false
      : /^-?\d+(\.\d+)?$/.test(raw)
      ? Number(raw)
      : raw;
  }
  filterSql(out);
  return out;
}
