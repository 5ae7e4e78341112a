import { assert, assertMatch, assertRejects, assertStrictEquals } from "../../tests/assert.ts";
import { test } from "../../tests/harness.ts";
import { UsageError } from "./args.ts";
import { devicesCommand, formatReports } from "./devices.ts";

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
  assertMatch(text, /^hip: unavailable \(HIP library not found\)$/m);
  assertMatch(
    text,
    /\[0\] AMD Instinct MI210 \(gfx90a, 104 CUs, warp 64\): 60\.00 GiB free of 64\.00 GiB/,
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
