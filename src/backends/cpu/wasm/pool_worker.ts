/**
 * The kernel worker threads: each one instantiates the kernel module on the shared memory
 * with its own stack and then runs `rf_worker_main` (pool.c) until the pool exits, so a
 * job is handed over through shared memory and atomics alone.
 *
 * @module
 */
import { BackendError } from "../../../core/errors.ts";
import { type HostWorker, spawnWorker } from "../../../runtime/workers.ts";

/** Stack bytes of each worker instance. */
export const WORKER_STACK_BYTES = 65536;

// Runs in the worker (hostPost / hostOnMessage come from src/runtime/workers.ts).
const WORKER_SOURCE = `
hostOnMessage(async (m) => {
  try {
    const inst = await WebAssembly.instantiate(m.module, { env: { memory: m.memory } });
    inst.exports.__stack_pointer.value = m.stackTop;
    hostPost({ kind: "ready" });
    inst.exports.rf_worker_main(m.pool, m.gen);
    hostPost({ kind: "exited" });
  } catch (e) {
    hostPost({ kind: "error", message: String((e && e.stack) || e) });
  }
});
`;

/** What a worker needs to join the pool. */
export interface WorkerInit {
  readonly module: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
  /** Address of the rf_pool struct. */
  readonly pool: number;
  /** Top of this worker's stack (stacks grow down). */
  readonly stackTop: number;
  /** The pool generation when the worker starts. */
  readonly gen: number;
}

/** A started kernel worker; `exited` resolves when it returns from rf_worker_main. */
export interface KernelWorker {
  readonly worker: HostWorker;
  readonly exited: Promise<void>;
}

/** Starts a worker and resolves once it is inside rf_worker_main's loop (or about to be). */
export async function startKernelWorker(init: WorkerInit): Promise<KernelWorker> {
  const worker = spawnWorker(WORKER_SOURCE);
  let onExit: () => void = () => {};
  const exited = new Promise<void>((r) => onExit = r);
  worker.keepAlive(true);
  await new Promise<void>((resolve, reject) => {
    const fail = (why: string) => {
      worker.terminate();
      onExit();
      reject(new BackendError("BACKEND_UNAVAILABLE", `CPU kernel worker failed: ${why}`));
    };
    worker.onMessage((msg) => {
      const m = msg as { kind: string; message?: string };
      if (m.kind === "ready") resolve();
      else if (m.kind === "exited") onExit();
      else if (m.kind === "error") fail(m.message ?? "unknown error");
    });
    worker.onError((e) => fail(e.message));
    worker.post(init);
  }).finally(() => worker.keepAlive(false));
  return { worker, exited };
}
