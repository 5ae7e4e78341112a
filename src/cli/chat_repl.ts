/**
 * The loop of `rocmforge chat`: reads a line, streams the answer to stdout, keeps the
 * conversation (ChatSession; the template is re-rendered every turn and the KV cache keeps the
 * common prefix). A line ending in `\` continues on the next one. Ctrl-C stops the answer
 * being written (it stays in the history as far as it got); a second Ctrl-C before the next
 * line exits, as does the end of input. Commands:
 *
 * ```text
 * /reset          forget the conversation (the system prompt stays)
 * /system [TEXT]  show or set the system prompt (the conversation stays)
 * /save FILE      write the conversation as OpenAI chat messages (JSON)
 * /help           list the commands
 * /exit, /quit    leave
 * ```
 *
 * @module
 */
import type { ChatPromptOptions, ChatSession } from "../chat/chat_session.ts";
import { RocmForgeError } from "../core/errors.ts";
import type { LineReader } from "../runtime/line_reader.ts";
import type { CommandIO } from "./command.ts";
import { formatError } from "./dispatch.ts";

/** What one REPL needs. */
export interface ReplDeps {
  chat: ChatSession;
  reader: LineReader;
  io: CommandIO;
  /** Per-turn options (sampling, maxTokens, responseFormat). */
  turn: Pick<ChatPromptOptions, "sampling" | "maxTokens" | "responseFormat">;
  /** Rewrites a question before it is asked (retrieval). */
  augment?: (question: string, signal: AbortSignal) => Promise<string>;
  /** Writes `/save` files. */
  save: (path: string, text: string) => void;
}

const HELP = "/reset  /system [TEXT]  /save FILE  /help  /exit   " +
  "(Ctrl-C stops an answer; twice exits; end a line with \\ to continue it)\n";

/** The conversation as OpenAI chat messages. */
export function savedConversation(chat: ChatSession): string {
  const messages = chat.history.map((m) => ({
    role: m.role,
    content: m.content,
    ...(m.toolCalls?.length
      ? {
        tool_calls: m.toolCalls.map((c) => ({
          id: c.id,
          type: "function",
          function: { name: c.name, arguments: JSON.stringify(c.arguments) },
        })),
      }
      : {}),
    ...(m.toolCallId !== undefined ? { tool_call_id: m.toolCallId } : {}),
  }));
  return JSON.stringify({ messages }, null, 2) + "\n";
}

/** Runs the loop until /exit, a second Ctrl-C or the end of input; returns the exit status. */
export async function chatRepl(d: ReplDeps): Promise<number> {
  const { chat, reader, io } = d;
  let answering: AbortController | undefined;
  let interrupts = 0;
  let leave!: () => void;
  const left = new Promise<undefined>((r) => leave = () => r(undefined));
  const off = reader.onInterrupt(() => {
    interrupts++;
    if (interrupts >= 2) {
      answering?.abort();
      leave();
    } else if (answering) {
      answering.abort();
      io.stderr("\n[stopped; Ctrl-C again to exit]\n");
    } else io.stderr("\n[Ctrl-C again to exit]\n");
  });
  const read = async (): Promise<string | undefined> => {
    let line = await Promise.race([reader.next("> "), left]);
    while (line !== undefined && line.endsWith("\\")) {
      const more = await Promise.race([reader.next(". "), left]);
      line = line.slice(0, -1) + "\n" + (more ?? "");
      if (more === undefined) break;
    }
    return line;
  };
  try {
    for (;;) {
      const line = await read();
      if (line === undefined || interrupts >= 2) return 0;
      interrupts = 0;
      const text = line.trim();
      if (text === "") continue;
      if (text.startsWith("/")) {
        const [cmd, ...rest] = text.split(/\s+/);
        const arg = text.slice(cmd.length).trim();
        if (cmd === "/exit" || cmd === "/quit") return 0;
        if (cmd === "/help") io.stdout(HELP);
        else if (cmd === "/reset") {
          chat.reset();
          io.stdout("[conversation cleared]\n");
        } else if (cmd === "/system") {
          if (arg === "") io.stdout(`[system: ${chat.systemPrompt ?? "(none)"}]\n`);
          else {
            chat.systemPrompt = arg;
            io.stdout("[system prompt set]\n");
          }
        } else if (cmd === "/save") {
          if (rest.length === 0) io.stderr("usage: /save FILE\n");
          else {
            try {
              d.save(arg, savedConversation(chat));
              io.stdout(`[saved ${chat.history.length} messages to ${arg}]\n`);
            } catch (e) {
              io.stderr(formatError(e, false));
            }
          }
        } else io.stderr(`unknown command ${cmd} (try /help)\n`);
        continue;
      }
      answering = new AbortController();
      try {
        const question = d.augment ? await d.augment(text, answering.signal) : text;
        const it = chat.stream(question, { ...d.turn, signal: answering.signal });
        let r = await it.next();
        while (!r.done) {
          io.stdout(r.value);
          r = await it.next();
        }
        io.stdout("\n");
        if (r.value.finishReason === "length") io.stderr("[answer cut at -n tokens]\n");
      } catch (e) {
        if (!(e instanceof RocmForgeError)) throw e;
        io.stdout("\n");
        io.stderr(formatError(e, false));
      } finally {
        answering = undefined;
      }
      if (interrupts >= 2) return 0;
    }
  } finally {
    off();
  }
}
