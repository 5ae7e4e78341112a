/**
 * Builds librocmforge_hip from native/*.cpp (host code, plain C++) and kernels/*.hip (GPU
 * code) with every warning an error:
 * - AMD: hipcc from ROCm (Debian: `apt-get install -y hipcc`, ROCm 5.2) for the
 *   --offload-arch targets (default gfx90a,gfx1030) -> build/native/amd/librocmforge_hip.so
 * - NVIDIA: nvcc with `-x cu -DRF_GPU_CUDA` (native/gpu_compat.h maps HIP onto CUDA) for
 *   --cuda-arch (default sm_90) -> build/native/cuda/librocmforge_hip.so
 *
 * usage: deno task build:native [--target amd|cuda|auto] [--offload-arch gfx90a,gfx1030]
 *                               [--cuda-arch sm_90] [--jobs N] [--clean]
 * `auto` (default) builds every target whose compiler is installed and says which it skips.
 * Objects are rebuilt only when a source, a header or the flags changed.
 *
 * @module
 */
import { listDir, makeDir, modifiedMs, realPath } from "../src/runtime/ffi_build.ts";
import {
  args,
  cpuCount,
  env,
  exit,
  pathExists,
  readTextFile,
  writeFile,
  writeStderr,
  writeStdout,
} from "../src/runtime/host.ts";
import { runCommand } from "../src/runtime/subprocess.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

interface Options {
  target: "amd" | "cuda" | "auto";
  offloadArch: string[];
  cudaArch: string;
  jobs: number;
  clean: boolean;
}

function usage(msg: string): never {
  writeStderr(`build_native: ${msg}\n`);
  writeStderr(
    "usage: deno task build:native [--target amd|cuda|auto] [--offload-arch gfx90a,gfx1030] " +
      "[--cuda-arch sm_90] [--jobs N] [--clean]\n",
  );
  exit(2);
}

async function parse(argv: string[]): Promise<Options> {
  const o: Options = {
    target: "auto",
    offloadArch: ["gfx90a", "gfx1030"],
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
      if (t !== "amd" && t !== "cuda" && t !== "auto") usage(`unknown target ${t}`);
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

/** One compile or link step. */
interface Step {
  readonly cmd: string;
  readonly args: string[];
  readonly env?: Record<string, string>;
  readonly output: string;
  readonly inputs: string[];
}

interface Toolchain {
  readonly target: "amd" | "cuda";
  compileHost(src: string, obj: string): Step;
  compileKernel(src: string, obj: string): Step;
  link(objs: string[], out: string): Step;
}

const WARN = ["-Wall", "-Wextra", "-Werror"];

function amdToolchain(o: Options, hipcc: string): Toolchain {
  const env = { HIP_PLATFORM: "amd" };
  const arch = o.offloadArch.map((a) => `--offload-arch=${a}`);
  const rocm = env_("ROCM_PATH");
  const inc = rocm ? [`-I${rocm}/include`] : [];
  const cxx = env_("CXX") ?? "c++";
  return {
    target: "amd",
    compileHost: (src, obj) => ({
      cmd: cxx,
      args: ["-std=c++20", "-O2", "-fPIC", ...WARN, ...inc, "-c", src, "-o", obj],
      output: obj,
      inputs: [src],
    }),
    compileKernel: (src, obj) => ({
      cmd: hipcc,
      args: ["-x", "hip", "-std=c++20", "-O3", "-fPIC", ...arch, ...WARN, "-c", src, "-o", obj],
      env,
      output: obj,
      inputs: [src],
    }),
    link: (objs, out) => ({
      cmd: hipcc,
      args: ["-shared", "-fPIC", ...arch, ...objs, "-o", out],
      env,
      output: out,
      inputs: objs,
    }),
  };
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

function cudaToolchain(o: Options, nvcc: string): Toolchain {
  const home = cudaHome(nvcc);
  const cxx = env_("CXX") ?? "c++";
  const arch = `-arch=${o.cudaArch}`;
  return {
    target: "cuda",
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
      inputs: [src],
    }),
    compileKernel: (src, obj) => ({
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
      inputs: [src],
    }),
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

async function runSteps(steps: Step[], jobs: number): Promise<string[]> {
  const failures: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < steps.length) {
      const s = steps[next++];
      const rel = s.output.replace(`${ROOT}/`, "");
      writeStdout(`  ${s.cmd.split("/").pop()} -> ${rel}\n`);
      const r = await runCommand(s.cmd, s.args, { cwd: ROOT, env: s.env });
      const text = (r.stdout + r.stderr).trim();
      // Zero warnings: -Werror fails on them; any warning text that still gets through fails.
      if (r.code !== 0 || /warning/i.test(text)) {
        failures.push(`${s.cmd} ${s.args.join(" ")}\n${text}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, steps.length) }, worker));
  return failures;
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
  const steps: Step[] = [
    ...hosts.map((f) => tc.compileHost(`${ROOT}/native/${f}`, `${objDir}/native_${f}.o`)),
    ...kernels.map((f) => tc.compileKernel(`${ROOT}/kernels/${f}`, `${objDir}/kernels_${f}.o`)),
  ];
  // Rebuild when flags changed, else only objects older than their source or any header.
  const stamp = `${objDir}/flags.txt`;
  const flags = JSON.stringify(steps.map((s) => [s.cmd, s.args.slice(0, -4)]));
  const sameFlags = !o.clean && pathExists(stamp) && readTextFile(stamp) === flags;
  const newestHeader = Math.max(...headers().map(modifiedMs));
  const stale = steps.filter((s) =>
    !sameFlags || modifiedMs(s.output) < Math.max(modifiedMs(s.inputs[0]), newestHeader)
  );
  writeStdout(`${tc.target}: ${stale.length}/${steps.length} objects to compile\n`);
  let failures = await runSteps(stale, o.jobs);
  if (failures.length === 0) {
    writeFile(stamp, flags);
    const objs = steps.map((s) => s.output);
    if (stale.length || modifiedMs(lib) < Math.max(...objs.map(modifiedMs))) {
      failures = await runSteps([tc.link(objs, lib)], 1);
    }
  }
  for (const f of failures) writeStderr(`\nbuild failed:\n${f}\n`);
  if (failures.length === 0) {
    writeStdout(`${tc.target}: ${lib.replace(`${ROOT}/`, "")} (0 warnings)\n`);
  }
  return failures.length === 0;
}

async function main(): Promise<number> {
  const o = await parse(args());
  const hipcc = await which("hipcc");
  const nvcc = await which("nvcc");
  const toolchains: Toolchain[] = [];
  if (o.target === "amd" || o.target === "auto") {
    if (hipcc) toolchains.push(amdToolchain(o, hipcc));
    else if (o.target === "amd") {
      writeStderr("build_native: hipcc not found (Debian: apt-get install -y hipcc)\n");
      return 1;
    } else writeStdout("amd: skipped (hipcc not found; Debian: apt-get install -y hipcc)\n");
  }
  if (o.target === "cuda" || o.target === "auto") {
    if (nvcc) toolchains.push(cudaToolchain(o, nvcc));
    else if (o.target === "cuda") {
      writeStderr("build_native: nvcc not found (install the CUDA toolkit)\n");
      return 1;
    } else writeStdout("cuda: skipped (nvcc not found)\n");
  }
  if (toolchains.length === 0) {
    writeStderr("build_native: no GPU compiler found (hipcc or nvcc); nothing built\n");
    return 1;
  }
  let ok = true;
  for (const tc of toolchains) ok = (await build(tc, o)) && ok;
  return ok ? 0 : 1;
}

if (import.meta.main) exit(await main());
