/**
 * Native failures become typed errors whose facts name the failed call and the GPU runtime
 * error: out of memory -> OutOfMemoryError, a rejected argument or program ->
 * InvalidArgumentError, no device -> BACKEND_UNAVAILABLE, any other -> BACKEND_CALL_FAILED.
 *
 * @module
 */
import { nativeError, statusName } from "../src/backends/hip/errors.ts";
import { RfStatus } from "../src/backends/hip/ffi/symbols.ts";
import { BackendError, InvalidArgumentError, OutOfMemoryError } from "../src/core/errors.ts";
import { assert, assertEquals, assertMatch, assertStrictEquals } from "./assert.ts";
import { test } from "./harness.ts";

const detail = (status: number, gpuError = "", gpuCode = 0, bytes = 0) => ({
  status,
  message: `hipMalloc(scratch): ${gpuError} (out of memory), ${bytes} bytes`,
  call: "hipMalloc(scratch)",
  gpuError,
  gpuCode,
  bytes,
});

test("out of memory maps to OutOfMemoryError with the call, GPU error and bytes", () => {
  const e = nativeError("rf_exec", detail(RfStatus.OOM, "hipErrorOutOfMemory", 2, 1 << 30));
  assert(e instanceof OutOfMemoryError);
  assertStrictEquals(e.code, "OUT_OF_MEMORY");
  assertEquals(e.facts.call, "hipMalloc(scratch)");
  assertEquals(e.facts.gpuError, "hipErrorOutOfMemory");
  assertEquals(e.facts.bytes, 1 << 30);
  assertEquals(e.facts.function, "rf_exec");
  assertMatch(e.message, /rf_exec failed: hipMalloc\(scratch\): hipErrorOutOfMemory/);
});

test("a rejected program maps to InvalidArgumentError", () => {
  const e = nativeError("rf_exec", {
    ...detail(RfStatus.INVALID),
    call: "rf_exec",
    message: "rf_exec: op #3 (embed): token id 900 at row 0 is outside the vocabulary of 512",
  });
  assert(e instanceof InvalidArgumentError);
  assertMatch(e.message, /token id 900/);
  assertEquals(e.facts.status, "INVALID");
});

test("no device maps to BACKEND_UNAVAILABLE, other failures to BACKEND_CALL_FAILED", () => {
  const none = nativeError("rf_init", detail(RfStatus.NO_DEVICE, "hipErrorNoDevice", 100));
  assert(none instanceof BackendError);
  assertStrictEquals(none.code, "BACKEND_UNAVAILABLE");
  const gpu = nativeError("rf_exec", detail(RfStatus.GPU, "hipErrorIllegalAddress", 700));
  assert(gpu instanceof BackendError);
  assertStrictEquals(gpu.code, "BACKEND_CALL_FAILED");
  assertEquals(gpu.facts.gpuCode, 700);
  const handle = nativeError("rf_kv_destroy", { ...detail(RfStatus.HANDLE), call: "" });
  assertStrictEquals((handle as BackendError).code, "BACKEND_CALL_FAILED");
  assertEquals(handle.facts.call, "rf_kv_destroy");
});

test("status names", () => {
  assertStrictEquals(statusName(RfStatus.OOM), "OOM");
  assertStrictEquals(statusName(42), "STATUS_42");
});
