/**
 * A small JSON Schema validator for the keywords the grammar tests use (type, properties,
 * required, additionalProperties, enum, const, items, prefixItems, minItems, maxItems,
 * minLength, maxLength, minimum, maximum, exclusiveMinimum, exclusiveMaximum, pattern,
 * format date/time/uuid, anyOf/oneOf). Independent of the converter, so a wrong grammar fails.
 *
 * @module
 */

// deno-lint-ignore no-explicit-any
type Schema = Record<string, any>;

const FORMATS: Record<string, RegExp> = {
  date: /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/,
  time: /^([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{3})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$/,
  uuid: /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/,
};

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

/** Problems found (empty when `v` satisfies `s`). */
export function checkJson(v: unknown, s: Schema, path = "$"): string[] {
  const errs: string[] = [];
  const fail = (m: string) => errs.push(`${path}: ${m}`);
  if (s.anyOf || s.oneOf) {
    const alts: Schema[] = s.anyOf ?? s.oneOf;
    if (!alts.some((a) => checkJson(v, a, path).length === 0)) fail("matches no alternative");
    return errs;
  }
  if ("const" in s && JSON.stringify(v) !== JSON.stringify(s.const)) fail("not the const");
  if (s.enum && !s.enum.some((e: unknown) => JSON.stringify(e) === JSON.stringify(v))) {
    fail(`not in enum: ${JSON.stringify(v)}`);
  }
  const t = typeOf(v);
  if (s.type && !(s.type === t || (s.type === "number" && t === "integer"))) {
    fail(`type ${t}, expected ${s.type}`);
    return errs;
  }
  if (t === "string") {
    const str = v as string, n = [...str].length;
    if (s.minLength !== undefined && n < s.minLength) fail(`shorter than ${s.minLength}`);
    if (s.maxLength !== undefined && n > s.maxLength) fail(`longer than ${s.maxLength}`);
    if (s.pattern && !new RegExp(s.pattern).test(str)) fail(`does not match ${s.pattern}`);
    if (s.format && FORMATS[s.format] && !FORMATS[s.format].test(str)) fail(`not a ${s.format}`);
  }
  if (t === "integer" || t === "number") {
    const x = v as number;
    if (s.minimum !== undefined && x < s.minimum) fail(`< ${s.minimum}`);
    if (s.maximum !== undefined && x > s.maximum) fail(`> ${s.maximum}`);
    if (s.exclusiveMinimum !== undefined && x <= s.exclusiveMinimum) {
      fail(`<= ${s.exclusiveMinimum}`);
    }
    if (s.exclusiveMaximum !== undefined && x >= s.exclusiveMaximum) {
      fail(`>= ${s.exclusiveMaximum}`);
    }
  }
  if (t === "array") {
    const a = v as unknown[];
    if (s.minItems !== undefined && a.length < s.minItems) fail(`fewer than ${s.minItems} items`);
    if (s.maxItems !== undefined && a.length > s.maxItems) fail(`more than ${s.maxItems} items`);
    if (s.prefixItems) {
      if (a.length !== s.prefixItems.length) fail(`expected ${s.prefixItems.length} items`);
      a.forEach((x, i) => errs.push(...checkJson(x, s.prefixItems[i] ?? {}, `${path}[${i}]`)));
    } else if (s.items) a.forEach((x, i) => errs.push(...checkJson(x, s.items, `${path}[${i}]`)));
  }
  if (t === "object") {
    const o = v as Record<string, unknown>;
    for (const r of s.required ?? []) if (!(r in o)) fail(`missing ${r}`);
    for (const [k, x] of Object.entries(o)) {
      if (s.properties?.[k]) errs.push(...checkJson(x, s.properties[k], `${path}.${k}`));
      else if (s.additionalProperties === false) fail(`unexpected property ${k}`);
    }
  }
  return errs;
}
