/**
 * `$ref` resolution of the JSON Schema converter (llama.cpp's `resolve_refs`), limited to
 * local JSON pointers (`#/...`): remote references are a JsonSchemaError (no fetching).
 *
 * @module
 */
import { JsonSchemaError } from "./errors.ts";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Walks `schema` and returns every `$ref` mapped to the subschema it points at. */
export function resolveRefs(schema: Json): Map<string, Json> {
  const refs = new Map<string, Json>();
  const walk = (n: Json): void => {
    if (Array.isArray(n)) {
      for (const x of n) walk(x);
      return;
    }
    if (typeof n !== "object" || n === null) return;
    if (n.$ref !== undefined) {
      const ref = n.$ref;
      if (typeof ref !== "string" || !ref.startsWith("#/") && ref !== "#") {
        throw new JsonSchemaError(
          "SCHEMA_BAD_REF",
          `unsupported $ref ${JSON.stringify(ref)} (only local #/... refs)`,
          {
            keyword: "$ref",
            actual: ref,
          },
        );
      }
      if (refs.has(ref)) return;
      let target: Json = schema;
      const tokens = ref.slice(1).split("/").slice(1)
        .map((t) => t.replaceAll("~1", "/").replaceAll("~0", "~"));
      for (const sel of tokens) {
        if (
          typeof target === "object" && target !== null && !Array.isArray(target) && sel in target
        ) {
          target = target[sel];
        } else if (Array.isArray(target) && /^\d+$/.test(sel) && Number(sel) < target.length) {
          target = target[Number(sel)];
        } else {
          throw new JsonSchemaError(
            "SCHEMA_BAD_REF",
            `cannot resolve $ref ${ref}: '${sel}' not found`,
            {
              keyword: "$ref",
              actual: ref,
            },
          );
        }
      }
      refs.set(ref, target);
      return;
    }
    for (const v of Object.values(n)) walk(v);
  };
  walk(schema);
  return refs;
}
