/**
 * Helpers of the server suites: load stories260K once, start a real server on 127.0.0.1
 * at an ephemeral port (in-process, through src/runtime/http_server.ts), compute greedy
 * reference text through the engine API, read SSE streams and metrics.
 *
 * @module
 */
import { loadModel } from "../src/api.ts";
import { generate } from "../src/core/generate.ts";
import type { Model } from "../src/core/model.ts";
import { Session } from "../src/core/session.ts";
import { serveHttp } from "../src/runtime/http_server.ts";
import { createApp } from "../src/server/app.ts";
import { Engine, type EngineOptions } from "../src/server/engine.ts";
import { parseMetrics } from "../src/server/metrics.ts";
import { sharedPath } from "./shared_data.ts";

/** Parsed JSON of a response whose shape the test asserts field by field. */
// deno-lint-ignore no-explicit-any
export type Json = any;

/** The test model. */
export const MODEL_PATH: string = sharedPath("models", "stories260K.gguf");

let cached: Promise<Model> | undefined;

/** Loads the test model once per process (CPU backend, quiet). */
export function testModel(): Promise<Model> {
  cached ??= loadModel(MODEL_PATH, { backend: "cpu", log: () => {} });
  return cached;
}

/** A running in-process server. */
export interface TestServer {
  readonly url: string;
  readonly engine: Engine;
  /** Shuts the engine down (the shared model stays loaded) and closes the listener. */
  close(): Promise<void>;
}

/** Starts a server for the test model with the given engine options. */
export async function startServer(opts: EngineOptions = {}): Promise<TestServer> {
  const engine = new Engine(opts);
  engine.attach(await testModel());
  const server = await serveHttp(createApp({ engine }).fetch, { hostname: "127.0.0.1", port: 0 });
  return {
    url: server.url,
    engine,
    async close() {
      const closing = server.close();
      await engine.shutdown({ graceMs: 0, disposeModel: false });
      await closing;
    },
  };
}

/** Greedy text of `prompt` (a string, tokenized as generate() does, or token ids). */
export async function greedyText(
  prompt: string | readonly number[],
  maxTokens: number,
  contextLength?: number,
): Promise<{ text: string; promptTokens: number; completionTokens: number; finish: string }> {
  const model = await testModel();
  const session = new Session(model, { contextLength });
  try {
    const it = generate(session, prompt, { maxTokens, sampling: { temperature: 0 } });
    let r = await it.next();
    while (!r.done) r = await it.next();
    return {
      text: r.value.text,
      promptTokens: r.value.promptTokens,
      completionTokens: r.value.completionTokens,
      finish: r.value.finishReason,
    };
  } finally {
    session.dispose();
  }
}

/** POSTs JSON (or a raw string body) and returns status and parsed body. */
export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Json; headers: Headers }> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** Parses the `data:` events of an SSE body; stops at `[DONE]` (included as the string). */
export async function* sseEvents(res: Response): AsyncGenerator<Json> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  while (true) {
    const { done, value } = await reader.read();
    if (done) return;
    buf += value;
    let i: number;
    while ((i = buf.indexOf("\n\n")) >= 0) {
      const ev = buf.slice(0, i);
      buf = buf.slice(i + 2);
      for (const line of ev.split("\n")) {
        if (!line.startsWith("data: ")) continue;
        const data = line.slice(6);
        if (data === "[DONE]") {
          yield data;
          return;
        }
        yield JSON.parse(data);
      }
    }
  }
}

/** Current metrics as `name{labels}` -> value. */
export async function metrics(
  url: string,
  headers: Record<string, string> = {},
): Promise<Map<string, number>> {
  const res = await fetch(`${url}/metrics`, { headers });
  return parseMetrics(await res.text());
}

/** Polls `cond` every 10 ms until it holds or `ms` pass (then throws naming `what`). */
export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, ms = 30000) {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A CLI child process. */
export interface CliProcess {
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves with the first match of `re` in stderr (rejects after `ms`). */
  waitFor(re: RegExp, ms?: number): Promise<RegExpMatchArray>;
  signal(sig: "SIGINT" | "SIGTERM"): void;
  /** Exit status. */
  readonly exited: Promise<number | null>;
}

/** Runs `deno run -A src/cli/main.ts ...args` (Deno only). */
export async function spawnCli(args: string[]): Promise<CliProcess> {
  const { spawn } = await import("node:child_process");
  const { default: process } = await import("node:process");
  const main = new URL("../src/cli/main.ts", import.meta.url).pathname;
  const child = spawn(process.execPath, ["run", "-A", main, ...args], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let err = "";
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (d: string) => err += d);
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  return {
    stderr: () => err,
    async waitFor(re, ms = 20000) {
      let m: RegExpMatchArray | null = null;
      await waitFor(`stderr to match ${re}: ${err}`, () => (m = err.match(re)) !== null, ms);
      return m!;
    },
    // process.kill, not child.kill: Deno's child_process reports a child it signalled itself
    // as killed (exit code null) even when the child handled the signal and exited 0.
    signal: (sig) => {
      if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, sig);
    },
    exited,
  };
}
