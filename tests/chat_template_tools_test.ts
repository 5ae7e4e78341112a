/**
 * Tools through real chat templates (llama.cpp's models/templates/): a conversation with a
 * system message, tools, an assistant call and its result renders through every template
 * (three that @huggingface/jinja cannot run are listed with the reason); what a template
 * renders natively reaches the prompt in its own syntax (Qwen 2.5's `<tools>`/`<tool_call>`/
 * `<tool_response>`, Llama 3.2's JSON call, ipython turn and strftime_now date, Mistral Nemo's
 * `[AVAILABLE_TOOLS]`/`[TOOL_CALLS]`/`[TOOL_RESULTS]`, Hermes 3's tool_use template), and what
 * it lacks is filled in (tool instructions in the system text, calls as the family's text);
 * `raise_exception` in a template is a ChatTemplateError carrying its message.
 */
import { readdirSync, readFileSync } from "node:fs";
import { renderConversation } from "../src/chat/render.ts";
import { templateCaps } from "../src/chat/template_caps.ts";
import { ChatTemplateError } from "../src/tokenizers/chat_template.ts";
import { assert, assertEquals } from "./assert.ts";
import { test } from "./harness.ts";
import { LLAMACPP_TREE, llamacppPath, NO_LLAMACPP_REASON } from "./llamacpp_tree.ts";

const opts = { ignore: !LLAMACPP_TREE, reason: NO_LLAMACPP_REASON };
const template = (f: string) => readFileSync(llamacppPath("models", "templates", f), "utf8");

const TOOLS = [{
  name: "get_weather",
  description: "Current weather",
  parameters: {
    type: "object",
    properties: { city: { type: "string", description: "City" } },
    required: ["city"],
  },
}];
const CONVERSATION = [
  { role: "system", content: "Be brief." },
  { role: "user", content: "Weather in Paris?" },
  {
    role: "assistant",
    content: "",
    toolCalls: [{ id: "abc123XYZ", name: "get_weather", arguments: { city: "Paris" } }],
  },
  { role: "tool", content: '{"temp": 21}', toolCallId: "abc123XYZ" },
];
/** The ChatTemplateError `fn` throws. */
function templateError(fn: () => unknown): ChatTemplateError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ChatTemplateError) return e;
    throw e;
  }
  throw new Error("expected a ChatTemplateError");
}

const render = (t: string) =>
  renderConversation(CONVERSATION, {
    template: t,
    tools: TOOLS,
    bosToken: "<s>",
    eosToken: "</s>",
    addGenerationPrompt: true,
  });

/** Templates @huggingface/jinja 0.5.11 cannot render, and why. */
const CANNOT: Record<string, RegExp> = {
  // integer dictionary keys
  "ByteDance-Seed-OSS.jinja": /Object keys must be strings/,
  // needs the `functions` and `datetime` variables llama.cpp's firefunction handler sets
  "fireworks-ai-llama-3-firefunction-v2.jinja": /undefined/,
  // calls a Python string method the library lacks
  "tencent-Hy3.jinja": /not a function/,
};

test("every real template renders a conversation with tools, a call and its result", () => {
  const files = readdirSync(llamacppPath("models", "templates")).filter((f) =>
    f.endsWith(".jinja")
  );
  assert(files.length >= 40, `${files.length} templates`);
  let native = 0;
  for (const f of files) {
    const t = template(f);
    if (f in CANNOT) {
      const e = templateError(() => render(t));
      assert(CANNOT[f].test(e.message), `${f}: ${e.message}`);
      continue;
    }
    const text = render(t);
    const caps = templateCaps(t);
    assert(text.includes("Weather in Paris?"), f);
    // Tools reach the prompt: natively, or in the instructions the polyfill writes.
    assert(text.includes("get_weather"), `${f}: no tool in\n${text}`);
    if (caps.toolCalls) {
      native++;
      assert(text.includes("Paris"), `${f}: call arguments missing`);
    }
  }
  assert(native >= 30, `${native} templates render calls natively`);
}, opts);

