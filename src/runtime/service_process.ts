/**
 * A long-running child process (a server started for a side-by-side benchmark): started with
 * its output collected, stopped with SIGTERM (SIGKILL after a grace period). The caller polls
 * the service itself to know when it is ready; `exited` settles when the child ends.
 *
 * @module
 */
import { spawn } from "node:child_process";
import process from "node:process";

/** A running service child. */
export interface ServiceProcess {
  /** The exit code (-1 for a signal or a failed start) once the child has ended. */
  readonly exited: Promise<number>;
  /** The last `bytes` of its stdout and stderr together. */
  output(bytes?: number): string;
  /** SIGTERM, then SIGKILL after `graceMs` (default 5,000); resolves with the exit code. */
  stop(graceMs?: number): Promise<number>;
}

/** Starts `cmd args...` with stdin closed and stdout/stderr kept (the last 64 KiB). */
export function startService(cmd: string, args: readonly string[]): ServiceProcess {
  const child = spawn(cmd, [...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const keep = (d: string) => {
    out = (out + d).slice(-65536);
  };
  child.stdout.setEncoding("utf8");
  child.stderr.setEncoding("utf8");
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  let code: number | undefined;
  const exited = new Promise<number>((resolve) => {
    child.on("close", (c) => resolve(code = c ?? -1));
    child.on("error", (e) => {
      keep(String(e));
      resolve(code = -1);
    });
  });
  return {
    exited,
    output: (bytes = 4096) => out.slice(-bytes),
    async stop(graceMs = 5000) {
      if (code !== undefined) return code;
      child.kill("SIGTERM");
      // process.kill, not child.kill: a child already sent a signal ignores a second
      // child.kill under Deno's node:child_process.
      const timer = setTimeout(() => {
        if (code === undefined && child.pid !== undefined) process.kill(child.pid, "SIGKILL");
      }, graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
