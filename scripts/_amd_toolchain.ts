/**
 * The AMD build of librocmforge_hip: one library whose kernels carry a code object for every
 * --offload-arch target. Each kernel source is compiled once per target (device only), the
 * code objects are bundled (clang-offload-bundler, the format HIP loads), and the host side is
 * compiled with that bundle embedded:
 *
 *   kernels/x.hip --(per arch)--> obj/dev/x.hip.<arch>.co --bundle--> obj/x.hip.hipfb
 *   kernels/x.hip + obj/x.hip.hipfb --host--> obj/kernels_x.hip.o --link--> librocmforge_hip.so
 *
 * A target whose device libraries the system has (ROCm 5.2: gfx90a, gfx1030, ...) is compiled
 * by hipcc; the others (gfx942, gfx11xx, gfx12xx) by clang-19 against the same HIP headers and
 * device libraries plus the generated ISA-version files (see _amd_targets.ts). One step per
 * (source, target) also lets two cores share the slow sources and rebuilds only what changed.
 *
 * @module
 */
import { makeDir, realPath } from "../src/runtime/ffi_build.ts";
import { env } from "../src/runtime/host.ts";
import { deviceLibSteps, isaBitcodeName, systemHasArch } from "./_amd_targets.ts";
import { type Step, type Toolchain, WARN } from "./_native_steps.ts";

/** The programs the AMD build may use (undefined: not installed). */
export interface AmdTools {
  readonly hipcc?: string;
  /** clang++ 19 or newer (Debian: clang-19, with lld-19 for the GPU linker). */
  readonly clang?: string;
  readonly bundler?: string;
  /** The system's device-library folder. */
  readonly deviceLibs?: string;
}

/** Where each target is compiled, or why the build cannot proceed. */
export type AmdPlan =
  | { readonly ok: true; readonly hipcc: string[]; readonly clang: string[] }
  | { readonly ok: false; readonly reason: string };

/** Splits `archs` between hipcc and clang-19; the reason names what to install when it can't. */
export function planAmd(archs: readonly string[], tools: AmdTools): AmdPlan {
  if (!tools.deviceLibs) {
    return { ok: false, reason: "no ROCm device libraries (Debian: apt-get install -y hipcc)" };
  }
  const libs = tools.deviceLibs;
  const viaHipcc = tools.hipcc ? archs.filter((a) => systemHasArch(libs, a)) : [];
  const viaClang = archs.filter((a) => !viaHipcc.includes(a));
  if (viaClang.length && !tools.clang) {
    return {
      ok: false,
      reason: `clang-19 not found; ${viaClang.join(",")} need it (hipcc ` +
        `${tools.hipcc ? "has no device libraries for them" : "not found either"}): ` +
        "apt-get install -y clang-19 lld-19",
    };
  }
  if (!tools.bundler) {
    return { ok: false, reason: "clang-offload-bundler not found (Debian: apt-get install hipcc)" };
  }
  return { ok: true, hipcc: viaHipcc, clang: viaClang };
}

/** The bundle entry name HIP looks up for `arch`. */
export const bundleTarget = (arch: string) => `hipv4-amdgcn-amd-amdhsa--${arch}`;

