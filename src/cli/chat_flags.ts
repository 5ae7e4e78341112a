/**
 * What `generate` and `chat` share beyond sampling: `--json-schema FILE` and `--grammar FILE`
 * (llama.cpp's `--json-schema-file` / `--grammar-file` spellings too; a value starting with
 * `{` is the schema itself and one containing `::=` is the grammar itself, as llama.cpp's
 * `-j SCHEMA` / `--grammar GRAMMAR` take them), checked before the model loads (exit 2 for
 * an unreadable file, bad JSON, or a schema or grammar the engine cannot enforce), and the
 * prompt of `generate --chat` rendered through the model's chat template.
 *
 * @module
 */
import { type ResponseFormat, responseFormatGrammar } from "../chat/constrain.ts";
import { renderConversation } from "../chat/render.ts";
import type { Model } from "../core/model.ts";
import { plainMetadata } from "../gguf/gguf_file.ts";
import { GrammarError, JsonSchemaError } from "../grammar/errors.ts";
import type { Grammar } from "../grammar/grammar.ts";
import { readTextFile } from "../runtime/host.ts";
import { chatTemplateFromMetadata } from "../tokenizers/chat_template.ts";
import { UsageError } from "./args.ts";

/** The constraint flags. */
export const CONSTRAINT_FLAGS = {
  "json-schema": {
    type: "string",
    short: "j",
    aliases: ["--json-schema-file", "-jf"],
    valueName: "FILE",
    description: "answers are JSON matching the JSON Schema in FILE (or the schema text {...})",
  },
  grammar: {
    type: "string",
    aliases: ["--grammar-file"],
    valueName: "FILE",
    description: "answers follow the GBNF grammar in FILE (or the grammar text itself)",
  },
} as const;

/** A checked constraint: the format (for ChatSession) and its grammar. */
export interface Constraint {
  format: ResponseFormat;
  grammar: Grammar;
}

function textOf(flag: string, value: string, inline: boolean): string {
  if (inline) return value;
  try {
    return readTextFile(value);
  } catch (e) {
    throw new UsageError(`${flag} ${value}: ${(e as Error).message}`, { flag, actual: value });
  }
}

/** The constraint the flags give, or undefined (UsageError for anything it cannot use). */
export function constraintFromFlags(
  f: { "json-schema"?: string; grammar?: string },
): Constraint | undefined {
  const schemaArg = f["json-schema"], grammarArg = f.grammar;
  if (schemaArg !== undefined && grammarArg !== undefined) {
    throw new UsageError("give --json-schema or --grammar, not both");
  }
  let format: ResponseFormat, flag: string;
  if (schemaArg !== undefined) {
    flag = "--json-schema";
    const text = textOf(flag, schemaArg, schemaArg.trimStart().startsWith("{"));
    let schema: unknown;
    try {
      schema = JSON.parse(text);
    } catch (e) {
      throw new UsageError(`${flag}: not JSON: ${(e as Error).message}`, { flag });
    }
    if (schema === null || typeof schema !== "object" || Array.isArray(schema)) {
      throw new UsageError(`${flag}: a JSON Schema is an object`, { flag });
    }
    format = { type: "json_schema", schema: schema as Record<string, unknown> };
  } else if (grammarArg !== undefined) {
    flag = "--grammar";
    format = { type: "grammar", grammar: textOf(flag, grammarArg, grammarArg.includes("::=")) };
  } else return undefined;
  try {
    return { format, grammar: responseFormatGrammar(format)! };
  } catch (e) {
    if (e instanceof JsonSchemaError || e instanceof GrammarError) {
      throw new UsageError(`${flag}: ${e.message}`, { ...e.facts, flag });
    }
    throw e;
  }
}

/** The model's chat template (GGUF metadata; undefined: ChatML). */
export function modelChatTemplate(model: Model): string | undefined {
  return chatTemplateFromMetadata(plainMetadata(model.file));
}

/**
 * `text` as one user turn (after `system`) through the model's chat template, and whether
 * generate() must still add BOS (not when the template wrote it).
 */
export function chatPromptFromFlags(
  model: Model,
  text: string,
  system: string | undefined,
): { text: string; addSpecial: boolean } {
  const tok = model.tokenizer;
  const bos = tok.bos !== undefined ? tok.tokenText(tok.bos) : "";
  const prompt = renderConversation(
    [...(system !== undefined ? [{ role: "system", content: system }] : []), {
      role: "user",
      content: text,
    }],
    {
      template: modelChatTemplate(model),
      bosToken: bos,
      eosToken: tok.eos !== undefined ? tok.tokenText(tok.eos) : "",
      addGenerationPrompt: true,
    },
  );
  return { text: prompt, addSpecial: bos === "" || !prompt.startsWith(bos) };
}
