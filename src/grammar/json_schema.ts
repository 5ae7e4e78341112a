/**
 * JSON Schema → GBNF, a port of llama.cpp's common/json-schema-to-grammar.cpp producing the
 * same grammar text (rules sorted by name). Covers types (and type arrays), properties,
 * required, additionalProperties, enum, const, items/prefixItems/minItems/maxItems,
 * minLength/maxLength, pattern, format (date, time, date-time, uuid), integer bounds,
 * anyOf/oneOf/allOf and local `$ref` (`#/$defs/...`, `#/definitions/...`).
 *
 * Unlike llama.cpp, by default (`strict`) nothing is silently dropped: a keyword the
 * converter would ignore, or a pattern it cannot express, is a JsonSchemaError
 * (SCHEMA_UNSUPPORTED) whose `facts.keyword` names it. `strict: false` gives llama.cpp's
 * behaviour (ignore; unsupported patterns accept any string).
 *
 * @module
 */
import { JsonSchemaError } from "./errors.ts";
import { createGrammar, type Grammar } from "./grammar.ts";
import { buildObjectRule, type ObjectBuilder } from "./json_schema_object.ts";
import { InvalidPattern, patternToRule, UnsupportedPattern } from "./json_schema_pattern.ts";
import { resolveRefs } from "./json_schema_refs.ts";
import {
  buildMinMaxInt,
  buildRepetition,
  type BuiltinRule,
  formatLiteral,
  isReservedName,
  NO_MAX,
  PRIMITIVE_RULES,
  SPACE_RULE,
  STRING_FORMAT_RULES,
} from "./json_schema_rules.ts";

