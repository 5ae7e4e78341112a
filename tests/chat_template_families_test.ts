/**
 * The real chat templates of the families we run (llama.cpp's models/templates/ and the vocab
 * GGUFs of its models/ folder), against what llama.cpp expects:
 *
 * - Qwen2.5 / Qwen3 (ChatML), Gemma 2, Phi-3.5 and Llama 3.1 / 3.2 / 3.3 render
 *   test-chat-template.cpp's conversation as its case for that format (fixture
 *   chat_template_llamacpp.json); Llama 3.1+ only adds its system preamble (knowledge cutoff and
 *   date_string).
 * - gpt-oss's harmony template passes test-chat.cpp's basic check: a system and a user message
 *   with a generation prompt keep both contents and end with `<|start|>assistant`.
 * - For each family vocabulary, the token that closes an assistant turn in the family's template
 *   (`<|eot_id|>`, `<|im_end|>`, `<|end|>`, `<|END_OF_TURN_TOKEN|>`, Gemma 4's, `</s>`) is an
 *   end-of-generation token of the tokenizer, so generation stops there (generate.ts stops on
 *   isEog); Llama 3.1's `<|eom_id|>` (tool turns) too, found by its text as llama.cpp does (the
 *   tree's Llama 3.0 vocabulary has reserved token 128008 where 3.1 has it, so the test renames
 *   it). No o200k (gpt-oss) vocabulary is in the tree: harmony's tokens are checked on renamed
 *   reserved tokens of the Llama 3 vocabulary, where llama.cpp's rule holds: `<|return|>` (end of
 *   the final answer) and `<|call|>` (a tool call) end generation, `<|end|>` (the end of one
 *   message, e.g. the analysis channel, inside a turn) does not.
 */
import { readFileSync } from "node:fs";
import { renderConversation } from "../src/chat/render.ts";
import { chatTemplateFromMetadata } from "../src/tokenizers/chat_template.ts";
import { tokenizerFromMetadata } from "../src/tokenizers/from_gguf.ts";
import { ggufMetadata } from "../src/tokenizers/_test_vocab.ts";
import { readFixture } from "./_fixture.ts";
import { assert, assertEquals } from "./assert.ts";
import { test } from "./harness.ts";
import { LLAMACPP_TREE, llamacppPath, NO_LLAMACPP_REASON } from "./llamacpp_tree.ts";

const opts = { ignore: !LLAMACPP_TREE, reason: NO_LLAMACPP_REASON };
const fixture: {
  conversation: [string, string][];
  cases: { name: string; expected: string; expectedJinja: string }[];
} = JSON.parse(readFixture("chat_template_llamacpp.json"));
const conversation = fixture.conversation.map(([role, content]) => ({ role, content }));
const expected = (name: string) => {
  const c = fixture.cases.find((c) => c.name === name);
  if (!c) throw new Error(`no fixture case ${name}`);
  return c.expectedJinja || c.expected;
};
const template = (file: string) => readFileSync(llamacppPath("models", "templates", file), "utf8");

const SAME_FORMAT: [string, string][] = [
  ["Qwen-Qwen2.5-7B-Instruct.jinja", "teknium/OpenHermes-2.5-Mistral-7B"],
  ["Qwen-Qwen3-0.6B.jinja", "teknium/OpenHermes-2.5-Mistral-7B"],
  ["google-gemma-2-2b-it.jinja", "google/gemma-7b-it"],
  ["microsoft-Phi-3.5-mini-instruct.jinja", "Phi-3-small"],
];
for (const [file, name] of SAME_FORMAT) {
  test(`family template ${file} renders as llama.cpp's "${name}" case`, () => {
    const got = renderConversation(conversation, {
      template: template(file),
      addGenerationPrompt: true,
    });
    assertEquals(got, expected(name));
  }, opts);
}

for (const v of ["3.1-8B", "3.2-3B", "3.3-70B"]) {
  test(`family template Llama ${v}: the Llama-3 case with the 3.1+ system preamble`, () => {
    const got = renderConversation(conversation, {
      template: template(`meta-llama-Llama-${v}-Instruct.jinja`),
      addGenerationPrompt: true,
      context: { date_string: "26 Jul 2024" },
    });
    const want = expected("Llama-3").replace(
      "system<|end_header_id|>\n\n",
      "system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n",
    );
    assertEquals(got, want);
  }, opts);
}

