/**
 * The `cpu` target of scripts/build_native.ts: librocmforge_cpu (native/cpu/) with the
 * system's C compiler ($CC, else cc, gcc or clang), every warning an error. The kernel files
 * (kern_*.c) are compiled twice, for AVX2 (+FMA, F16C) and for AVX512-VNNI; the library picks
 * one at run time. x86-64 only. -> build/native/cpu/librocmforge_cpu.so
 *
 * @module
 */
import { listDir, makeDir } from "../src/runtime/ffi_build.ts";
import { env, now, writeStderr, writeStdout } from "../src/runtime/host.ts";
import { runCommand } from "../src/runtime/subprocess.ts";
import { runSteps, staleSteps, type Step, WARN } from "./_native_steps.ts";

/** The kernel builds: object name suffix, -D and -m flags. */
export const CPU_BUILDS = [
  { name: "avx2", flags: ["-DRF_VNNI=0", "-mavx2", "-mfma", "-mf16c"] },
  {
    name: "vnni",
    flags: [
      "-DRF_VNNI=1",
      "-mavx2",
      "-mfma",
      "-mf16c",
      "-mavx512f",
      "-mavx512bw",
      "-mavx512vl",
      "-mavx512vnni",
    ],
  },
] as const;

/**
 * Flags of every compile. -ffp-contract=off: the float steps are written out as llama.cpp's
 * intrinsics take them; the compiler must not fuse a multiply and an add on its own.
 */
export const CPU_CFLAGS = ["-std=gnu11", "-O3", "-fPIC", "-ffp-contract=off", ...WARN];

/** The steps that build the library in `outDir` from the sources in `srcDir` with `cc`. */
export function cpuSteps(cc: string, srcDir: string, outDir: string): Step[] {
  const headers = listDir(srcDir).filter((f) => f.endsWith(".h")).map((f) => `${srcDir}/${f}`);
  const c = listDir(srcDir).filter((f) => f.endsWith(".c"));
  const kernels = c.filter((f) => f.startsWith("kern_"));
  const sources = c.filter((f) => !f.startsWith("kern_"));
  const compile = (src: string, obj: string, flags: readonly string[]): Step => ({
    cmd: cc,
    args: [...CPU_CFLAGS, ...flags, "-c", src, "-o", obj],
    output: obj,
    inputs: [src, ...headers],
  });
  const objs = [
    ...CPU_BUILDS.flatMap((b) =>
      kernels.map((f) => compile(`${srcDir}/${f}`, `${outDir}/obj/${f}.${b.name}.o`, b.flags))
    ),
    ...sources.map((f) => compile(`${srcDir}/${f}`, `${outDir}/obj/${f}.o`, [])),
  ];
  const lib = `${outDir}/librocmforge_cpu.so`;
  const link: Step = {
    cmd: cc,
    args: ["-shared", ...objs.map((s) => s.output), "-lpthread", "-o", lib],
    output: lib,
    inputs: objs.map((s) => s.output),
  };
  return [...objs, link];
}

async function which(cmd: string): Promise<string | undefined> {
  const r = await runCommand("sh", ["-c", `command -v ${cmd}`]);
  const p = r.stdout.trim();
  return r.code === 0 && p ? p : undefined;
}

/** Why this machine cannot build the cpu target, or the compiler to use. */
export async function findCpuCompiler(): Promise<{ cc?: string; reason?: string }> {
  const m = await runCommand("uname", ["-m"]);
  const arch = m.stdout.trim();
  if (arch !== "x86_64") return { reason: `x86-64 only (this machine: ${arch || "unknown"})` };
  const wanted = env("CC");
  for (const c of wanted ? [wanted] : ["cc", "gcc", "clang"]) {
    const p = await which(c);
    if (p) return { cc: p };
  }
  return { reason: wanted ? `$CC (${wanted}) not found` : "no C compiler (cc, gcc, clang)" };
}

/**
 * Builds the cpu target from `root`'s native/cpu/ into `outDir` (default build/native/cpu/);
 * true on success.
 */
export async function buildCpu(
  root: string,
  cc: string,
  jobs: number,
  clean: boolean,
  outDir = `${root}/build/native/cpu`,
): Promise<boolean> {
  makeDir(`${outDir}/obj`);
  const steps = cpuSteps(cc, `${root}/native/cpu`, outDir);
  const stale = staleSteps(steps, clean);
  writeStdout(`cpu: ${cc}; ${stale.length}/${steps.length} steps to run\n`);
  const started = now();
  const failures = await runSteps(stale, jobs, root);
  for (const f of failures) writeStderr(`\nbuild failed:\n${f}\n`);
  if (failures.length === 0) {
    const secs = ((now() - started) / 1000).toFixed(1);
    const dir = outDir.startsWith(`${root}/`) ? outDir.slice(root.length + 1) : outDir;
    writeStdout(`cpu: ${dir}/librocmforge_cpu.so (0 warnings, ${secs} s)\n`);
  }
  return failures.length === 0;
}
