/**
 * The output items of a /v1/responses answer and the server-sent events that build them, as
 * OpenAI names them: a message item (`response.output_item.added`,
 * `response.content_part.added`, `response.output_text.delta`..., `response.output_text.done`,
 * `response.content_part.done`, `response.output_item.done`) and one `function_call` item per
 * call (`response.output_item.added` with the call's id and name as soon as the name is
 * written, `response.function_call_arguments.delta`... as its arguments are generated,
 * `response.function_call_arguments.done`, `response.output_item.done`). Items are numbered
 * in the order they are opened; a message is closed when a call opens.
 *
 * @module
 */
import type { ResponseObject } from "./schemas.ts";
import type { ToolCallDelta } from "./schemas.ts";

/** One output item. */
export type OutputItem = ResponseObject["output"][number];
/** An item's status. */
export type ItemStatus = OutputItem["status"];
/** One server-sent event (its `type`, `sequence_number` and fields). */
export type ResponseEvent = Record<string, unknown> & { type: string; sequence_number: number };

function newId(prefix: string): string {
  return `${prefix}_${crypto.randomUUID().replaceAll("-", "")}`;
}

/** A message item holding `text`. */
export function messageItem(text: string, status: ItemStatus, id = newId("msg")): OutputItem {
  return {
    type: "message",
    id,
    status,
    role: "assistant",
    content: [{ type: "output_text", text, annotations: [] }],
  };
}

/** A function_call item. */
export function callItem(
  callId: string,
  name: string,
  args: string,
  status: ItemStatus,
  id = newId("fc"),
): OutputItem {
  return { type: "function_call", id, call_id: callId, name, arguments: args, status };
}

interface Open {
  readonly index: number;
  readonly id: string;
  text: string;
}

/** Builds the output items of one streamed answer and the events that announce them. */
export class ResponseOutput {
  #seq = 0;
  readonly #items: OutputItem[] = [];
  #message: Open | undefined;
  /** The open calls by their index among the answer's calls, with their call id and name. */
  readonly #calls = new Map<number, Open & { callId: string; name: string }>();

  /** An event with the next sequence number. */
  event(type: string, fields: Record<string, unknown>): ResponseEvent {
    return { type, sequence_number: this.#seq++, ...fields };
  }

  /** The items so far (open ones "in_progress"). */
  get items(): readonly OutputItem[] {
    return this.#items;
  }

  /** Opens the message item (at the start of an answer without tools). */
  *openMessage(): Generator<ResponseEvent> {
    if (this.#message) return;
    const id = newId("msg");
    const index = this.#items.length;
    this.#message = { index, id, text: "" };
    this.#items.push(messageItem("", "in_progress", id));
    const item = { type: "message", id, status: "in_progress", role: "assistant", content: [] };
    yield this.event("response.output_item.added", { output_index: index, item });
    yield this.event("response.content_part.added", {
      item_id: id,
      output_index: index,
      content_index: 0,
      part: { type: "output_text", text: "", annotations: [] },
    });
  }

  /** Content text: into the open message (opened if needed). */
  *text(delta: string): Generator<ResponseEvent> {
    if (delta === "") return;
    yield* this.openMessage();
    const m = this.#message!;
    m.text += delta;
    yield this.event("response.output_text.delta", {
      item_id: m.id,
      output_index: m.index,
      content_index: 0,
      delta,
      logprobs: [],
    });
  }

  /** A piece of a call (see ToolCallDeltas): a new call item, or more of its arguments. */
  *call(d: ToolCallDelta): Generator<ResponseEvent> {
    let c = this.#calls.get(d.index);
    if (!c) {
      yield* this.#closeMessage("completed");
      const id = newId("fc");
      c = { index: this.#items.length, id, text: "", callId: d.id!, name: d.function.name! };
      this.#calls.set(d.index, c);
      const item = callItem(c.callId, c.name, "", "in_progress", id);
      this.#items.push(item);
      yield this.event("response.output_item.added", { output_index: c.index, item });
    }
    const delta = d.function.arguments ?? "";
    if (delta === "") return;
    c.text += delta;
    yield this.event("response.function_call_arguments.delta", {
      item_id: c.id,
      output_index: c.index,
      delta,
    });
  }

  *#closeMessage(status: ItemStatus): Generator<ResponseEvent> {
    const m = this.#message;
    if (!m) return;
    this.#message = undefined;
    const where = { item_id: m.id, output_index: m.index, content_index: 0 };
    yield this.event("response.output_text.done", { ...where, text: m.text, logprobs: [] });
    yield this.event("response.content_part.done", {
      ...where,
      part: { type: "output_text", text: m.text, annotations: [] },
    });
    const item = messageItem(m.text, status, m.id);
    this.#items[m.index] = item;
    yield this.event("response.output_item.done", { output_index: m.index, item });
  }

  /** Closes every open item with `status`; an answer with no item gets an empty message. */
  *finish(status: ItemStatus): Generator<ResponseEvent> {
    if (this.#items.length === 0) yield* this.openMessage();
    yield* this.#closeMessage(status);
    for (const c of this.#calls.values()) {
      yield this.event("response.function_call_arguments.done", {
        item_id: c.id,
        output_index: c.index,
        arguments: c.text,
      });
      const item = callItem(c.callId, c.name, c.text, status, c.id);
      this.#items[c.index] = item;
      yield this.event("response.output_item.done", { output_index: c.index, item });
    }
    this.#calls.clear();
  }
}
