import { test } from "../../tests/harness.ts";
import { assertEquals, assertStrictEquals } from "../../tests/assert.ts";
import { ContextOverflowError, GGUFError, InvalidArgumentError } from "../core/errors.ts";
import { ApiError, errorBody, errorResponse, toApiError } from "./errors.ts";

test("errors: engine codes map to HTTP statuses and OpenAI fields", async () => {
  const overflow = toApiError(new ContextOverflowError("too long", { expected: 8, actual: 9 }));
  assertStrictEquals(overflow.status, 400);
  assertStrictEquals(overflow.code, "context_length_exceeded");
  const bad = toApiError(new InvalidArgumentError("topP must be in [0, 1]", { field: "topP" }));
  assertEquals([bad.status, bad.code, bad.param], [400, "invalid_value", "top_p"]);
  const bias = toApiError(new InvalidArgumentError("x", { field: 'logitBias["a"]' }));
  assertStrictEquals(bias.param, 'logit_bias["a"]');
  const internal = toApiError(new GGUFError("GGUF_TRUNCATED", "short file"));
  assertEquals([internal.status, internal.type], [500, "server_error"]);
  assertEquals([toApiError(new Error("boom")).status, toApiError("s").code], [
    500,
    "internal_error",
  ]);
  assertEquals(errorBody(new ApiError(404, "model_not_found", "no such model", "model")), {
    error: {
      message: "no such model",
      type: "not_found_error",
      param: "model",
      code: "model_not_found",
    },
  });
  const res = errorResponse(new ApiError(429, "queue_full", "busy"));
  assertStrictEquals(res.status, 429);
  assertStrictEquals((await res.json()).error.type, "rate_limit_error");
});