test("family template gpt-oss (harmony): test-chat.cpp's basic generation prompt", () => {
  const system = "You are a helpful assistant.", user = "Hey there!";
  const got = renderConversation(
    [{ role: "system", content: system }, { role: "user", content: user }],
    { template: template("openai-gpt-oss-120b.jinja"), addGenerationPrompt: true },
  );
  assert(got.includes(system) && got.includes(user), got);
  assert(got.endsWith("<|start|>assistant"), got.slice(-80));
}, opts);

/** [vocab file, template (a models/templates file; absent: the vocab's own)]. */
const FAMILIES: [string, string | undefined][] = [
  ["ggml-vocab-llama-bpe.gguf", "meta-llama-Llama-3.1-8B-Instruct.jinja"],
  ["ggml-vocab-qwen2.gguf", undefined],
  ["ggml-vocab-qwen35.gguf", undefined],
  ["ggml-vocab-phi-3.gguf", undefined],
  ["ggml-vocab-gemma-4.gguf", undefined],
  ["ggml-vocab-command-r.gguf", undefined],
  ["ggml-vocab-llama-spm.gguf", "mistralai-Mistral-Nemo-Instruct-2407.jinja"],
];
for (const [vocab, file] of FAMILIES) {
  test(`family ${vocab}: the token closing an assistant turn is end-of-generation`, () => {
    const md = ggufMetadata(llamacppPath("models", vocab));
    const tok = tokenizerFromMetadata(md);
    const t = file ? template(file) : chatTemplateFromMetadata(md);
    assert(t !== undefined, `${vocab} has no chat template`);
    const text = renderConversation(
      [{ role: "user", content: "Hello" }, { role: "assistant", content: "Hi there" }, {
        role: "user",
        content: "Bye",
      }],
      { template: t, bosToken: "", eosToken: tok.eos === undefined ? "" : tok.tokenText(tok.eos) },
    );
    const rest = text.slice(text.indexOf("Hi there") + "Hi there".length);
    const [closer] = tok.encode(rest, { parseSpecial: true });
    assert(tok.isSpecial(closer), `${vocab}: "${rest.slice(0, 20)}" starts with no special token`);
    assert(tok.isEog(closer), `${vocab}: ${tok.tokenText(closer)} is not end-of-generation`);
  }, opts);
}

test("family Llama 3.1: <|eom_id|> (end of a tool turn) is end-of-generation", () => {
  const md = ggufMetadata(llamacppPath("models", "ggml-vocab-llama-bpe.gguf"));
  const tokens = [...md.get("tokenizer.ggml.tokens") as string[]];
  assertEquals(tokens[128008], "<|reserved_special_token_4|>");
  tokens[128008] = "<|eom_id|>";
  const tok = tokenizerFromMetadata(new Map([...md, ["tokenizer.ggml.tokens", tokens]]));
  assertEquals(tok.encode("<|eom_id|>", { parseSpecial: true }), [128008]);
  assert(tok.isEog(128008) && tok.isEog(tok.eot!), "eom and eot end generation");
}, opts);

test("family gpt-oss (harmony): <|return|> and <|call|> end generation, <|end|> does not", () => {
  const md = ggufMetadata(llamacppPath("models", "ggml-vocab-llama-bpe.gguf"));
  const tokens = [...md.get("tokenizer.ggml.tokens") as string[]];
  const harmony = ["<|start|>", "<|end|>", "<|message|>", "<|channel|>", "<|return|>", "<|call|>"];
  const ids = harmony.map((t, i) => {
    const id = tokens.indexOf(`<|reserved_special_token_${10 + i}|>`);
    assert(id >= 0);
    tokens[id] = t;
    return id;
  });
  const tok = tokenizerFromMetadata(new Map([...md, ["tokenizer.ggml.tokens", tokens]]));
  const eog = Object.fromEntries(harmony.map((t, i) => [t, tok.isEog(ids[i])]));
  assertEquals(eog, {
    "<|start|>": false,
    "<|end|>": false,
    "<|message|>": false,
    "<|channel|>": false,
    "<|return|>": true,
    "<|call|>": true,
  });
  // The template closes earlier assistant messages with <|end|>, a plain special token here.
  const text = renderConversation(
    [{ role: "user", content: "Hello" }, { role: "assistant", content: "Hi there" }, {
      role: "user",
      content: "Bye",
    }],
    { template: template("openai-gpt-oss-120b.jinja"), addGenerationPrompt: true },
  );
  assert(text.includes("<|channel|>final<|message|>Hi there<|end|>"), text);
  const [end] = tok.encode("<|end|>", { parseSpecial: true });
  assertEquals(end, ids[1]);
}, opts);
