/**
 * Tool calling across modules: the family detected from real chat templates of llama.cpp's
 * models/templates, and seeded generation on real model paths with `tool_choice: "required"`
 * (grammar sampler first in the chain) always yielding a call that parses and whose
 * arguments validate against the function's schema.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { createSession, loadModel } from "../src/api.ts";
import {
  detectToolCallFamily,
  parseToolCalls,
  type ToolCallFamily,
} from "../src/chat/tool_calls.ts";
import { toolCallGrammar, type ToolSpec } from "../src/chat/tool_grammar.ts";
import { generate } from "../src/core/generate.ts";
import { SamplerChain } from "../src/samplers/chain.ts";
import { GrammarSampler } from "../src/samplers/grammar.ts";
import { TemperatureSampler } from "../src/samplers/temperature.ts";
import { TopKSampler } from "../src/samplers/top_k.ts";
import { checkJson } from "./_json_schema_check.ts";
import { assert, assertEquals } from "./assert.ts";
import { LLAMACPP_TREE, llamacppPath, NO_LLAMACPP_REASON } from "./llamacpp_tree.ts";
import { HAVE_SHARED, NO_SHARED_REASON, sharedPath } from "./shared_data.ts";
import { test } from "./harness.ts";

test("tool-call family detected from llama.cpp's real chat templates", () => {
  const expected: Record<string, ToolCallFamily> = {
    "Qwen-Qwen2.5-7B-Instruct.jinja": "hermes",
    "Qwen-Qwen3-0.6B.jinja": "hermes",
    "NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use.jinja": "hermes",
    "NousResearch-Hermes-3-Llama-3.1-8B-tool_use.jinja": "hermes",
    "meta-llama-Llama-3.1-8B-Instruct.jinja": "llama3",
    "meta-llama-Llama-3.2-3B-Instruct.jinja": "llama3",
    "meta-llama-Llama-3.3-70B-Instruct.jinja": "llama3",
    "mistralai-Mistral-Nemo-Instruct-2407.jinja": "mistral",
    "Mistral-Small-3.2-24B-Instruct-2506.jinja": "mistral",
    "google-gemma-2-2b-it.jinja": "generic",
    "microsoft-Phi-3.5-mini-instruct.jinja": "generic",
  };
  for (const [file, family] of Object.entries(expected)) {
    const text = readFileSync(llamacppPath("models", "templates", file), "utf8");
    assertEquals(detectToolCallFamily(text), family, file);
  }
}, { ignore: !LLAMACPP_TREE, reason: NO_LLAMACPP_REASON });

const TOOLS: ToolSpec[] = [
  {
    name: "get_weather",
    parameters: {
      type: "object",
      properties: {
        city: { type: "string", maxLength: 6 },
        days: { type: "integer", minimum: 1, maximum: 7 },
      },
      required: ["city"],
      additionalProperties: false,
    },
  },
  {
    name: "set_alarm",
    parameters: {
      type: "object",
      properties: { time: { type: "string", format: "time" }, loud: { type: "boolean" } },
      required: ["time", "loud"],
      additionalProperties: false,
    },
  },
];

async function requiredCalls(path: string, seeds: number): Promise<number> {
  const model = await loadModel(path, { backend: "cpu", log: () => {} });
  const session = createSession(model);
  let calls = 0;
  for (const family of ["hermes", "llama3", "mistral", "generic"] as ToolCallFamily[]) {
    const tg = toolCallGrammar(TOOLS, family, { choice: "required" })!;
    for (let seed = 1; seed <= seeds; seed++) {
      const gs = new GrammarSampler(tg.grammar, model.tokenizer);
      const sampler = new SamplerChain([gs, new TopKSampler(20), new TemperatureSampler(1.3)], {
        seed,
      });
      let text = "";
      for await (const chunk of generate(session, "Weather?", { maxTokens: 200, sampler })) {
        text += chunk.text;
      }
      const parsed = parseToolCalls(text, family);
      assertEquals(parsed.toolCalls.length, 1, `${family} seed ${seed}: ${text}`);
      const call = parsed.toolCalls[0];
      const tool = TOOLS.find((t) => t.name === call.name);
      assert(tool, `${family}: unknown tool ${call.name}`);
      assertEquals(
        checkJson(call.arguments, tool.parameters!),
        [],
        `${family} seed ${seed}: ${text}`,
      );
      calls++;
    }
  }
  return calls;
}

test(
  "tool_choice required: every seeded answer is a valid call (stories260K, qwen2-tiny64)",
  async () => {
    assertEquals(await requiredCalls(sharedPath("models", "stories260K.gguf"), 10), 40);
    assertEquals(
      await requiredCalls(sharedPath("models", "synthetic", "qwen2-tiny64-Q8_0.gguf"), 5),
      20,
    );
  },
  { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON },
);
