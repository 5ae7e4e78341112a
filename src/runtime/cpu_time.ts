/**
 * CPU time of this process (user + system, all threads), for benchmarks that must not count
 * the time other processes on a shared machine take from them.
 *
 * @module
 */
import process from "node:process";

/** Milliseconds of CPU time this process has used so far. */
export function processCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}