test("Qwen 2.5: tools, call and result in its own tags", () => {
  const text = render(template("Qwen-Qwen2.5-7B-Instruct.jinja"));
  assert(text.startsWith("<|im_start|>system\nBe brief.\n\n# Tools\n"), text);
  assert(
    text.includes(
      '<tools>\n{"type": "function", "function": {"name": "get_weather", "description": ' +
        '"Current weather", "parameters": {"type": "object", "properties": {"city": {"type": ' +
        '"string", "description": "City"}}, "required": ["city"]}}}\n</tools>',
    ),
    text,
  );
  assert(
    text.endsWith(
      '<|im_start|>assistant\n<tool_call>\n{"name": "get_weather", "arguments": {"city": ' +
        '"Paris"}}\n</tool_call><|im_end|>\n<|im_start|>user\n<tool_response>\n{"temp": 21}\n' +
        "</tool_response><|im_end|>\n<|im_start|>assistant\n",
    ),
    text,
  );
}, opts);

test("Llama 3.2: JSON call, ipython result, today's date from strftime_now", () => {
  const text = render(template("meta-llama-Llama-3.2-3B-Instruct.jinja"));
  const d = new Date();
  const month = new Intl.DateTimeFormat(undefined, { month: "short" }).format(d);
  const today = `${String(d.getDate()).padStart(2, "0")} ${month} ${d.getFullYear()}`;
  assert(text.includes(`Today Date: ${today}\n`), text);
  assert(text.includes("Given the following functions, please respond with a JSON"), text);
  assert(
    text.includes(
      '<|start_header_id|>assistant<|end_header_id|>\n\n{"name": "get_weather", "parameters": ' +
        '{"city": "Paris"}}<|eot_id|><|start_header_id|>ipython<|end_header_id|>\n\n',
    ),
    text,
  );
}, opts);

test(
  "Mistral Nemo: [AVAILABLE_TOOLS], [TOOL_CALLS] with the 9-character id, [TOOL_RESULTS]",
  () => {
    const text = render(template("mistralai-Mistral-Nemo-Instruct-2407.jinja"));
    assert(text.startsWith('<s>[AVAILABLE_TOOLS][{"type": "function", "function": {"name"'), text);
    assert(
      text.includes(
        '[TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Paris"}, "id": "abc123XYZ"}]' +
          '</s>[TOOL_RESULTS]{"content": {"temp": 21}, "call_id": "abc123XYZ"}[/TOOL_RESULTS]',
      ),
      text,
    );
    // raise_exception: the template's own check, as a typed error with its message.
    const e = templateError(() =>
      renderConversation([{ role: "user", content: "a" }, { role: "user", content: "b" }], {
        template: template("mistralai-Mistral-Nemo-Instruct-2407.jinja"),
      })
    );
    assertEquals(e.code, "CHAT_TEMPLATE_RENDER");
    assert(/alternate/.test(e.message), e.message);
  },
  opts,
);

test("Hermes 3 tool_use: a template that loops over tools renders with and without them", () => {
  const t = template("NousResearch-Hermes-3-Llama-3.1-8B-tool_use.jinja");
  const text = render(t);
  assert(text.includes('<tools> {"type": "function"'), text);
  assert(text.includes('<|im_start|>tool\n<tool_response>\n{"temp": 21}\n</tool_response>'), text);
  const plain = renderConversation([{ role: "user", content: "Hi" }], {
    template: t,
    addGenerationPrompt: true,
  });
  assert(plain.endsWith("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"), plain);
}, opts);

test(
  "Gemma 2 (no system role, no tools): system and tool instructions merge into the user turn",
  () => {
    const text = render(template("google-gemma-2-2b-it.jinja"));
    assert(text.startsWith("<s><start_of_turn>user\nBe brief.\n\nYou can call these tools:"), text);
    assert(text.includes('{"tool_calls":[{"name":"get_weather","arguments":{"city":"Paris"}}]}'));
  },
  opts,
);
