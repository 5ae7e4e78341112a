/**
 * Builds librocmforge_hip from native/*.cpp (host code, plain C++) and kernels/*.hip (GPU
 * code) with every warning an error:
 * - AMD: one library with a code object per --offload-arch target (default: DEFAULT_AMD_ARCHS
 *   in _amd_targets.ts, gfx90a,gfx942,gfx1030,gfx1100,gfx1101,gfx1102,gfx1200,gfx1201): hipcc
 *   from ROCm (Debian: `apt-get install -y hipcc`, ROCm 5.2) for the targets its device
 *   libraries cover, clang-19 (`apt-get install -y clang-19 lld-19`) for the rest (see
 *   _amd_toolchain.ts) -> build/native/amd/librocmforge_hip.so
 * - NVIDIA: nvcc with `-x cu -DRF_GPU_CUDA` (native/gpu_compat.h maps HIP onto CUDA) for
 *   --cuda-arch (default sm_90) -> build/native/cuda/librocmforge_hip.so
 * - CPU: the native x86-64 kernels (native/cpu/) with the system's C compiler (see
 *   _native_cpu.ts) -> build/native/cpu/librocmforge_cpu.so
 *
 * usage: deno task build:native [--target amd|cuda|cpu|auto] [--offload-arch gfx90a,gfx1100]
 *                               [--cuda-arch sm_90] [--jobs N] [--clean]
 * `auto` (default) builds every GPU target whose compiler is installed and says which it
 * skips; `cpu` builds the CPU library.
 * A step reruns only when its inputs (source, headers) or its command line changed.
 *
 * @module
 */
import { listDir, makeDir, realPath } from "../src/runtime/ffi_build.ts";
import {
  args,
  cpuCount,
  env,
  exit,
  now,
  pathExists,
  writeStderr,
  writeStdout,
} from "../src/runtime/host.ts";
import { runCommand } from "../src/runtime/subprocess.ts";
import { DEFAULT_AMD_ARCHS, systemDeviceLibs } from "./_amd_targets.ts";
import { amdToolchain, type AmdTools, bundlerCandidates, planAmd } from "./_amd_toolchain.ts";
import { runSteps, staleSteps, type Toolchain, WARN } from "./_native_steps.ts";
import { buildCpu, findCpuCompiler } from "./_native_cpu.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

interface Options {
  target: "amd" | "cuda" | "cpu" | "auto";
  offloadArch: string[];
  cudaArch: string;
  jobs: number;
  clean: boolean;
}

function usage(msg: string): never {
  writeStderr(`build_native: ${msg}\n`);
  writeStderr(
    "usage: deno task build:native [--target amd|cuda|cpu|auto] [--offload-arch gfx90a,gfx1100] " +
      "[--cuda-arch sm_90] [--jobs N] [--clean]\n",
  );
  exit(2);
}

async function parse(argv: string[]): Promise<Options> {
  const o: Options = {
    target: "auto",
    offloadArch: [...DEFAULT_AMD_ARCHS],
    cudaArch: "sm_90",
    jobs: await cpuCount(),
    clean: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) usage(`${a} needs a value`);
      return v;
    };
    if (a === "--target") {
      const t = value();
      if (t !== "amd" && t !== "cuda" && t !== "cpu" && t !== "auto") {
        usage(`unknown target ${t}`);
      }
      o.target = t;
    } else if (a === "--offload-arch") {
      o.offloadArch = value().split(",").map((s) => s.trim()).filter(Boolean);
      if (!o.offloadArch.every((s) => /^gfx[0-9a-f]+$/.test(s))) usage("bad --offload-arch");
    } else if (a === "--cuda-arch") {
      o.cudaArch = value();
      if (!/^sm_[0-9]+a?$/.test(o.cudaArch)) usage("bad --cuda-arch");
    } else if (a === "--jobs") {
      o.jobs = Number(value());
      if (!Number.isInteger(o.jobs) || o.jobs < 1) usage("--jobs must be a positive integer");
    } else if (a === "--clean") {
      o.clean = true;
    } else {
      usage(`unknown argument ${a}`);
    }
  }
  return o;
}

async function which(cmd: string): Promise<string | undefined> {
  const r = await runCommand("sh", ["-c", `command -v ${cmd}`]);
  const p = r.stdout.trim();
  return r.code === 0 && p ? p : undefined;
}

/** The CUDA toolkit root: $CUDA_PATH, $CUDA_HOME, nvcc's parent folder, /usr/local/cuda. */
function cudaHome(nvcc: string): string {
  const candidates = [
    env_("CUDA_PATH"),
    env_("CUDA_HOME"),
    realPath(nvcc).replace(/\/bin\/nvcc$/, ""),
    "/usr/local/cuda",
  ];
  return candidates.find((c) => c && pathExists(`${c}/include/cuda_runtime_api.h`)) ??
    "/usr/local/cuda";
}

