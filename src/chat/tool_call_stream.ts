/**
 * Streaming split of an answer into content and tool calls: text is released as content as
 * soon as it can no longer be the start of a call (a partial `<tool_call>` marker is held
 * back), and the calls are parsed when the answer ends. A generic-format answer
 * `{"response": "..."}` releases the string's text as it arrives. Plus the OpenAI shape of
 * calls, for `message.tool_calls` and streamed `delta.tool_calls`.
 *
 * @module
 */
import { type CallDelta, CallScanner } from "./tool_call_args.ts";
import { parseToolCalls, type ToolCall, type ToolCallFamily } from "./tool_calls.ts";

const MARKERS: Record<ToolCallFamily, string[]> = {
  hermes: ["<tool_call>"],
  mistral: ["[TOOL_CALLS]"],
  llama3: ["<|python_tag|>"],
  generic: [],
};

/** What {@link ToolCallStream.finish} returns. */
export interface StreamEnd {
  /** The calls of the whole answer. */
  toolCalls: ToolCall[];
  /** Content not yet released by push() (held text that turned out not to be a call). */
  rest: string;
}

const ESCAPES: Record<string, string> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

/**
 * The decoded text of the JSON string whose body starts at `start`, as far as it is complete
 * (an escape cut short, or a lone high surrogate, waits for the rest).
 */
export function jsonStringPrefix(text: string, start: number): string {
  let out = "";
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (c === '"') break;
    if (c !== "\\") {
      out += c;
      continue;
    }
    const e = text[i + 1];
    if (e === undefined) break;
    if (e === "u") {
      const hex = text.slice(i + 2, i + 6);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) break;
      out += String.fromCharCode(parseInt(hex, 16));
      i += 5;
    } else {
      out += ESCAPES[e] ?? e;
      i++;
    }
  }
  const last = out.charCodeAt(out.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? out.slice(0, -1) : out;
}

const RESPONSE_HEAD = /^\s*\{\s*"response"\s*:\s*"/;

/** Incremental content/tool-call splitter for one answer. */
export class ToolCallStream {
  readonly family: ToolCallFamily;
  #text = "";
  #released = 0;
  #inCall = false;
  /** Decided: the answer does not start with JSON. */
  #plain = false;
  /** A generic `{"response": "` answer: where its string starts, and how much of it is out. */
  #response = -1;
  #responseShown = 0;
  readonly #scanner = new CallScanner();

  constructor(family: ToolCallFamily) {
    this.family = family;
  }

  /** Adds a piece of the answer; returns the content that is now safe to show. */
  push(delta: string): string {
    this.#text += delta;
    if (this.#inCall) return this.#responseText();
    const t = this.#text;
    // Generic answers are one JSON value; Llama 3 calls may be bare JSON at the start.
    if ((this.family === "generic" || this.family === "llama3") && !this.#plain) {
      const head = t.trimStart();
      if (head === "") return "";
      if (head.startsWith("{")) {
        this.#inCall = true;
        return this.#responseText();
      }
      this.#plain = true;
    }
    let safe = t.length;
    for (const m of MARKERS[this.family]) {
      const k = t.indexOf(m, this.#released);
      if (k >= 0) {
        safe = Math.min(safe, k);
        this.#inCall = true;
        continue;
      }
      // Hold back a suffix that may grow into the marker.
      for (let n = Math.min(m.length - 1, t.length - this.#released); n > 0; n--) {
        if (m.startsWith(t.slice(t.length - n))) {
          safe = Math.min(safe, t.length - n);
          break;
        }
      }
    }
    const out = t.slice(this.#released, safe);
    this.#released = Math.max(this.#released, safe);
    return out;
  }

  /**
   * The calls' new pieces since the last call (see tool_call_args.ts): a call's name as soon
   * as it is written, then its arguments text as it grows.
   */
  callDeltas(): CallDelta[] {
    if (!this.#inCall || this.#response >= 0) return [];
    return this.#scanner.scan(this.#text, this.#released);
  }

  /** Calls whose deltas have started. */
  get callsStarted(): number {
    return this.#scanner.started;
  }

  /** The new text of a generic `{"response": "..."}` answer's string ("" otherwise). */
  #responseText(): string {
    if (this.family !== "generic") return "";
    if (this.#response < 0) {
      const m = RESPONSE_HEAD.exec(this.#text);
      if (!m) return "";
      this.#response = m[0].length;
    }
    const text = jsonStringPrefix(this.#text, this.#response);
    const out = text.slice(this.#responseShown);
    this.#responseShown = text.length;
    return out;
  }

  /** Ends the answer: the calls, and any content still held back. */
  finish(): StreamEnd {
    const parsed = parseToolCalls(this.#text, this.family);
    if (parsed.toolCalls.length > 0) return { toolCalls: parsed.toolCalls, rest: "" };
    if (this.#response >= 0) {
      // Shown already: the response string so far (the whole of it when the JSON is complete).
      const whole = parsed.content !== this.#text.trim()
        ? parsed.content
        : jsonStringPrefix(this.#text, this.#response);
      return { toolCalls: [], rest: whole.slice(this.#responseShown) };
    }
    // A generic JSON answer is {"response": ...}: its content is the text to show.
    const json = this.#inCall && this.family === "generic";
    return { toolCalls: [], rest: json ? parsed.content : this.#text.slice(this.#released) };
  }
}

/** One call in OpenAI's shape (`arguments` is a JSON string). */
export interface OpenAIToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/** Calls in OpenAI's shape; ids are the model's (Mistral) or `call_<prefix>_<index>`. */
export function toOpenAIToolCalls(calls: readonly ToolCall[], idPrefix: string): OpenAIToolCall[] {
  return calls.map((c, i) => ({
    id: c.id ?? `call_${idPrefix}_${i}`,
    type: "function",
    function: { name: c.name, arguments: JSON.stringify(c.arguments) },
  }));
}
