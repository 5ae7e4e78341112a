/**
 * ROCmForge command-line entry: `deno task cli <command> [flags]`.
 *
 * Commands live one per file and register themselves (see command.ts); adding one is a
 * single import line below. With no arguments or `--help` the CLI lists the commands;
 * `<command> --help` prints that command's usage. Errors print one line to stderr,
 * `error [CODE]: message` (the stack too with `--debug`); usage errors exit with 2, other
 * errors with 1. Dispatch itself lives in dispatch.ts.
 *
 * @module
 */
import { args, exit } from "../runtime/host.ts";
import { runCli } from "./dispatch.ts";

// Commands: one import each.
import "./chat.ts";
import "./context.ts";
import "./devices.ts";
import "./generate.ts";
import "./inspect.ts";
import "./models.ts";
import "./score.ts";
import "./serve.ts";
import "./tokenize.ts";

export { runCli };

if (import.meta.main) exit(await runCli(args()));
