/**
 * llama.cpp's chat-template tests as data (tests/fixtures/chat_template_llamacpp.json, made by
 * scripts/extract_chat_template_tests.ts from tests/test-chat-template.cpp): every case its Jinja
 * path runs renders the test's conversation (plus the case's extra messages), with the case's
 * bos/eos tokens and a generation prompt, to exactly the text llama.cpp expects from that path
 * (`expected_output_jinja`, else `expected_output`), through the renderer the engine uses
 * (src/chat/render.ts: the template through @huggingface/jinja, with llama.cpp's polyfills where
 * the template lacks a system role). The fixture covers the families' formats: ChatML
 * (Qwen2.5/3), Llama 3, Gemma, Phi-3, Mistral v1/v3/v3-tekken/v7, DeepSeek, Command R, ...
 */
import { renderConversation } from "../src/chat/render.ts";
import { readFixture } from "./_fixture.ts";
import { assert, assertEquals } from "./assert.ts";
import { test } from "./harness.ts";

interface Case {
  name: string;
  template: string;
  expected: string;
  expectedJinja: string;
  bos: string;
  eos: string;
  supportedWithJinja: boolean;
  extra: [string, string][];
}

const fixture: { conversation: [string, string][]; cases: Case[] } = JSON.parse(
  readFixture("chat_template_llamacpp.json"),
);

/** The case's messages, as test-chat-template.cpp builds them for its Jinja loop. */
function messages(c: Case) {
  return [...fixture.conversation, ...c.extra].map(([role, content]) => ({ role, content }));
}

test("llama.cpp chat-template cases: the fixture holds the test's conversation and cases", () => {
  assertEquals(fixture.conversation.length, 6);
  assert(fixture.cases.length >= 30, `${fixture.cases.length} cases`);
  for (const name of ["Llama-3", "google/gemma-7b-it", "Phi-3-mini", "teknium/OpenHermes-2.5"]) {
    assert(fixture.cases.some((c) => c.name.startsWith(name)), name);
  }
});

for (const c of fixture.cases.filter((c) => c.supportedWithJinja)) {
  test(`llama.cpp chat template (jinja): ${c.name}`, () => {
    const got = renderConversation(messages(c), {
      template: c.template,
      bosToken: c.bos,
      eosToken: c.eos,
      addGenerationPrompt: true,
    });
    // format_using_common normalizes \r\n to \n.
    assertEquals(got.replaceAll("\r\n", "\n"), c.expectedJinja || c.expected);
  });
}
