/**
 * Object rules of the JSON Schema converter (llama.cpp's `_build_object_rule` and
 * `_not_strings`): required properties in order, then optional ones as nested optional
 * tails, and additional properties whose keys are none of the declared names.
 *
 * @module
 */
import { type BuiltinRule, formatLiteral, PRIMITIVE_RULES } from "./json_schema_rules.ts";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** What the object builder needs from the converter. */
export interface ObjectBuilder {
  addRule(name: string, rule: string): string;
  addPrimitive(name: string, rule: BuiltinRule): string;
  visit(schema: Json, name: string): string;
}

interface Trie {
  children: Map<string, Trie>;
  end: boolean;
}

/** A rule matching a JSON string that is none of `strings`. */
function notStrings(b: ObjectBuilder, strings: readonly string[]): string {
  const root: Trie = { children: new Map(), end: false };
  for (const s of strings) {
    let node = root;
    for (const c of s) {
      let next = node.children.get(c);
      if (!next) {
        next = { children: new Map(), end: false };
        node.children.set(c, next);
      }
      node = next;
    }
    node.end = true;
  }
  const char = b.addPrimitive("char", PRIMITIVE_RULES.char);
  let out = '["] ( ';
  const visit = (node: Trie) => {
    let rejects = "";
    let first = true;
    for (const k of [...node.children.keys()].sort()) {
      const child = node.children.get(k)!;
      rejects += k;
      if (first) first = false;
      else out += " | ";
      out += `[${k}]`;
      if (child.children.size > 0) {
        out += " (";
        visit(child);
        out += ")";
      } else if (child.end) {
        out += ` ${char}+`;
      }
    }
    if (node.children.size > 0) {
      if (!first) out += " | ";
      out += `[^"${rejects}] ${char}*`;
    }
  };
  visit(root);
  out += " )";
  if (!root.end) out += "?";
  out += ' ["]';
  return out;
}

/** The body of an object rule. */
export function buildObjectRule(
  b: ObjectBuilder,
  properties: readonly [string, Json][],
  required: ReadonlySet<string>,
  name: string,
  additional: Json,
): string {
  const prefix = name + (name === "" ? "" : "-");
  const requiredProps: string[] = [], optionalProps: string[] = [];
  const kv = new Map<string, string>();
  const names: string[] = [];
  for (const [prop, schema] of properties) {
    const valueRule = b.visit(schema, prefix + prop);
    kv.set(
      prop,
      b.addRule(
        `${prefix}${prop}-kv`,
        `${formatLiteral(JSON.stringify(prop))} space ":" space ${valueRule}`,
      ),
    );
    (required.has(prop) ? requiredProps : optionalProps).push(prop);
    names.push(prop);
  }
  const isObj = typeof additional === "object" && additional !== null && !Array.isArray(additional);
  if (additional === true || isObj) {
    const sub = prefix + "additional";
    const valueRule = isObj
      ? b.visit(additional, `${sub}-value`)
      : b.addPrimitive("value", PRIMITIVE_RULES.value);
    const keyRule = names.length === 0
      ? b.addPrimitive("string", PRIMITIVE_RULES.string)
      : b.addRule(`${sub}-k`, notStrings(b, names));
    kv.set("*", b.addRule(`${sub}-kv`, `${keyRule} ":" space ${valueRule}`));
    optionalProps.push("*");
  }
  if (requiredProps.length === 0 && optionalProps.length === 0) return '"{" space "}"';
  let rule = '"{" space ' + requiredProps.map((p) => kv.get(p)).join(' "," space ');
  if (optionalProps.length > 0) {
    rule += " (";
    if (requiredProps.length > 0) rule += ' "," space ( ';
    const recursive = (ks: readonly string[], firstOptional: boolean): string => {
      if (ks.length === 0) return "";
      const k = ks[0];
      const kvName = kv.get(k)!;
      const comma = `( "," space ${kvName} )`;
      let res = firstOptional
        ? comma + (k === "*" ? "*" : "?")
        : kvName + (k === "*" ? " " + comma + "*" : "");
      if (ks.length > 1) {
        res += " " + b.addRule(`${prefix}${k}-rest`, recursive(ks.slice(1), true));
      }
      return res;
    };
    rule += optionalProps.map((_, i) => recursive(optionalProps.slice(i), false)).join(" | ");
    if (requiredProps.length > 0) rule += " )";
    rule += " )?";
  }
  return rule + ' space "}"';
}
