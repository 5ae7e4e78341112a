import { assert, assertEquals } from "../tests/assert.ts";
import { test } from "../tests/harness.ts";
import { CPU_BUILDS, CPU_CFLAGS, cpuSteps } from "./_native_cpu.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

test("cpu build: both kernel builds, every source, warnings as errors, no implicit FMA", () => {
  const steps = cpuSteps("cc", `${ROOT}/native/cpu`, "/tmp/out");
  const table = steps.filter((s) => s.args.includes(`${ROOT}/native/cpu/kern_table.c`));
  assertEquals(table.length, CPU_BUILDS.length);
  const kernels = steps.filter((s) => s.args.some((a) => /\/kern_[a-z]+\.c$/.test(a)));
  assert(kernels.some((s) => s.args.includes("-mavx512vnni")), "a VNNI build");
  assert(kernels.some((s) => !s.args.some((a) => a.startsWith("-mavx512"))), "an AVX2 build");
  for (const s of steps.slice(0, -1)) {
    for (const f of ["-Wall", "-Wextra", "-Werror", "-ffp-contract=off"]) {
      assert(s.args.includes(f), `${s.output} has ${f}`);
    }
    assert(s.inputs.some((i) => i.endsWith("rf_cpu.h")), `${s.output} depends on the header`);
  }
  const link = steps[steps.length - 1];
  assertEquals(link.output, "/tmp/out/librocmforge_cpu.so");
  assertEquals(link.inputs, steps.slice(0, -1).map((s) => s.output));
  assert(CPU_CFLAGS.includes("-fPIC"), "position-independent code");
});
