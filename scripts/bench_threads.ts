/**
 * Thread scaling and idle-thread polling of the CPU backend (issue 18 item 5): prefill and
 * decode tokens/s for every thread count from 1 to all cores, each with the kernel threads
 * polling `--spin` times before they sleep (a comma list; default: the provider's default and
 * 0, sleeping at once), runs interleaved so that every setting sees the same machine load.
 * `--kernels native|wasm` picks the provider.
 *
 * usage: deno task bench:threads -m MODEL [-p 64] [-n 16] [-r 2] [--kernels native|wasm]
 *          [--spin 2000,0]
 *
 * @module
 */
import { createRegistry, createSession, loadModel } from "../src/api.ts";
import type { CpuKernelChoice } from "../src/backends/cpu/backend.ts";
import { DEFAULT_NATIVE_SPIN } from "../src/backends/cpu/native/native_kernels.ts";
import { DEFAULT_SPIN } from "../src/backends/cpu/wasm/runtime.ts";
import { args, cpuCount, exit, now, writeStderr, writeStdout } from "../src/runtime/host.ts";
import { benchTokens } from "./bench.ts";

const USAGE = "usage: deno task bench:threads -m MODEL [-p 64] [-n 16] [-r 2] " +
  "[--kernels native|wasm] [--spin 2000,0]";

interface Options {
  model: string;
  p: number;
  n: number;
  reps: number;
  kernels: CpuKernelChoice;
  /** Polls before sleeping, one setting each; undefined: the provider's default and 0. */
  spin?: number[];
}

function parse(a: readonly string[]): Options {
  const o: Options = { model: "", p: 64, n: 16, reps: 2, kernels: "native" };
  for (let i = 0; i < a.length; i += 2) {
    const v = a[i + 1];
    if (v === undefined) throw new Error(`${a[i]} needs a value`);
    const int = () => {
      const x = Number(v);
      if (!Number.isInteger(x) || x < 1) throw new Error(`${a[i]} must be a positive integer`);
      return x;
    };
    if (a[i] === "-m") o.model = v;
    else if (a[i] === "-p") o.p = int();
    else if (a[i] === "-n") o.n = int();
    else if (a[i] === "-r") o.reps = int();
    else if (a[i] === "--spin") {
      o.spin = v.split(",").map((x) => {
        const n = Number(x);
        if (x.trim() === "" || !Number.isInteger(n) || n < 0) {
          throw new Error("--spin must be non-negative integers");
        }
        return n;
      });
    } else if (a[i] === "--kernels") {
      if (v !== "native" && v !== "wasm") throw new Error("--kernels must be native or wasm");
      o.kernels = v;
    } else throw new Error(`unknown argument ${a[i]}`);
  }
  if (!o.model) throw new Error("-m MODEL is required");
  return o;
}

/** Tokens/s of one prefill of `p` tokens and of `n` decode steps, on a fresh session. */
async function once(o: Options, threads: number, spin: number) {
  const polls = o.kernels === "native" ? { nativeSpin: spin } : { spin };
  const registry = createRegistry({ cpu: { threads, kernels: o.kernels, ...polls } });
  const model = await loadModel(o.model, { backend: "cpu", registry, log: () => {} });
  try {
    const tokens = benchTokens(o.p + o.n + 8, model.config.vocabSize);
    const s = createSession(model, { batchSize: Math.max(256, o.p) });
    await s.eval(tokens.slice(0, 8), "last"); // warm-up
    s.truncate(0);
    let t0 = now();
    await s.eval(tokens.slice(0, o.p), "last");
    const pp = o.p / ((now() - t0) / 1000);
    t0 = now();
    for (let i = 0; i < o.n; i++) await s.eval([tokens[o.p + i]], "last");
    const tg = o.n / ((now() - t0) / 1000);
    return { pp, tg };
  } finally {
    model.dispose();
    registry.backend("cpu").dispose();
  }
}

async function main(): Promise<number> {
  let o: Options;
  try {
    o = parse(args());
  } catch (e) {
    writeStderr(`bench_threads: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const cores = await cpuCount();
  const spins = o.spin ?? [o.kernels === "native" ? DEFAULT_NATIVE_SPIN : DEFAULT_SPIN, 0];
  const settings: { threads: number; spin: number }[] = [];
  for (let t = 1; t <= cores; t++) for (const spin of spins) settings.push({ threads: t, spin });
  const pp = settings.map(() => [] as number[]), tg = settings.map(() => [] as number[]);
  for (let r = 0; r < o.reps; r++) {
    for (let i = 0; i < settings.length; i++) {
      const x = await once(o, settings[i].threads, settings[i].spin);
      pp[i].push(x.pp);
      tg[i].push(x.tg);
    }
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  writeStdout(`model: ${o.model}  kernels: ${o.kernels}  reps: ${o.reps} (interleaved)\n`);
  writeStdout(
    `| threads | idle threads | pp${o.p} t/s | tg${o.n} t/s |\n| --- | --- | --- | --- |\n`,
  );
  settings.forEach((s, i) => {
    const how = s.spin ? `poll ${s.spin}x, then sleep` : "sleep at once";
    writeStdout(
      `| ${s.threads} | ${how} | ${mean(pp[i]).toFixed(2)} | ${mean(tg[i]).toFixed(2)} |\n`,
    );
  });
  return 0;
}

if (import.meta.main) exit(await main());
