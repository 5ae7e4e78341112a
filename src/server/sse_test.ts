import { test } from "../../tests/harness.ts";
import { assert, assertStrictEquals } from "../../tests/assert.ts";
import { ApiError } from "./errors.ts";
import { sseResponse } from "./sse.ts";

test("sse: one data event per value, then [DONE]", async () => {
  async function* gen() {
    yield { a: 1 };
    yield { b: "x\ny" };
  }
  let ended = 0;
  const res = sseResponse(gen(), { onEnd: () => ended++ });
  assertStrictEquals(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
  assertStrictEquals(await res.text(), 'data: {"a":1}\n\ndata: {"b":"x\\ny"}\n\ndata: [DONE]\n\n');
  assertStrictEquals(ended, 1);
});

test("sse: an error becomes a final OpenAI error event without [DONE]", async () => {
  async function* gen() {
    yield { a: 1 };
    throw new ApiError(400, "invalid_value", "bad", "x");
  }
  const text = await sseResponse(gen()).text();
  assertStrictEquals(
    text,
    'data: {"a":1}\n\ndata: {"error":{"message":"bad","type":"invalid_request_error","param":"x","code":"invalid_value"}}\n\n',
  );
});

test("sse: cancelling the body calls onCancel and ends the producer", async () => {
  let cancelled = 0;
  let ended = 0;
  let finalized = false;
  async function* gen() {
    try {
      for (let i = 0;; i++) yield { i };
    } finally {
      finalized = true;
    }
  }
  const res = sseResponse(gen(), { onCancel: () => cancelled++, onEnd: () => ended++ });
  const reader = res.body!.getReader();
  const first = await reader.read();
  assert(!first.done);
  await reader.cancel();
  await new Promise((r) => setTimeout(r, 10));
  assertStrictEquals(cancelled, 1);
  assertStrictEquals(ended, 1);
  assert(finalized, "the producer's finally ran");
});
