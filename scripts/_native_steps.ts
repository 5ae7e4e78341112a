/**
 * The build steps of scripts/build_native.ts and their runner: each step is one command that
 * writes one file from its inputs. A step runs when its output is missing, older than an
 * input, or was made by a different command line (kept beside it as `<output>.cmd`), or when
 * a step it depends on runs. Independent steps run in parallel (`jobs` at a time); a step
 * whose input comes from another step waits for it.
 *
 * @module
 */
import { modifiedMs } from "../src/runtime/ffi_build.ts";
import { pathExists, readTextFile, writeFile, writeStdout } from "../src/runtime/host.ts";
import { runCommand } from "../src/runtime/subprocess.ts";

/** One compile, bundle or link step. */
export interface Step {
  readonly cmd: string;
  readonly args: string[];
  readonly env?: Record<string, string>;
  readonly output: string;
  /** Files the output is made from (sources, headers, objects of earlier steps). */
  readonly inputs: string[];
}

/** The compilers of one build target. */
export interface Toolchain {
  readonly target: "amd" | "cuda";
  /** One line naming the compilers and GPU targets. */
  readonly summary: string;
  /** Steps that make files the others use (generated device libraries); run first. */
  readonly prelude?: Step[];
  compileHost(src: string, obj: string): Step;
  /** The steps that turn one kernel source into `obj` (the last step writes `obj`). */
  kernelSteps(src: string, obj: string): Step[];
  link(objs: string[], out: string): Step;
}

/** Compiler flags that make every warning an error. */
export const WARN = ["-Wall", "-Wextra", "-Werror"];

const commandLine = (s: Step) => JSON.stringify([s.cmd, s.args, s.env ?? {}]);
const stampPath = (s: Step) => `${s.output}.cmd`;

/** The steps that must run (in `steps`' order), given that `force` reruns every step. */
export function staleSteps(steps: readonly Step[], force: boolean): Step[] {
  const stale = new Set<string>();
  const out: Step[] = [];
  for (const s of steps) {
    const own = force || !pathExists(stampPath(s)) ||
      readTextFile(stampPath(s)) !== commandLine(s) ||
      modifiedMs(s.output) < Math.max(-1, ...s.inputs.map(modifiedMs));
    if (own || s.inputs.some((i) => stale.has(i))) {
      stale.add(s.output);
      out.push(s);
    }
  }
  return out;
}

/**
 * Runs `steps` (listed after the steps that make their inputs), `jobs` at a time. Returns one
 * text per failed step: its command line and output. Zero warnings: any output that mentions
 * a warning fails the step even when the compiler exits 0.
 */
export async function runSteps(steps: readonly Step[], jobs: number, root: string) {
  const failures: string[] = [];
  const producer = new Map(steps.map((s) => [s.output, s]));
  const state = new Map<Step, "ok" | "failed">();
  const running = new Map<Step, Promise<void>>();
  const pending = [...steps];
  const run = async (s: Step) => {
    writeStdout(`  ${s.cmd.split("/").pop()} -> ${s.output.replace(`${root}/`, "")}\n`);
    const r = await runCommand(s.cmd, s.args, { cwd: root, env: s.env });
    const text = (r.stdout + r.stderr).trim();
    if (r.code !== 0 || /warning/i.test(text)) {
      failures.push(`${s.cmd} ${s.args.join(" ")}\n${text}`);
      state.set(s, "failed");
    } else {
      writeFile(stampPath(s), commandLine(s));
      state.set(s, "ok");
    }
    running.delete(s);
  };
  while (pending.length || running.size) {
    for (let i = 0; i < pending.length && running.size < jobs;) {
      const s = pending[i];
      const deps = s.inputs.map((f) => producer.get(f)).filter((d) => d !== undefined);
      if (deps.some((d) => state.get(d) === "failed")) {
        state.set(s, "failed");
        pending.splice(i, 1);
      } else if (deps.every((d) => state.get(d) === "ok")) {
        pending.splice(i, 1);
        running.set(s, run(s));
      } else i++;
    }
    if (running.size) await Promise.race(running.values());
    else if (pending.length) break; // only steps whose inputs failed are left
  }
  return failures;
}