/** Options of {@link jsonSchemaToGbnf}. */
export interface JsonSchemaOptions {
  /** Reject keywords/patterns the grammar cannot enforce (default true). */
  strict?: boolean;
  /** `.` in patterns matches newlines too (default false). */
  dotall?: boolean;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

/** Keywords that only annotate; never an error. */
const ANNOTATIONS = new Set([
  "description",
  "title",
  "$schema",
  "$id",
  "$comment",
  "default",
  "examples",
  "deprecated",
  "readOnly",
  "writeOnly",
  "$defs",
  "definitions",
  "strict",
]);

function isObj(x: unknown): x is Obj {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function dump(v: Json | undefined): string {
  return JSON.stringify(v) ?? "undefined";
}

class Converter implements ObjectBuilder {
  readonly rules = new Map<string, string>([["space", SPACE_RULE]]);
  refs = new Map<string, Json>();
  readonly #resolving = new Set<string>();

  constructor(readonly strict: boolean, readonly dotall: boolean) {}

  addRule(name: string, rule: string): string {
    const esc = name.replace(/[^a-zA-Z0-9-]+/g, "-");
    if (!this.rules.has(esc) || this.rules.get(esc) === rule) {
      this.rules.set(esc, rule);
      return esc;
    }
    let i = 0;
    while (this.rules.has(esc + i) && this.rules.get(esc + i) !== rule) i++;
    this.rules.set(esc + i, rule);
    return esc + i;
  }

  addPrimitive(name: string, rule: BuiltinRule): string {
    const n = this.addRule(name, rule.content);
    for (const dep of rule.deps) {
      const r = PRIMITIVE_RULES[dep] ?? STRING_FORMAT_RULES[dep];
      if (!this.rules.has(dep)) this.addPrimitive(dep, r);
    }
    return n;
  }

  unsupported(keyword: string, schema: Obj, why = "is not supported here"): never {
    throw new JsonSchemaError("SCHEMA_UNSUPPORTED", `JSON Schema keyword '${keyword}' ${why}`, {
      keyword,
      actual: schema[keyword],
    });
  }

  /**
   * In strict mode, every key of `schema` must be in `used` or an annotation. With `sink`
   * (one member of a type array) the unused keys are collected instead.
   */
  checkUsed(schema: Obj, used: readonly string[], sink?: Set<string>): void {
    if (!this.strict) return;
    for (const k of Object.keys(schema)) {
      if (!used.includes(k) && !ANNOTATIONS.has(k)) {
        if (sink) {
          sink.add(k);
          continue;
        }
        this.unsupported(k, schema, "is not supported in this combination");
      }
    }
  }

  resolveRef(ref: string): string {
    const hash = ref.indexOf("#");
    const frag = hash >= 0 ? ref.slice(hash + 1) : ref;
    let name = "ref" + frag.replace(/[^a-zA-Z0-9-]+/g, "-");
    if (!this.rules.has(name) && !this.#resolving.has(ref)) {
      this.#resolving.add(ref);
      name = this.visit(this.refs.get(ref) ?? null, name);
      this.#resolving.delete(ref);
    }
    return name;
  }

  union(name: string, alts: readonly Json[]): string {
    return alts.map((a, i) => this.visit(a, name + (name === "" ? "alternative-" : "-") + i))
      .join(" | ");
  }

  visit(schema: Json, name: string, sink?: Set<string>): string {
    if (!isObj(schema)) {
      throw new JsonSchemaError("SCHEMA_INVALID", `unrecognized schema: ${dump(schema)}`, {
        actual: schema,
      });
    }
    const type = schema.type;
    const fmt = schema.format;
    if (fmt !== undefined && typeof fmt !== "string") {
      this.unsupported("format", schema, "must be a string");
    }
    const format = fmt ?? "";
    const ruleName = isReservedName(name) ? name + "-" : name === "" ? "root" : name;
    const untyped = type === undefined || type === null;
    const has = (k: string) => schema[k] !== undefined;
    const used = (...keys: string[]) => this.checkUsed(schema, keys, sink);

    if (has("$ref")) {
      used("$ref");
      return this.addRule(ruleName, this.resolveRef(String(schema.$ref)));
    }
    if (has("oneOf") || has("anyOf")) {
      const key = has("oneOf") ? "oneOf" : "anyOf";
      const alts = schema[key];
      if (!Array.isArray(alts)) this.unsupported(key, schema, "must be an array");
      used(key, "type"); // a sibling type is left to the alternatives, as in llama.cpp
      return this.addRule(ruleName, this.union(name, alts));
    }
    if (Array.isArray(type)) {
      // A keyword is fine when at least one member type uses it.
      const unused = type.map(() => new Set<string>());
      const rule = type.map((t, i) =>
        this.visit(
          { ...schema, type: t },
          name + (name === "" ? "alternative-" : "-") + i,
          unused[i],
        )
      ).join(" | ");
      for (const k of unused[0] ?? []) {
        if (unused.every((u) => u.has(k))) {
          this.unsupported(k, schema, "is not used by any of its types");
        }
      }
      return this.addRule(ruleName, rule);
    }
    if (has("const")) {
      used("const", "type");
      return this.addRule(ruleName, formatLiteral(dump(schema.const)));
    }
    if (has("enum")) {
      const values = schema.enum;
      if (!Array.isArray(values)) this.unsupported("enum", schema, "must be an array");
      used("enum", "type");
      return this.addRule(
        ruleName,
        "(" + values.map((v) => formatLiteral(dump(v))).join(" | ") + ")",
      );
    }
    if (
      (untyped || type === "object") &&
      (has("properties") || (has("additionalProperties") && schema.additionalProperties !== true))
    ) {
      used("type", "properties", "required", "additionalProperties");
      const required = new Set(
        Array.isArray(schema.required) ? schema.required.filter((x) => typeof x === "string") : [],
      );
      const props = isObj(schema.properties) ? Object.entries(schema.properties) : [];
      return this.addRule(
        ruleName,
        buildObjectRule(this, props, required, name, schema.additionalProperties ?? null),
      );
    }
    if ((untyped || type === "object" || type === "string") && has("allOf")) {
      used("type", "allOf");
      return this.addRule(ruleName, this.allOf(schema, name));
    }
    if ((untyped || type === "array") && (has("items") || has("prefixItems"))) {
      const items = has("items") ? schema.items : schema.prefixItems;
      const prefix = name + (name === "" ? "" : "-");
      if (Array.isArray(items)) {
        used("type", has("items") ? "items" : "prefixItems");
        const parts = items.map((it, i) => this.visit(it, `${prefix}tuple-${i}`));
        return this.addRule(ruleName, `"[" space ${parts.join(' "," space ')} space "]"`);
      }
      used("type", has("items") ? "items" : "prefixItems", "minItems", "maxItems");
      const item = this.visit(items ?? null, `${prefix}item`);
      const min = this.count(schema, "minItems", 0);
      const max = this.count(schema, "maxItems", NO_MAX);
      return this.addRule(
        ruleName,
        `"[" space ${buildRepetition(item, min, max, '"," space')} space "]"`,
      );
    }
    if ((untyped || type === "string") && has("pattern")) {
      used("type", "pattern");
      return this.pattern(schema, ruleName);
    }
    if ((untyped || type === "string") && /^uuid[1-5]?$/.test(format)) {
      used("type", "format");
      return this.addPrimitive(ruleName === "root" ? "root" : format, PRIMITIVE_RULES.uuid);
    }
    if ((untyped || type === "string") && STRING_FORMAT_RULES[format + "-string"]) {
      used("type", "format");
      const prim = format + "-string";
      return this.addRule(ruleName, this.addPrimitive(prim, STRING_FORMAT_RULES[prim]));
    }
    if (type === "string" && (has("minLength") || has("maxLength"))) {
      used("type", "minLength", "maxLength");
      const char = this.addPrimitive("char", PRIMITIVE_RULES.char);
      const min = this.count(schema, "minLength", 0), max = this.count(schema, "maxLength", NO_MAX);
      return this.addRule(ruleName, `"\\"" ${buildRepetition(char, min, max)} "\\""`);
    }
    const bounds = ["minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"];
    if (type === "integer" && bounds.some(has)) {
      used("type", ...bounds);
      const int = (k: string) => {
        const v = schema[k];
        if (typeof v !== "number" || !Number.isSafeInteger(v)) {
          this.unsupported(k, schema, "must be a safe integer for an integer schema");
        }
        return v;
      };
      let min: number | null = null, max: number | null = null;
      if (has("minimum")) min = int("minimum");
      else if (has("exclusiveMinimum")) min = int("exclusiveMinimum") + 1;
      if (has("maximum")) max = int("maximum");
      else if (has("exclusiveMaximum")) max = int("exclusiveMaximum") - 1;
      const out: string[] = ["("];
      buildMinMaxInt(min, max, out);
      out.push(")");
      return this.addRule(ruleName, out.join(""));
    }
    if (Object.keys(schema).length === 0 || type === "object") {
      used("type", "additionalProperties");
      return this.addRule(ruleName, this.addPrimitive("object", PRIMITIVE_RULES.object));
    }
    if (untyped) {
      used();
      return this.addRule(ruleName, this.addPrimitive("value", PRIMITIVE_RULES.value));
    }
    if (typeof type !== "string" || !PRIMITIVE_RULES[type]) {
      throw new JsonSchemaError("SCHEMA_INVALID", `unrecognized schema: ${dump(schema)}`, {
        keyword: "type",
        actual: type,
      });
    }
    used("type");
    return this.addPrimitive(ruleName === "root" ? "root" : type, PRIMITIVE_RULES[type]);
  }

  count(schema: Obj, key: string, dflt: number): number {
    const v = schema[key];
    if (v === undefined) return dflt;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
      this.unsupported(key, schema, "must be a non-negative integer");
    }
    return Math.min(v, NO_MAX);
  }

  pattern(schema: Obj, ruleName: string): string {
    const p = schema.pattern;
    if (typeof p !== "string") this.unsupported("pattern", schema, "must be a string");
    const snapshot = new Map(this.rules);
    try {
      return patternToRule(p, ruleName, (n, r) => this.addRule(n, r), this.dotall);
    } catch (e) {
      this.rules.clear();
      for (const [k, v] of snapshot) this.rules.set(k, v);
      if (e instanceof InvalidPattern) {
        throw new JsonSchemaError("SCHEMA_INVALID", `invalid pattern ${p}: ${e.message}`, {
          keyword: "pattern",
          actual: p,
        });
      }
      if (!(e instanceof UnsupportedPattern)) throw e;
      if (this.strict) {
        this.unsupported("pattern", schema, `value ${p} is not supported (${e.message})`);
      }
      return this.addRule(ruleName, this.addPrimitive("string", PRIMITIVE_RULES.string));
    }
  }

  allOf(schema: Obj, name: string): string {
    const required = new Set<string>();
    const props: [string, Json][] = [];
    const enumCounts = new Map<string, number>();
    const add = (comp: Json, isRequired: boolean): void => {
      if (!isObj(comp)) this.unsupported("allOf", schema, "must list schema objects");
      if (comp.$ref !== undefined) {
        this.checkUsed(comp, ["$ref"]);
        return add(this.refs.get(String(comp.$ref)) ?? null, isRequired);
      }
      if (isObj(comp.properties)) {
        this.checkUsed(comp, ["properties", "type"]);
        for (const [k, v] of Object.entries(comp.properties)) {
          props.push([k, v]);
          if (isRequired) required.add(k);
        }
      } else if (Array.isArray(comp.enum)) {
        this.checkUsed(comp, ["enum", "type"]);
        for (const v of comp.enum) {
          const r = formatLiteral(dump(v));
          enumCounts.set(r, (enumCounts.get(r) ?? 0) + 1);
        }
      } else if (this.strict) {
        this.unsupported("allOf", schema, "components must have properties, enum or $ref");
      }
    };
    const parts = schema.allOf;
    if (!Array.isArray(parts)) this.unsupported("allOf", schema, "must be an array");
    for (const t of parts) {
      if (isObj(t) && Array.isArray(t.anyOf)) { for (const tt of t.anyOf) add(tt, false); }
      else add(t, true);
    }
    if (enumCounts.size > 0) {
      const inter = [...enumCounts].filter(([, n]) => n === parts.length).map(([r]) => r).sort();
      if (inter.length > 0) return "(" + inter.join(" | ") + ")";
    }
    return buildObjectRule(this, props, required, name, null);
  }

  format(): string {
    return [...this.rules.keys()].sort().map((k) => `${k} ::= ${this.rules.get(k)}\n`).join("");
  }
}

/** Converts a JSON Schema to GBNF text (JsonSchemaError when it cannot). */
export function jsonSchemaToGbnf(schema: unknown, options: JsonSchemaOptions = {}): string {
  const c = new Converter(options.strict ?? true, options.dotall ?? false);
  const copy = structuredClone(schema) as Json;
  c.refs = resolveRefs(copy);
  c.visit(copy, "");
  return c.format();
}

/** A grammar accepting exactly the JSON texts that `schema` describes (see jsonSchemaToGbnf). */
export function createGrammarForJsonSchema(
  schema: unknown,
  options: JsonSchemaOptions = {},
): Grammar {
  return createGrammar(jsonSchemaToGbnf(schema, options));
}
