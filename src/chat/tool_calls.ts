/**
 * Tool-call output formats per chat-template family, detected from the template text (as
 * llama.cpp's common/chat.cpp does), and parsers that split a model's answer into content and
 * tool calls:
 *
 * - "hermes" (Hermes 2 Pro/3, Qwen 2.5/3): `<tool_call>{"name": ..., "arguments": {...}}</tool_call>`,
 *   any number of blocks;
 * - "llama3" (Llama 3.1/3.2/3.3): a JSON object `{"name": ..., "parameters": {...}}` (several
 *   separated by `;`), optionally after `<|python_tag|>`, or a built-in call
 *   `<|python_tag|>brave_search.call(query="...")`;
 * - "mistral" (Nemo, Small): `[TOOL_CALLS][{"name": ..., "arguments": {...}, "id": ...}]` or
 *   the newer `[TOOL_CALLS]name[ARGS]{...}`;
 * - "generic" (any other template): the whole answer is `{"tool_call": {...}}`,
 *   `{"tool_calls": [...]}` or `{"response": "..."}`.
 *
 * Text that looks like a call but does not parse stays content (the model's output is never
 * dropped).
 *
 * @module
 */

/** A template family's tool-call format. */
export type ToolCallFamily = "hermes" | "llama3" | "mistral" | "generic";

/** One call the model asked for. */
export interface ToolCall {
  /** The function name. */
  name: string;
  /** The parsed arguments (an object for well-formed calls). */
  arguments: unknown;
  /** The call id when the format carries one (Mistral). */
  id?: string;
}

/** A model answer split into text and calls. */
export interface ParsedAnswer {
  content: string;
  toolCalls: ToolCall[];
}

/** The tool-call family a chat template uses (the generic JSON format when unknown). */
export function detectToolCallFamily(template: string | undefined): ToolCallFamily {
  const t = template ?? "";
  if (t.includes("<tool_call>")) return "hermes";
  if (t.includes("[TOOL_CALLS]")) return "mistral";
  if (
    t.includes("<|start_header_id|>") && (t.includes("ipython") || t.includes("<|python_tag|>"))
  ) {
    return "llama3";
  }
  return "generic";
}

/** End (exclusive) of the JSON object or array starting at `start`, or -1 if unbalanced. */
export function jsonEnd(text: string, start: number): number {
  const open = text[start];
  if (open !== "{" && open !== "[") return -1;
  let depth = 0, inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") {
      if (--depth === 0) return i + 1;
    }
  }
  return -1;
}

function parseJsonAt(text: string, start: number): [unknown, number] | undefined {
  const end = jsonEnd(text, start);
  if (end < 0) return undefined;
  try {
    return [JSON.parse(text.slice(start, end)), end];
  } catch {
    return undefined;
  }
}

