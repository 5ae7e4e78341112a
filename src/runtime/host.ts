/**
 * Host services other than FFI and workers: files, environment, standard streams, process
 * exit and signals. node:* modules are used because they work under both Deno and Node.
 *
 * @module
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import process from "node:process";

/** Which JavaScript runtime is executing. */
export const RUNTIME: "deno" | "node" = "Deno" in globalThis ? "deno" : "node";

/** Reads a whole file. */
export function readFile(path: string): Uint8Array {
  const b = readFileSync(path);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** Reads a whole UTF-8 text file. */
export function readTextFile(path: string): string {
  return readFileSync(path, "utf8");
}

/** Writes a whole file. */
export function writeFile(path: string, data: Uint8Array | string): void {
  writeFileSync(path, data);
}

/** True when a path exists. */
export function pathExists(path: string): boolean {
  return existsSync(path);
}

/** An environment variable, or undefined. */
export function env(name: string): string | undefined {
  return process.env[name];
}

/** Command-line arguments after the script. */
export function args(): string[] {
  return RUNTIME === "deno"
    ? [...(globalThis as unknown as { Deno: { args: string[] } }).Deno.args]
    : process.argv.slice(2);
}

/** Writes text to stdout without a newline. */
export function writeStdout(text: string): void {
  process.stdout.write(text);
}

/** Writes text to stderr without a newline. */
export function writeStderr(text: string): void {
  process.stderr.write(text);
}

/** True when the standard stream is a terminal. */
export function isTerminal(stream: "stdin" | "stdout" | "stderr"): boolean {
  return Boolean((process[stream] as { isTTY?: boolean }).isTTY);
}

/** Columns of the terminal on stderr (80 when unknown). */
export function terminalColumns(): number {
  return (process.stderr as { columns?: number }).columns ?? 80;
}

/** Reads all of stdin as UTF-8. */
export async function readStdin(): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const c of process.stdin) {
    chunks.push(typeof c === "string" ? new TextEncoder().encode(c) : c);
  }
  let n = 0;
  for (const c of chunks) n += c.byteLength;
  const all = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) {
    all.set(c, o);
    o += c.byteLength;
  }
  return new TextDecoder().decode(all);
}

/** Ends the process (CLI top level only). */
export function exit(code: number): never {
  process.exit(code);
}

/** Runs `fn` on SIGINT/SIGTERM; returns a function that removes the handlers. */
export function onShutdownSignal(fn: (signal: string) => void): () => void {
  const h = (s: string) => fn(s);
  process.on("SIGINT", h);
  process.on("SIGTERM", h);
  return () => {
    process.off("SIGINT", h);
    process.off("SIGTERM", h);
  };
}

/** The user's home folder. */
export function homeDir(): string {
  return process.env.HOME ?? process.env.USERPROFILE ?? ".";
}

/** Total and free system memory in bytes. */
export async function systemMemory(): Promise<{ total: number; free: number }> {
  const os = await import("node:os");
  return { total: os.totalmem(), free: os.freemem() };
}

/** Number of logical CPUs. */
export async function cpuCount(): Promise<number> {
  const os = await import("node:os");
  return os.availableParallelism?.() ?? os.cpus().length;
}

/** Monotonic time in milliseconds. */
export function now(): number {
  return performance.now();
}
