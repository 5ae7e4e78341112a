/**
 * Host threads: a worker started from JavaScript source text through `node:worker_threads`,
 * which Node provides and Deno implements (on its Web Workers), so one code path serves both.
 * Messages may carry SharedArrayBuffers, shared `WebAssembly.Memory` objects and
 * `WebAssembly.Module`s, which are shared with the worker instead of copied.
 *
 * The source runs as a classic script with two globals defined by a prelude:
 * `hostPost(msg)` sends a message to the creator and `hostOnMessage(fn)` receives the
 * creator's messages. Workers are unref'd: a worker blocked in `Atomics.wait` (or in
 * WebAssembly) does not keep the process alive.
 *
 * @module
 */
import { Worker } from "node:worker_threads";

/** A running worker. */
export interface HostWorker {
  /** Sends a message (structured clone; shared memory is shared). */
  post(msg: unknown): void;
  /** Receives the worker's messages. */
  onMessage(fn: (msg: unknown) => void): void;
  /** Receives an uncaught error of the worker. */
  onError(fn: (err: Error) => void): void;
  /** Whether the worker keeps the process alive (default false); turn on while awaiting it. */
  keepAlive(on: boolean): void;
  /** Stops the worker. */
  terminate(): void;
}

const PRELUDE = `const { parentPort: __rfPort } = require("node:worker_threads");
const hostPost = (m) => __rfPort.postMessage(m);
const hostOnMessage = (fn) => { __rfPort.on("message", fn); };
`;

/** Starts a worker running `source` (plain JavaScript using `hostPost`/`hostOnMessage`). */
export function spawnWorker(source: string): HostWorker {
  const w = new Worker(PRELUDE + source, { eval: true });
  w.unref();
  return {
    post: (m) => w.postMessage(m),
    onMessage: (fn) => {
      w.on("message", fn);
    },
    onError: (fn) => {
      w.on("error", fn);
    },
    keepAlive: (on) => on ? w.ref() : w.unref(),
    terminate: () => {
      void w.terminate();
    },
  };
}
