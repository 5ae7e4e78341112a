import { BackendError } from "../../core/errors.ts";
import { assert, assertEquals, assertStrictEquals } from "../../../tests/assert.ts";
import { test } from "../../../tests/harness.ts";
import { codeObjectError, noGpuError, noGpuReason } from "./device_notice.ts";
import type { NativeErrorDetail } from "./errors.ts";
import { libraryHint } from "./native.ts";
import { RfStatus } from "./ffi/symbols.ts";

const detail = (status: number, message: string, gpuError: string): NativeErrorDetail => ({
  status,
  message,
  call: "hipGetDeviceCount(&n)",
  gpuError,
  gpuCode: gpuError ? 100 : 0,
  bytes: 0,
});

test("no GPU: each way rf_init finds none reads 'no GPU found (<why>)'", () => {
  assertEquals(
    noGpuReason(detail(RfStatus.NO_DEVICE, "hipGetDeviceCount(&n): no GPU device found", "")),
    "no GPU found (the GPU runtime reports no devices)",
  );
  assertEquals(
    noGpuReason(
      detail(
        RfStatus.GPU,
        "hipGetDeviceCount(&n): hipErrorNoDevice (hipErrorNoDevice)",
        "hipErrorNoDevice",
      ),
    ),
    "no GPU found (hipErrorNoDevice)",
  );
  const e = noGpuError(
    detail(
      RfStatus.GPU,
      "hipGetDeviceCount(&n): cudaErrorInsufficientDriver (CUDA driver version is insufficient)",
      "cudaErrorInsufficientDriver",
    ),
  );
  assertStrictEquals(e instanceof BackendError && e.code === "BACKEND_UNAVAILABLE", true);
  assertEquals(
    e?.message,
    "no GPU found (the GPU driver is missing or older than the runtime: " +
      "cudaErrorInsufficientDriver (CUDA driver version is insufficient))",
  );
  // Another failure stays the native error it is.
  const oom = detail(RfStatus.OOM, "hipMalloc: hipErrorOutOfMemory", "hipErrorOutOfMemory");
  assertStrictEquals(noGpuReason(oom), undefined);
});

test("code objects: a chip missing from the build is named with the rebuild command", () => {
  const e = codeObjectError("AMD Radeon 780M", "gfx1103:xnack-", ["gfx90a", "gfx1100"]);
  assertEquals(
    e?.message,
    "AMD Radeon 780M (gfx1103): gfx1103 not in this build (it has gfx90a, gfx1100): " +
      "rebuild with `deno task build:native --target amd --offload-arch gfx1103`",
  );
  assertEquals(e?.facts, { expected: "gfx90a,gfx1100", actual: "gfx1103" });
  assertStrictEquals(codeObjectError("MI210", "gfx90a:sramecc+:xnack-", ["gfx90a"]), undefined);
});

test("the library-not-found hint fits the runtime: Node users cannot run deno tasks", () => {
  assert(libraryHint("deno").includes("deno task build:native"));
  const node = libraryHint("node");
  assert(node.startsWith("set ROCMFORGE_HIP_LIB"), node);
});
