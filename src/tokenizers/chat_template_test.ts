import { assert, assertStrictEquals, assertThrows } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { HAVE_SHARED, NO_SHARED_REASON, sharedPath } from "../../tests/shared_data.ts";
import { InvalidArgumentError } from "../core/errors.ts";
import { ggufMetadata } from "./_test_vocab.ts";
import {
  type ChatMessage,
  CHATML_TEMPLATE,
  ChatTemplateError,
  chatTemplateFromMetadata,
  renderChat,
} from "./chat_template.ts";
import { tokenizerFromMetadata } from "./from_gguf.ts";

const messages: ChatMessage[] = [
  { role: "system", content: "Be brief." },
  { role: "user", content: "Hi" },
  { role: "assistant", content: "Hello!" },
  { role: "user", content: "Bye" },
];

test("default ChatML rendering, with and without generation prompt", () => {
  const expected = "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n" +
    "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n";
  assertStrictEquals(renderChat(messages), expected);
  assertStrictEquals(
    renderChat(messages, { addGenerationPrompt: true }),
    expected + "<|im_start|>assistant\n",
  );
  // The documented Jinja form renders the same text.
  assertStrictEquals(
    renderChat(messages, { template: CHATML_TEMPLATE, addGenerationPrompt: true }),
    expected + "<|im_start|>assistant\n",
  );
});

test("phi-3 chat template from GGUF metadata renders and tokenizes with specials", () => {
  const md = ggufMetadata(sharedPath("models", "llama.cpp-vocab", "ggml-vocab-phi-3.gguf"));
  const template = chatTemplateFromMetadata(md);
  assert(template !== undefined && template.includes("<|user|>"));
  const text = renderChat(messages, {
    template,
    bosToken: "<s>",
    eosToken: "<|endoftext|>",
    addGenerationPrompt: true,
  });
  assertStrictEquals(
    text,
    "<s><|user|>\nHi<|end|>\n<|assistant|>\nHello!<|end|>\n<|user|>\nBye<|end|>\n<|assistant|>\n",
  );
  const tok = tokenizerFromMetadata(md);
  const ids = tok.encode(text, { parseSpecial: true });
  assertStrictEquals(ids[0], 1);
  assertStrictEquals(ids[1], 32010);
  assertStrictEquals(ids[ids.length - 1], 32001);
  assertStrictEquals(ids.filter((t) => t === 32007).length, 3);
}, { ignore: !HAVE_SHARED, reason: NO_SHARED_REASON });

test("templates that fail to parse or render throw ChatTemplateError", () => {
  const expectCode = (template: string, code: string) =>
    assertThrows(
      () => renderChat(messages, { template }),
      (e: unknown) => e instanceof ChatTemplateError && e.code === code,
    );
  expectCode("{% for m in messages %}", "CHAT_TEMPLATE_PARSE");
  expectCode("{{ 'a' + }}", "CHAT_TEMPLATE_PARSE");
  expectCode("{{ raise_exception('System role not supported') }}", "CHAT_TEMPLATE_RENDER");
  expectCode("{{ messages[0].content.nope() }}", "CHAT_TEMPLATE_RENDER");
});

test("bad messages throw InvalidArgumentError", () => {
  const bad = [{ role: "user", content: 3 }] as unknown as ChatMessage[];
  assertThrows(() => renderChat(bad), InvalidArgumentError);
  assertStrictEquals(chatTemplateFromMetadata(new Map()), undefined);
});
