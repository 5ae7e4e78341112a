/**
 * Notices when the process that started this one goes away (a wrapper such as `deno task`
 * or `npx` killed without forwarding the signal): the parent pid then changes (the process is
 * re-parented to init or a subreaper). On Linux the current parent is read from
 * /proc/self/stat (Deno's `ppid` is fixed at start); elsewhere from Node's `process.ppid`.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import process from "node:process";

/** The current parent pid. */
export function currentParentPid(): number {
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ppid = Number(fields[1]);
    if (Number.isInteger(ppid)) return ppid;
  } catch {
    // not Linux: Node's process.ppid is read live
  }
  return process.ppid;
}

/**
 * Calls `fn` once when the parent process changes (checked every `intervalMs`); returns a
 * function that stops watching. Does nothing when started by init (pid 1) already. The timer
 * does not keep the process alive.
 */
export function onParentExit(fn: () => void, intervalMs = 500): () => void {
  const first = currentParentPid();
  if (first <= 1) return () => {};
  const timer = setInterval(() => {
    if (currentParentPid() === first) return;
    clearInterval(timer);
    fn();
  }, intervalMs);
  const t = timer as unknown as { unref?: () => void };
  if (typeof t.unref === "function") t.unref();
  else {(globalThis as { Deno?: { unrefTimer(id: number): void } }).Deno?.unrefTimer(
      timer as unknown as number,
    );}
  return () => clearInterval(timer);
}

/** This process's id. */
export function pid(): number {
  return process.pid;
}
