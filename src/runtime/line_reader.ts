/**
 * Lines from stdin for an interactive loop (the CLI's `chat`): on a terminal with line
 * editing and history (node:readline), from a pipe one line at a time; and Ctrl-C as an event
 * (SIGINT, or ^C typed while the terminal is in line-editing mode) instead of an exit.
 *
 * @module
 */
import process from "node:process";
import { createInterface, type Interface } from "node:readline";

/** A source of input lines. */
export interface LineReader {
  /** The next line (without its newline), or undefined at the end of input. */
  next(prompt: string): Promise<string | undefined>;
  /** Calls `fn` on each Ctrl-C until the returned function is called. */
  onInterrupt(fn: () => void): () => void;
  /** Stops reading (restores the terminal). */
  close(): void;
}

/** Reads stdin line by line (a prompt is shown only on a terminal). */
export function stdinLineReader(): LineReader {
  const tty = process.stdin.isTTY === true;
  const rl: Interface = createInterface({
    input: process.stdin,
    output: tty ? process.stdout : undefined,
    terminal: tty,
    historySize: 200,
  });
  const lines: string[] = [];
  const waiting: ((l: string | undefined) => void)[] = [];
  let ended = false;
  rl.on("line", (l) => {
    const w = waiting.shift();
    if (w) w(l);
    else lines.push(l);
  });
  rl.on("close", () => {
    ended = true;
    for (const w of waiting.splice(0)) w(undefined);
  });
  const handlers = new Set<() => void>();
  const fire = () => {
    for (const h of [...handlers]) h();
  };
  rl.on("SIGINT", fire);
  process.on("SIGINT", fire);
  return {
    next(prompt) {
      if (lines.length) return Promise.resolve(lines.shift());
      if (ended) return Promise.resolve(undefined);
      if (tty) {
        rl.setPrompt(prompt);
        rl.prompt();
      }
      return new Promise((resolve) => waiting.push(resolve));
    },
    onInterrupt(fn) {
      handlers.add(fn);
      return () => handlers.delete(fn);
    },
    close() {
      process.off("SIGINT", fire);
      rl.close();
    },
  };
}