function isObj(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/** `{name, arguments | parameters}` → ToolCall (arguments given as a JSON string are parsed). */
function toCall(x: unknown): ToolCall | undefined {
  if (!isObj(x) || typeof x.name !== "string") return undefined;
  let args = x.arguments ?? x.parameters ?? {};
  if (typeof args === "string") {
    try {
      args = JSON.parse(args);
    } catch {
      return undefined;
    }
  }
  const call: ToolCall = { name: x.name, arguments: args };
  if (typeof x.id === "string") call.id = x.id;
  return call;
}

function parseHermes(text: string): ParsedAnswer {
  const calls: ToolCall[] = [];
  let content = "", at = 0;
  const OPEN = "<tool_call>", CLOSE = "</tool_call>";
  for (;;) {
    const k = text.indexOf(OPEN, at);
    if (k < 0) break;
    let j = k + OPEN.length;
    while (/\s/.test(text[j] ?? "")) j++;
    const parsed = parseJsonAt(text, j);
    const call = parsed && toCall(parsed[0]);
    if (!parsed || !call) break;
    let e = parsed[1];
    while (/\s/.test(text[e] ?? "")) e++;
    if (text.startsWith(CLOSE, e)) e += CLOSE.length;
    else if (e < text.length) break;
    content += text.slice(at, k);
    calls.push(call);
    at = e;
  }
  content += text.slice(at);
  return { content: content.trim(), toolCalls: calls };
}

const PY_TAG = "<|python_tag|>";

/** `name.call(key="v", n=1)` → ToolCall. */
function builtinCall(s: string): ToolCall | undefined {
  const m = /^([A-Za-z_][\w]*)\.call\((.*)\)\s*$/s.exec(s.trim());
  if (!m) return undefined;
  const args: Record<string, unknown> = {};
  const re =
    /\s*([A-Za-z_]\w*)\s*=\s*("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|true|false|null)\s*(,|$)/gy;
  let k = 0;
  while (k < m[2].length) {
    re.lastIndex = k;
    const a = re.exec(m[2]);
    if (!a) return undefined;
    args[a[1]] = JSON.parse(a[2]);
    k = re.lastIndex;
  }
  return { name: m[1], arguments: args };
}

function parseLlama3(text: string): ParsedAnswer {
  let s = text.trim();
  const tagged = s.startsWith(PY_TAG);
  if (tagged) s = s.slice(PY_TAG.length).trim();
  if (tagged && !s.startsWith("{")) {
    const call = builtinCall(s);
    return call ? { content: "", toolCalls: [call] } : { content: text.trim(), toolCalls: [] };
  }
  const calls: ToolCall[] = [];
  let at = 0;
  while (at < s.length) {
    const parsed = s[at] === "{" ? parseJsonAt(s, at) : undefined;
    const call = parsed && toCall(parsed[0]);
    if (!parsed || !call) return { content: text.trim(), toolCalls: [] };
    calls.push(call);
    at = parsed[1];
    while (at < s.length && /[\s;]/.test(s[at])) at++;
  }
  return { content: "", toolCalls: calls };
}

function parseMistral(text: string): ParsedAnswer {
  const TAG = "[TOOL_CALLS]";
  const k = text.indexOf(TAG);
  if (k < 0) return { content: text.trim(), toolCalls: [] };
  const before = text.slice(0, k);
  const rest = text.slice(k + TAG.length).trimStart();
  const fail = { content: text.trim(), toolCalls: [] };
  if (rest.startsWith("[")) {
    const parsed = parseJsonAt(rest, 0);
    if (!parsed || !Array.isArray(parsed[0])) return fail;
    const calls = parsed[0].map(toCall);
    if (calls.some((c) => !c)) return fail;
    return { content: (before + rest.slice(parsed[1])).trim(), toolCalls: calls as ToolCall[] };
  }
  const calls: ToolCall[] = [];
  let s = rest;
  for (;;) {
    const m = /^([A-Za-z_][\w.-]*)\[ARGS\]/.exec(s);
    if (!m) break;
    const parsed = parseJsonAt(s, m[0].length);
    if (!parsed) return fail;
    calls.push({ name: m[1], arguments: parsed[0] });
    s = s.slice(parsed[1]).trimStart();
    if (s.startsWith(TAG)) s = s.slice(TAG.length).trimStart();
  }
  return calls.length ? { content: (before + s).trim(), toolCalls: calls } : fail;
}

function parseGeneric(text: string): ParsedAnswer {
  const s = text.trim();
  const parsed = s.startsWith("{") ? parseJsonAt(s, 0) : undefined;
  if (!parsed || parsed[1] !== s.length || !isObj(parsed[0])) return { content: s, toolCalls: [] };
  const o = parsed[0];
  if (typeof o.response === "string") return { content: o.response, toolCalls: [] };
  const list = Array.isArray(o.tool_calls) ? o.tool_calls : o.tool_call ? [o.tool_call] : [o];
  const calls = list.map(toCall);
  if (calls.length === 0 || calls.some((c) => !c)) return { content: s, toolCalls: [] };
  return { content: "", toolCalls: calls as ToolCall[] };
}

/** Splits a complete model answer into content and tool calls for `family`. */
export function parseToolCalls(text: string, family: ToolCallFamily): ParsedAnswer {
  switch (family) {
    case "hermes":
      return parseHermes(text);
    case "llama3":
      return parseLlama3(text);
    case "mistral":
      return parseMistral(text);
    case "generic":
      return parseGeneric(text);
  }
}
