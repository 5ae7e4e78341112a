import { codeObjectError, noGpuReason } from "../backends/hip/device_notice.ts";
import { RfStatus } from "../backends/hip/ffi/symbols.ts";
import type { Backend } from "../core/backend.ts";
import { assert, assertMatch, assertRejects, assertStrictEquals } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { UsageError } from "./args.ts";
import { devicesCommand, formatReports, probeBackends } from "./devices.ts";

test("devices: text lists devices and says why a backend is unavailable", () => {
  const text = formatReports([
    { backend: "hip", probe: { available: false, reason: "HIP library not found", devices: [] } },
    {
      backend: "gpu",
      probe: {
        available: true,
        devices: [{
          id: 0,
          name: "AMD Instinct MI210",
          arch: "gfx90a",
          computeUnits: 104,
          warpSize: 64,
          totalMemory: 64 * 2 ** 30,
          freeMemory: 60 * 2 ** 30,
        }],
      },
    },
  ]);
  assertMatch(text, /^hip: unavailable: HIP library not found$/m);
  assertMatch(
    text,
    /\[0\] AMD Instinct MI210 \(gfx90a, 104 CUs, warp 64\): 60\.00 GiB free of 64\.00 GiB/,
  );
});

/** A backend whose probe fails the way the HIP backend's does for `reason`. */
function fakeBackend(name: string, reason: string): Backend {
  return {
    name,
    probe: () => Promise.resolve({ available: false, reason, devices: [] }),
  } as unknown as Backend;
}

test("devices: no GPU and a chip missing from the build are said plainly", async () => {
  const noDriver = noGpuReason({
    status: RfStatus.NO_DEVICE,
    message: "hipGetDeviceCount(&n): cudaErrorInsufficientDriver (CUDA driver version is " +
      "insufficient for CUDA runtime version)",
    call: "hipGetDeviceCount(&n)",
    gpuError: "cudaErrorInsufficientDriver",
    gpuCode: 35,
    bytes: 0,
  });
  const chip = codeObjectError("AMD Radeon RX 7600", "gfx1103", ["gfx90a", "gfx1100"]);
  assert(noDriver !== undefined && chip !== undefined);
  const text = formatReports(
    await probeBackends([fakeBackend("hip", noDriver), fakeBackend("hip1", chip.message)]),
  );
  assertMatch(
    text,
    /^hip: unavailable: no GPU found \(the GPU driver is missing or older than the runtime: cudaErrorInsufficientDriver \(CUDA driver version/m,
  );
  assertMatch(
    text,
    /^hip1: unavailable: AMD Radeon RX 7600 \(gfx1103\): gfx1103 not in this build \(it has gfx90a, gfx1100\): rebuild with `deno task build:native --target amd --offload-arch gfx1103`$/m,
  );
});

test("devices --json reports the CPU and the HIP backend", async () => {
  let out = "";
  const code = await devicesCommand.run(["--json"], { stdout: (s) => out += s, stderr: () => {} });
  assertStrictEquals(code, 0);
  const parsed = JSON.parse(out) as {
    backends: { backend: string; probe: { available: boolean } }[];
  };
  assert(parsed.backends.some((b) => b.backend === "cpu" && b.probe.available));
  assert(parsed.backends.some((b) => b.backend === "hip"));
  await assertRejects(
    () => devicesCommand.run(["extra"], { stdout: () => {}, stderr: () => {} }),
    UsageError,
  );
});
