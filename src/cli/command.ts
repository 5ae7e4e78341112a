/**
 * The CLI command contract and registry. A command file defines a `Command` and calls
 * `registerCommand` at its top level; main.ts then only needs `import "./that_file.ts";`.
 *
 * ```ts
 * export const fooCommand: Command = {
 *   name: "foo",
 *   summary: "does foo",
 *   usage: "foo FILE [--bar N]",
 *   async run(argv, io) { io.stdout("foo\n"); return 0; },
 * };
 * registerCommand(fooCommand);
 * ```
 *
 * @module
 */
import { InvalidArgumentError } from "../core/errors.ts";

/** Where a command writes; injected so tests can capture output without spawning. */
export interface CommandIO {
  /** Writes text to standard output (no newline added). */
  stdout(text: string): void;
  /** Writes text to standard error (no newline added). */
  stderr(text: string): void;
  /** Reads all of standard input (absent: there is none). */
  readStdin?(): Promise<string>;
  /** Which streams are terminals (absent: none), e.g. for progress bars and dimmed echo. */
  readonly tty?: { readonly stdin: boolean; readonly stdout: boolean; readonly stderr: boolean };
}

/** One CLI command. */
export interface Command {
  /** The word after the program name, e.g. "inspect". */
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** Usage text shown by `<command> --help`: a synopsis line, then flag help. */
  readonly usage: string;
  /**
   * Runs with the arguments after the command name (`--help` and `--debug` are handled by
   * the CLI and never reach it). Returns the exit status; throws typed errors, which the CLI
   * prints as `error [CODE]: message` (a UsageError exits with 2).
   */
  run(argv: string[], io: CommandIO): Promise<number>;
}

const registry = new Map<string, Command>();

/** Adds a command; a second command with the same name is an error. */
export function registerCommand(cmd: Command): void {
  if (!/^[a-z][a-z0-9-]*$/.test(cmd.name)) {
    throw new InvalidArgumentError(`command name ${cmd.name} must be lower-case words`, {
      actual: cmd.name,
    });
  }
  if (registry.has(cmd.name)) {
    throw new InvalidArgumentError(`command ${cmd.name} is registered twice`, {
      actual: cmd.name,
    });
  }
  registry.set(cmd.name, cmd);
}

/** A registered command by name. */
export function findCommand(name: string): Command | undefined {
  return registry.get(name);
}

/** All registered commands, sorted by name. */
export function listCommands(): Command[] {
  return [...registry.values()].sort((a, b) => a.name.localeCompare(b.name));
}
