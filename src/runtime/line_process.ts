/**
 * A child process driven line by line: write a command line to its stdin, read its answer
 * lines from stdout. Used by the benchmark to interleave its runs with llama.cpp's (through
 * a Node script) so both see the same machine load.
 *
 * @module
 */
import { spawn } from "node:child_process";

/** A running line-protocol child process. */
export interface LineProcess {
  /** Writes `line` and a newline to the child's stdin. */
  send(line: string): void;
  /** The next stdout line; rejects when the child exits first (with its stderr). */
  readLine(): Promise<string>;
  /** Closes stdin and waits for the exit code. */
  close(): Promise<number>;
}

/** Starts `cmd args...` with piped stdin/stdout (stderr collected for errors). */
export function startLineProcess(cmd: string, args: readonly string[]): LineProcess {
  const child = spawn(cmd, [...args], { stdio: ["pipe", "pipe", "pipe"] });
  const lines: string[] = [];
  const waiters: { resolve: (l: string) => void; reject: (e: Error) => void }[] = [];
  let buf = "";
  let stderr = "";
  let exitCode: number | undefined;
  const exited = new Promise<number>((resolve) => {
    const done = (code: number) => {
      exitCode = code;
      for (const w of waiters.splice(0)) {
        w.reject(new Error(`${cmd} exited (${code}) before answering:\n${stderr}`));
      }
      resolve(code);
    };
    child.on("close", (code) => done(code ?? -1));
    child.on("error", (e) => {
      stderr += String(e);
      done(-1);
    });
  });
  child.stdout.setEncoding("utf8");
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (d: string) => stderr += d);
  child.stdout.on("data", (d: string) => {
    buf += d;
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const w = waiters.shift();
      if (w) w.resolve(line);
      else lines.push(line);
    }
  });
  return {
    send(line) {
      child.stdin.write(line + "\n");
    },
    readLine() {
      const l = lines.shift();
      if (l !== undefined) return Promise.resolve(l);
      if (exitCode !== undefined) {
        return Promise.reject(new Error(`${cmd} exited (${exitCode}):\n${stderr}`));
      }
      return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
    },
    close() {
      child.stdin.end();
      return exited;
    },
  };
}
