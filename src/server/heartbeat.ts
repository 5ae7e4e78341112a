/**
 * Long non-streamed answers that notice a gone client. Deno's HTTP server reports a client
 * that disconnects only when a write fails, so a request that computes for seconds before it
 * answers (a large embeddings request) would otherwise run to the end for nobody. When the
 * answer is not ready after `afterMs`, the response starts (status 200, JSON): a space is
 * written every `everyMs` (JSON allows leading whitespace) until the body follows; a failed
 * write cancels the body, which aborts the request's signal and so the work. An error after
 * the response started is sent as the OpenAI error body (the status stays 200).
 *
 * @module
 */
import { errorBody, toApiError } from "./errors.ts";

const enc = new TextEncoder();

/** Options of jsonWithHeartbeat. */
export interface HeartbeatOptions {
  /** Start streaming after this many ms without an answer (default 1000). */
  readonly afterMs?: number;
  /** Interval of the keep-alive spaces (default 500). */
  readonly everyMs?: number;
  /** Aborts the work when the client is gone (the body was cancelled). */
  readonly onCancel: () => void;
}

/** Answers `work()`'s value as JSON, streaming keep-alive spaces while it takes long. */
export async function jsonWithHeartbeat(
  work: Promise<unknown>,
  opts: HeartbeatOptions,
): Promise<Response> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((r) =>
    timer = setTimeout(() => r("late"), opts.afterMs ?? 1000)
  );
  const settled = work.then((v) => ({ v }), (e: unknown) => ({ e }));
  const first = await Promise.race([settled, late]);
  clearTimeout(timer);
  if (first !== "late") {
    if ("e" in first) throw first.e;
    return Response.json(first.v);
  }
  let beat: ReturnType<typeof setInterval> | undefined;
  const body = new ReadableStream<Uint8Array>({
    start(ctrl) {
      ctrl.enqueue(enc.encode(" "));
      beat = setInterval(() => {
        try {
          ctrl.enqueue(enc.encode(" "));
        } catch {
          clearInterval(beat);
        }
      }, opts.everyMs ?? 500);
      settled.then((r) => {
        clearInterval(beat);
        const out = "e" in r ? errorBody(toApiError(r.e)) : r.v;
        try {
          ctrl.enqueue(enc.encode(JSON.stringify(out)));
          ctrl.close();
        } catch {
          // cancelled meanwhile
        }
      });
    },
    cancel() {
      clearInterval(beat);
      opts.onCancel();
    },
  });
  return new Response(body, { status: 200, headers: { "content-type": "application/json" } });
}
