/**
 * The grammar that makes a model's tool calls well-formed: each call's arguments are
 * constrained by the function's parameter schema (JSON Schema → GBNF), wrapped in the
 * template family's call syntax (see tool_calls.ts). With `tool_choice: "auto"` the grammar is
 * lazy (it starts at the family's trigger, so plain answers stay free); "required" and a named
 * function constrain from the first token; "none" needs no grammar. "auto" with a response
 * format for the non-call answer is one grammar of two alternatives (see compose.ts).
 *
 * @module
 */
import { JsonSchemaError } from "../grammar/errors.ts";
import { createGrammar, type Grammar } from "../grammar/grammar.ts";
import { jsonSchemaToGbnf } from "../grammar/json_schema.ts";
import { unionGbnf } from "../grammar/compose.ts";
import type { ToolCallFamily } from "./tool_calls.ts";

/** A function the model may call (OpenAI's `tools[].function`). */
export interface ToolSpec {
  name: string;
  description?: string;
  /** JSON Schema of the arguments object (default: any object). */
  parameters?: Record<string, unknown>;
}

/** OpenAI's `tool_choice`. */
export type ToolChoice = "auto" | "required" | "none" | { name: string };

/** Options of {@link toolCallGrammar}. */
export interface ToolGrammarOptions {
  choice?: ToolChoice;
  /** Allow several calls in one answer (default false). */
  parallel?: boolean;
  /**
   * GBNF of the answer when it is not a call (a response format). With choice "auto" the
   * grammar is then a union constrained from the first token: a call or an answer in this
   * format, nothing else. Ignored for "required" and a named function (the answer is a call).
   */
  format?: string;
}

/** A tool-call grammar and how to run it. */
export interface ToolGrammar {
  grammar: Grammar;
  gbnf: string;
  /** Trigger words for a lazy grammar sampler (empty: constrain from the start). */
  triggerWords: string[];
}

const CALL = "tool-call-json";

function callSchema(tools: readonly ToolSpec[], argsKey: string): Record<string, unknown> {
  const alts = tools.map((t) => ({
    type: "object",
    properties: {
      name: { const: t.name },
      [argsKey]: t.parameters ?? { type: "object" },
    },
    required: ["name", argsKey],
    additionalProperties: false,
  }));
  return alts.length === 1 ? alts[0] : { anyOf: alts };
}

/** The call JSON's grammar rules with its root renamed to `CALL`. */
function callRules(schema: unknown): string {
  let gbnf: string;
  try {
    gbnf = jsonSchemaToGbnf(schema);
  } catch (e) {
    if (e instanceof JsonSchemaError) {
      throw new JsonSchemaError(e.code, `tool parameters: ${e.message}`, e.facts, { cause: e });
    }
    throw e;
  }
  return gbnf.replace(/^root ::= /m, `${CALL} ::= `);
}

/**
 * The grammar for calling `tools` in `family`'s syntax, or undefined for choice "none".
 * A named choice must name one of the tools (JsonSchemaError SCHEMA_INVALID otherwise).
 */
export function toolCallGrammar(
  tools: readonly ToolSpec[],
  family: ToolCallFamily,
  options: ToolGrammarOptions = {},
): ToolGrammar | undefined {
  const choice = options.choice ?? "auto";
  if (choice === "none") return undefined;
  let chosen = tools;
  if (typeof choice === "object") {
    chosen = tools.filter((t) => t.name === choice.name);
    if (chosen.length === 0) {
      throw new JsonSchemaError(
        "SCHEMA_INVALID",
        `tool_choice names unknown function '${choice.name}'`,
        {
          keyword: "tool_choice",
          expected: tools.map((t) => t.name),
          actual: choice.name,
        },
      );
    }
  }
  if (chosen.length === 0) {
    throw new JsonSchemaError("SCHEMA_INVALID", "tool calling needs at least one tool", {
      keyword: "tools",
      actual: 0,
    });
  }
  if (choice === "auto" && options.format !== undefined) {
    const calls = toolCallGrammar(tools, family, { ...options, choice: "required" });
    const gbnf = unionGbnf([calls!.gbnf, options.format]);
    return { grammar: createGrammar(gbnf), gbnf, triggerWords: [] };
  }
  const lazy = choice === "auto";
  const many = options.parallel ?? false;
  let root: string, rules: string, triggers: string[] = [];
  switch (family) {
    case "hermes": {
      rules = callRules(callSchema(chosen, "arguments"));
      const one = `"<tool_call>" "\\n"? ${CALL} "\\n"? "</tool_call>"`;
      root = many ? `${one} ("\\n" ${one})*` : one;
      if (lazy) triggers = ["<tool_call>"];
      break;
    }
    case "llama3": {
      rules = callRules(callSchema(chosen, "parameters"));
      root = `"<|python_tag|>"? ${CALL}` + (many ? ` ("; " ${CALL})*` : "");
      if (lazy) triggers = ["<|python_tag|>", '{"name"'];
      break;
    }
    case "mistral": {
      const items = callSchema(chosen, "arguments");
      rules = callRules({ type: "array", items, minItems: 1, ...(many ? {} : { maxItems: 1 }) });
      root = `"[TOOL_CALLS]" ${CALL}`;
      if (lazy) triggers = ["[TOOL_CALLS]"];
      break;
    }
    case "generic": {
      const call = callSchema(chosen, "arguments");
      const shape = many
        ? {
          type: "object",
          properties: { tool_calls: { type: "array", items: call, minItems: 1 } },
          required: ["tool_calls"],
          additionalProperties: false,
        }
        : {
          type: "object",
          properties: { tool_call: call },
          required: ["tool_call"],
          additionalProperties: false,
        };
      const answer = {
        type: "object",
        properties: { response: { type: "string" } },
        required: ["response"],
        additionalProperties: false,
      };
      rules = callRules(lazy ? { anyOf: [shape, answer] } : shape);
      root = CALL;
      break;
    }
  }
  const gbnf = `root ::= ${root}\n${rules}`;
  return { grammar: createGrammar(gbnf), gbnf, triggerWords: triggers };
}
