/**
 * CLI dispatch: finds the command named by the first argument and runs it, handling `--help`,
 * `--debug`, usage errors (exit 2) and other errors (exit 1, one line `error [CODE]: message`
 * on stderr). Commands are registered by main.ts; this module imports none, so it can be
 * tested on its own.
 *
 * @module
 */
import { RocmForgeError } from "../core/errors.ts";
import { isTerminal, readStdin, writeStderr, writeStdout } from "../runtime/host.ts";
import { UsageError } from "./args.ts";
import { type CommandIO, findCommand, listCommands } from "./command.ts";

/** Program name in usage text. */
export const PROGRAM = "rocmforge";

/** The process's standard streams. */
export const hostIO: CommandIO = {
  stdout: writeStdout,
  stderr: writeStderr,
  readStdin,
  tty: { stdin: isTerminal("stdin"), stdout: isTerminal("stdout"), stderr: isTerminal("stderr") },
};

/** Usage text listing every registered command. */
export function mainUsage(): string {
  const cmds = listCommands();
  const width = Math.max(0, ...cmds.map((c) => c.name.length));
  return [
    `usage: ${PROGRAM} [--debug] <command> [flags]`,
    "",
    "commands:",
    ...cmds.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    `Run '${PROGRAM} <command> --help' for a command's flags. --debug prints error stacks.`,
    "",
  ].join("\n");
}

/** One-line error text (plus the stack when `debug`). */
export function formatError(e: unknown, debug: boolean): string {
  let code = "INTERNAL";
  let message = String(e);
  if (e instanceof RocmForgeError) code = e.code;
  else if (e instanceof Error && "code" in e && typeof e.code === "string") {
    code = e.code; // e.g. ENOENT from the file system
  }
  if (e instanceof Error) message = e.message;
  const line = `error [${code}]: ${message.replace(/\s*\n\s*/g, " ")}\n`;
  return debug && e instanceof Error && e.stack ? line + e.stack + "\n" : line;
}

const isHelp = (a: string) => a === "--help" || a === "-h";

/** Runs the CLI on `argv` (arguments after the program) and returns the exit status. */
export async function runCli(argv: readonly string[], io: CommandIO = hostIO): Promise<number> {
  const end = argv.indexOf("--");
  const flagPart = end < 0 ? argv : argv.slice(0, end);
  const debug = flagPart.includes("--debug");
  const rest = [...flagPart.filter((a) => a !== "--debug"), ...(end < 0 ? [] : argv.slice(end))];
  try {
    if (rest.length === 0 || isHelp(rest[0])) {
      io.stdout(mainUsage());
      return 0;
    }
    const name = rest[0];
    const cmd = findCommand(name);
    if (!cmd) {
      throw new UsageError(
        name.startsWith("-") ? `unknown flag ${name}` : `unknown command ${name}`,
        { actual: name, expected: listCommands().map((c) => c.name) },
      );
    }
    const cmdArgs = rest.slice(1);
    const cmdEnd = cmdArgs.indexOf("--");
    if ((cmdEnd < 0 ? cmdArgs : cmdArgs.slice(0, cmdEnd)).some(isHelp)) {
      io.stdout(`usage: ${PROGRAM} ${cmd.usage}\n`);
      return 0;
    }
    return await cmd.run(cmdArgs, io);
  } catch (e) {
    io.stderr(formatError(e, debug));
    if (e instanceof UsageError) {
      io.stderr(`Run '${PROGRAM} --help' for usage.\n`);
      return 2;
    }
    return 1;
  }
}
