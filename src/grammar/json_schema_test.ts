import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { JsonSchemaError } from "./errors.ts";
import { createGrammarForJsonSchema, jsonSchemaToGbnf } from "./json_schema.ts";
import { test } from "../../tests/harness.ts";

function refused(schema: unknown): unknown {
  try {
    jsonSchemaToGbnf(schema);
  } catch (e) {
    if (e instanceof JsonSchemaError) return [e.code, e.facts.keyword];
    throw e;
  }
  return "converted";
}

test("json schema: strict mode names the keyword it cannot enforce", () => {
  assertEquals(refused({ type: "number", minimum: 1 }), ["SCHEMA_UNSUPPORTED", "minimum"]);
  assertEquals(refused({ type: "array", items: {}, uniqueItems: true }), [
    "SCHEMA_UNSUPPORTED",
    "uniqueItems",
  ]);
  assertEquals(refused({ type: "string", format: "email" }), ["SCHEMA_UNSUPPORTED", "format"]);
  assertEquals(refused({ type: "string", pattern: "^\\d+$" }), ["SCHEMA_UNSUPPORTED", "pattern"]);
  assertEquals(refused({ not: { type: "string" } }), ["SCHEMA_UNSUPPORTED", "not"]);
  assertEquals(refused({ type: ["string", "null"], maxLength: 3 }), "converted");
  assertEquals(refused({ type: ["integer", "null"], maxLength: 3 }), [
    "SCHEMA_UNSUPPORTED",
    "maxLength",
  ]);
  assertEquals(
    refused({ type: "string", description: "annotations are fine", title: "t" }),
    "converted",
  );
});

test("json schema: bad schemas and refs are typed errors", () => {
  assertEquals(refused({ $ref: "https://example.com/x.json" }), ["SCHEMA_BAD_REF", "$ref"]);
  assertEquals(refused({ $ref: "#/$defs/missing" }), ["SCHEMA_BAD_REF", "$ref"]);
  assertEquals(refused({ type: "widget" }), ["SCHEMA_INVALID", "type"]);
  assertEquals(refused({ type: "string", pattern: "^(a$" }), ["SCHEMA_INVALID", "pattern"]);
  assertEquals(refused({ type: "array", items: {}, maxItems: -1 }), [
    "SCHEMA_UNSUPPORTED",
    "maxItems",
  ]);
  assertThrows(() => jsonSchemaToGbnf(7), JsonSchemaError);
});

test("json schema: $defs recursion, formats and bounds accept and reject", () => {
  const g = createGrammarForJsonSchema({
    $defs: {
      node: {
        type: "object",
        properties: { next: { anyOf: [{ $ref: "#/$defs/node" }, { type: "null" }] } },
        required: ["next"],
        additionalProperties: false,
      },
    },
    $ref: "#/$defs/node",
  });
  assert(g.matches(`{"next": {"next": null}}`));
  assert(!g.matches(`{"next": {}}`));
  const d = createGrammarForJsonSchema({ type: "string", format: "date-time" });
  assert(d.matches(`"2024-02-29T23:59:60Z"`) === false);
  assert(d.matches(`"2024-02-29T23:59:59Z"`));
  const n = createGrammarForJsonSchema({ type: "integer", minimum: -3, exclusiveMaximum: 12 });
  for (const x of [-3, 0, 11]) assert(n.matches(String(x)), String(x));
  for (const x of ["-4", "12", "011"]) assert(!n.matches(x), x);
});
