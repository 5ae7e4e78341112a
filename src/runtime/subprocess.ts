/**
 * Child processes: run a command to completion and collect its exit code and output. Used
 * by build scripts (clang) and the benchmark (llama.cpp through Node).
 *
 * @module
 */
import { spawn } from "node:child_process";
import process from "node:process";

/** Outcome of a finished command. */
export interface CommandResult {
  /** Exit code; -1 when the command could not be started or died from a signal. */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of runCommand. */
export interface CommandOptions {
  readonly cwd?: string;
  /** Extra environment variables (added to the current environment). */
  readonly env?: Record<string, string>;
  /** Called with each chunk of stderr as it arrives (e.g. to show progress). */
  readonly onStderr?: (text: string) => void;
  /** Called with each chunk of stdout as it arrives. */
  readonly onStdout?: (text: string) => void;
}

/** Runs `cmd args...` and resolves when it exits. Never rejects: a spawn failure is code -1. */
export function runCommand(
  cmd: string,
  args: readonly string[],
  opts: CommandOptions = {},
): Promise<CommandResult> {
  return new Promise((resolve) => {
    let stdout = "";
    let stderr = "";
    let child;
    try {
      child = spawn(cmd, [...args], {
        cwd: opts.cwd,
        env: opts.env ? { ...process.env, ...opts.env } : undefined,
        stdio: ["ignore", "pipe", "pipe"],
      });
    } catch (e) {
      resolve({ code: -1, stdout, stderr: String(e) });
      return;
    }
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (d: string) => {
      stdout += d;
      opts.onStdout?.(d);
    });
    child.stderr.on("data", (d: string) => {
      stderr += d;
      opts.onStderr?.(d);
    });
    child.on("error", (e) => resolve({ code: -1, stdout, stderr: stderr + String(e) }));
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