/** The AMD toolchain for a plan that is ok. */
export function amdToolchain(
  plan: Extract<AmdPlan, { ok: true }>,
  tools: AmdTools,
  buildDir: string,
  headers: readonly string[],
): Toolchain {
  const rocm = env("ROCM_PATH") || "/usr";
  const hipEnv = { HIP_PLATFORM: "amd" };
  const archs = [...plan.hipcc, ...plan.clang];
  const bitcode = `${buildDir}/bitcode`;
  const prelude = plan.clang.length
    ? deviceLibSteps(bitcode, tools.deviceLibs!, plan.clang, tools.clang!)
    : [];
  const generated = new Set(prelude.map((s) => s.output));
  // The host side and the link go through clang-19 when any target needs it (it knows every
  // target name; ROCm 5.2's clang rejects the newer ones), else through hipcc.
  const host = plan.clang.length
    ? { cmd: tools.clang!, flags: [`--rocm-path=${rocm}`], env: undefined }
    : { cmd: tools.hipcc!, flags: [], env: hipEnv };
  const hipFlags = ["-x", "hip", "-std=c++20", "-O3", "-fPIC", ...WARN];
  const archFlags = archs.map((a) => `--offload-arch=${a}`);
  const cxx = env("CXX") || "c++";
  const inc = env("ROCM_PATH") ? [`-I${rocm}/include`] : [];

  const device = (src: string, arch: string, co: string): Step => {
    const byClang = plan.clang.includes(arch);
    const isa = `${bitcode}/${isaBitcodeName(arch)}`;
    return {
      cmd: byClang ? tools.clang! : tools.hipcc!,
      args: [
        ...hipFlags,
        ...(byClang ? [`--rocm-path=${rocm}`, `--rocm-device-lib-path=${bitcode}`] : []),
        `--offload-arch=${arch}`,
        "--cuda-device-only",
        "--no-gpu-bundle-output",
        "-c",
        src,
        "-o",
        co,
      ],
      env: byClang ? undefined : hipEnv,
      output: co,
      inputs: [src, ...headers, ...(generated.has(isa) ? [isa] : [])],
    };
  };

  return {
    target: "amd",
    summary: [
      plan.hipcc.length ? `hipcc for ${plan.hipcc.join(",")}` : "",
      plan.clang.length ? `${tools.clang} for ${plan.clang.join(",")}` : "",
    ].filter(Boolean).join("; "),
    prelude,
    compileHost: (src, obj) => ({
      cmd: cxx,
      args: ["-std=c++20", "-O2", "-fPIC", ...WARN, ...inc, "-c", src, "-o", obj],
      output: obj,
      inputs: [src, ...headers],
    }),
    kernelSteps(src, obj) {
      const dir = obj.slice(0, obj.lastIndexOf("/"));
      const name = src.slice(src.lastIndexOf("/") + 1);
      makeDir(`${dir}/dev`);
      const cos = archs.map((a) => `${dir}/dev/${name}.${a}.co`);
      const fatbin = `${dir}/${name}.hipfb`;
      const bundle: Step = {
        cmd: tools.bundler!,
        args: [
          "--type=o",
          "--bundle-align=4096",
          `--targets=host-x86_64-unknown-linux-gnu,${archs.map(bundleTarget).join(",")}`,
          "--input=/dev/null",
          ...cos.map((c) => `--input=${c}`),
          `--output=${fatbin}`,
        ],
        output: fatbin,
        inputs: cos,
      };
      const hostStep: Step = {
        cmd: host.cmd,
        args: [
          ...hipFlags,
          ...host.flags,
          ...archFlags,
          "--cuda-host-only",
          // clang-19 names a host-only unit's `__hip_cuid_` symbol after this id; without
          // one every object defines the same symbol and the link fails.
          "-Xclang",
          `-cuid=rf_${name.replace(/[^A-Za-z0-9]/g, "_")}`,
          "-Xclang",
          "-fcuda-include-gpubinary",
          "-Xclang",
          fatbin,
          "-c",
          src,
          "-o",
          obj,
        ],
        env: host.env,
        output: obj,
        inputs: [src, ...headers, fatbin],
      };
      return [...archs.map((a, i) => device(src, a, cos[i])), bundle, hostStep];
    },
    link: (objs, out) => ({
      cmd: host.cmd,
      args: ["-shared", "-fPIC", ...(plan.clang.length ? ["--hip-link", ...host.flags] : [])]
        .concat(archFlags, objs, ["-o", out]),
      env: host.env,
      output: out,
      inputs: objs,
    }),
  };
}

/** The first clang-offload-bundler found: next to `clang`, on PATH, or next to hipcc's clang. */
export function bundlerCandidates(clang: string | undefined): string[] {
  const dir = (p: string) => realPath(p).replace(/\/[^/]*$/, "");
  return [
    ...(clang ? [`${dir(clang)}/clang-offload-bundler`] : []),
    "clang-offload-bundler",
    "clang-offload-bundler-19",
    "clang-offload-bundler-15",
    ...(env("ROCM_PATH") ? [`${env("ROCM_PATH")}/llvm/bin/clang-offload-bundler`] : []),
    "/usr/lib/llvm-15/bin/clang-offload-bundler",
  ];
}