function cudaToolchain(o: Options, nvcc: string, headers: readonly string[]): Toolchain {
  const home = cudaHome(nvcc);
  const cxx = env_("CXX") ?? "c++";
  const arch = `-arch=${o.cudaArch}`;
  return {
    target: "cuda",
    summary: `${nvcc} for ${o.cudaArch}`,
    compileHost: (src, obj) => ({
      cmd: cxx,
      args: [
        "-DRF_GPU_CUDA",
        `-I${home}/include`,
        "-std=c++20",
        "-O2",
        "-fPIC",
        ...WARN,
        "-c",
        src,
        "-o",
        obj,
      ],
      output: obj,
      inputs: [src, ...headers],
    }),
    kernelSteps: (src, obj) => [{
      cmd: nvcc,
      args: [
        "-x",
        "cu",
        "-DRF_GPU_CUDA",
        "-std=c++20",
        "-O3",
        arch,
        "-Xcompiler",
        "-fPIC,-Wall,-Wextra,-Werror",
        "--Werror",
        "all-warnings",
        "-c",
        src,
        "-o",
        obj,
      ],
      output: obj,
      inputs: [src, ...headers],
    }],
    link: (objs, out) => ({
      cmd: nvcc,
      args: ["-shared", arch, ...objs, "-o", out],
      output: out,
      inputs: objs,
    }),
  };
}

function env_(name: string): string | undefined {
  const v = env(name);
  return v && v.length ? v : undefined;
}

const headers = () => [
  ...listDir(`${ROOT}/native`).filter((f) => f.endsWith(".h")).map((f) => `${ROOT}/native/${f}`),
  ...listDir(`${ROOT}/kernels`).filter((f) => f.endsWith(".h")).map((f) => `${ROOT}/kernels/${f}`),
];

async function build(tc: Toolchain, o: Options): Promise<boolean> {
  const outDir = `${ROOT}/build/native/${tc.target}`;
  const objDir = `${outDir}/obj`;
  makeDir(objDir);
  const lib = `${outDir}/librocmforge_hip.so`;
  const hosts = listDir(`${ROOT}/native`).filter((f) => f.endsWith(".cpp"));
  const kernels = listDir(`${ROOT}/kernels`).filter((f) => f.endsWith(".hip"));
  const objects = [
    ...hosts.map((f) => [tc.compileHost(`${ROOT}/native/${f}`, `${objDir}/native_${f}.o`)]),
    ...kernels.map((f) => tc.kernelSteps(`${ROOT}/kernels/${f}`, `${objDir}/kernels_${f}.o`)),
  ];
  const objs = objects.map((chain) => chain[chain.length - 1].output);
  const steps = [...(tc.prelude ?? []), ...objects.flat(), tc.link(objs, lib)];
  const stale = staleSteps(steps, o.clean);
  writeStdout(`${tc.target}: ${tc.summary}; ${stale.length}/${steps.length} steps to run\n`);
  const started = now();
  const failures = await runSteps(stale, o.jobs, ROOT);
  for (const f of failures) writeStderr(`\nbuild failed:\n${f}\n`);
  if (failures.length === 0) {
    const secs = ((now() - started) / 1000).toFixed(1);
    writeStdout(`${tc.target}: ${lib.replace(`${ROOT}/`, "")} (0 warnings, ${secs} s)\n`);
  }
  return failures.length === 0;
}

async function findAmdTools(): Promise<AmdTools> {
  const clang = await which("clang++-19") ?? await which("/usr/lib/llvm-19/bin/clang++");
  let bundler: string | undefined;
  for (const c of bundlerCandidates(clang)) if ((bundler = await which(c))) break;
  return { hipcc: await which("hipcc"), clang, bundler, deviceLibs: systemDeviceLibs() };
}

async function main(): Promise<number> {
  const o = await parse(args());
  if (o.target === "cpu") {
    const c = await findCpuCompiler();
    if (!c.cc) {
      writeStderr(`build_native: ${c.reason}\n`);
      return 1;
    }
    return (await buildCpu(ROOT, c.cc, o.jobs, o.clean)) ? 0 : 1;
  }
  const toolchains: Toolchain[] = [];
  const hdrs = headers();
  if (o.target === "amd" || o.target === "auto") {
    const tools = await findAmdTools();
    const plan = planAmd(o.offloadArch, tools);
    if (plan.ok) {
      toolchains.push(amdToolchain(plan, tools, `${ROOT}/build/native/amd`, hdrs));
    } else if (o.target === "amd") {
      writeStderr(`build_native: ${plan.reason}\n`);
      return 1;
    } else writeStdout(`amd: skipped (${plan.reason})\n`);
  }
  if (o.target === "cuda" || o.target === "auto") {
    const nvcc = await which("nvcc");
    if (nvcc) toolchains.push(cudaToolchain(o, nvcc, hdrs));
    else if (o.target === "cuda") {
      writeStderr("build_native: nvcc not found (install the CUDA toolkit)\n");
      return 1;
    } else writeStdout("cuda: skipped (nvcc not found)\n");
  }
  if (toolchains.length === 0) {
    writeStderr("build_native: no GPU toolchain found (hipcc/clang-19 or nvcc); nothing built\n");
    return 1;
  }
  let ok = true;
  for (const tc of toolchains) ok = (await build(tc, o)) && ok;
  return ok ? 0 : 1;
}

if (import.meta.main) exit(await main());
