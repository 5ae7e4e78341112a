/**
 * Newline-delimited JSON streams (ollama's streaming format): one JSON object per line,
 * pulled from an async iterator (a slow client slows the producer). An error thrown by the
 * iterator becomes a final `{"error": "..."}` line, as ollama sends it; cancelling the
 * stream (the client went away) runs `onCancel` and ends the iterator.
 *
 * @module
 */
import { ollamaErrorBody, toApiError } from "./errors.ts";
import type { SseOptions } from "./sse.ts";

const enc = new TextEncoder();

/** A streaming `application/x-ndjson` response of `events`. */
export function ndjsonResponse(
  events: AsyncIterable<unknown>,
  opts: Pick<SseOptions, "onCancel" | "onEnd"> = {},
): Response {
  const it = events[Symbol.asyncIterator]();
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    opts.onEnd?.();
  };
  const body = new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      try {
        const r = await it.next();
        if (ended) return;
        if (r.done) {
          ctrl.close();
          end();
        } else ctrl.enqueue(enc.encode(JSON.stringify(r.value) + "\n"));
      } catch (e) {
        if (ended) return;
        ctrl.enqueue(enc.encode(JSON.stringify(ollamaErrorBody(toApiError(e))) + "\n"));
        ctrl.close();
        end();
      }
    },
    cancel() {
      if (ended) return;
      opts.onCancel?.();
      it.return?.(undefined)?.catch(() => {});
      end();
    },
  }, { highWaterMark: 0 });
  return new Response(body, {
    status: 200,
    headers: { "content-type": "application/x-ndjson", "cache-control": "no-cache" },
  });
}
