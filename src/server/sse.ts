/**
 * Server-sent events in OpenAI's streaming format: one `data: <json>` event per chunk, then
 * `data: [DONE]`. The stream pulls from an async iterator (so a slow client slows the
 * producer instead of buffering), and cancelling it (the client went away) runs `onCancel`
 * and ends the iterator.
 *
 * @module
 */
import { type ApiError, errorBody, toApiError } from "./errors.ts";

const enc = new TextEncoder();

/** Encodes one SSE `data:` event. */
export function sseEvent(data: unknown): Uint8Array {
  return enc.encode(`data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`);
}

/** Options of sseResponse. */
export interface SseOptions {
  /** Called once when the client cancels the stream. */
  readonly onCancel?: () => void;
  /** Called once when the stream ends for any reason (done, error or cancel). */
  readonly onEnd?: () => void;
  /** Send `data: [DONE]` at the end (default true; llama.cpp's /completion sends none). */
  readonly done?: boolean;
  /** Shapes the final error event (default OpenAI's `{ error: {...} }`). */
  readonly errorBody?: (e: ApiError) => unknown;
}

/**
 * A streaming response of `events`, ending with `data: [DONE]`. An error thrown by the
 * iterator becomes a final `data: {"error": ...}` event (no [DONE]), as OpenAI does.
 */
export function sseResponse(events: AsyncIterable<unknown>, opts: SseOptions = {}): Response {
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
          if (opts.done !== false) ctrl.enqueue(sseEvent("[DONE]"));
          ctrl.close();
          end();
        } else {
          ctrl.enqueue(sseEvent(r.value));
        }
      } catch (e) {
        if (ended) return;
        ctrl.enqueue(sseEvent((opts.errorBody ?? errorBody)(toApiError(e))));
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
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      "x-accel-buffering": "no",
    },
  });
}
