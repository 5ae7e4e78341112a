/**
 * WebAssembly matrix-kernel microbenchmark (issue 18, WebAssembly targets): weight bytes read
 * per second of CPU time by one kernel thread, for decode (`--t 1`, one activation row) or a
 * small batch, at TinyLlama's matrix shapes. CPU time (this process, one thread) rather than
 * wall time, so that the other processes of a shared machine change the numbers little;
 * weight copies rotate so that they exceed the caches. With `--baseline FILE.wasm` (e.g. the
 * relaxed module of an older commit) both modules run the same matrices, rounds interleaved,
 * their outputs compared bit for bit first, and each row gives baseline -> current.
 *
 * usage: deno run -A scripts/bench_wasm_kernels.ts [--types Q4_0,Q8_0,Q4_K,Q6_K] [--t 1]
 *          [--rounds 8] [--copies 4] [--variant relaxed|simd128] [--baseline FILE.wasm]
 *
 * @module
 */
import { WasmKernels, type WasmMatrix } from "../src/backends/cpu/wasm/runtime.ts";
import type { KernelVariant } from "../src/backends/cpu/wasm/module.ts";
import { type GGMLType, typeByName, typeTraits } from "../src/gguf/ggml_types.ts";
import { quantize } from "../src/gguf/quants/mod.ts";
import { args, exit, readFile, writeStderr, writeStdout } from "../src/runtime/host.ts";
import { processCpuMs } from "../src/runtime/cpu_time.ts";
import { randomFloats } from "../tests/random_data.ts";

const USAGE = "usage: deno run -A scripts/bench_wasm_kernels.ts [--types Q4_0,Q8_0,Q4_K,Q6_K] " +
  "[--t 1] [--rounds 8] [--copies 4] [--variant relaxed|simd128] [--baseline FILE.wasm]";

/** TinyLlama's matrices: [cols (k), rows (n)]. */
const SHAPES = [[2048, 5632], [5632, 2048], [2048, 2048], [2048, 256]] as const;

interface Options {
  types: string[];
  t: number;
  rounds: number;
  copies: number;
  variant: KernelVariant;
  baseline?: string;
}

function parse(argv: string[]): Options {
  const o: Options = {
    types: ["Q4_0", "Q8_0", "Q4_K", "Q6_K"],
    t: 1,
    rounds: 8,
    copies: 4,
    variant: "relaxed",
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], v = argv[i + 1];
    const int = () => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new Error(`${a} needs a positive integer`);
      i++;
      return n;
    };
    if (a === "--types" && v) (o.types = v.split(",")), i++;
    else if (a === "--t") o.t = int();
    else if (a === "--rounds") o.rounds = int();
    else if (a === "--copies") o.copies = int();
    else if (a === "--variant" && (v === "relaxed" || v === "simd128")) (o.variant = v), i++;
    else if (a === "--baseline" && v) (o.baseline = v), i++;
    else throw new Error(`unknown or incomplete argument ${a}`);
  }
  for (const t of o.types) typeByName(t); // throws on an unknown name
  return o;
}

async function main(): Promise<void> {
  let o: Options;
  try {
    o = parse(args());
  } catch (e) {
    writeStderr(`${(e as Error).message}\n${USAGE}\n`);
    exit(2);
  }
  const kernels: WasmKernels[] = [];
  for (const file of o.baseline ? [o.baseline, undefined] : [undefined]) {
    const module = file ? new WebAssembly.Module(new Uint8Array(readFile(file))) : undefined;
    const k = await WasmKernels.create({ threads: 1, variant: o.variant, module });
    if (!k) throw new Error(`this runtime cannot run the ${o.variant} kernels`);
    kernels.push(k);
  }
  writeStdout(
    `variant ${o.variant}, T=${o.t}, 1 thread, GB/s of weights per CPU second` +
      (o.baseline ? ` (${o.baseline} -> current)` : "") + "\n",
  );
  try {
    for (const name of o.types) writeStdout(benchType(kernels, typeByName(name).id, o) + "\n");
  } finally {
    for (const k of kernels) await k.dispose();
  }
}

/** One line: GB/s per shape (baseline -> current with two kernel sets). */
function benchType(kernels: WasmKernels[], type: GGMLType, o: Options): string {
  const tr = typeTraits(type);
  const x = randomFloats(5632 * o.t, 7, 1);
  const y = new Float32Array(5632 * o.t);
  const cells: string[] = [];
  SHAPES.forEach(([k, n], s) => {
    const raw = quantize(type, randomFloats(k * n, 11 + s, 1));
    const rowBytes = raw.length / n;
    const mats = kernels.map((kk) =>
      Array.from({ length: o.copies }, (): WasmMatrix => ({
        type,
        rows: n,
        cols: k,
        ptr: kk.upload(raw),
        rowBytes,
      }))
    );
    if (kernels.length === 2) {
      const y0 = new Float32Array(n * o.t), y1 = new Float32Array(n * o.t);
      kernels[0].matmul(mats[0][0], x, o.t, y0);
      kernels[1].matmul(mats[1][0], x, o.t, y1);
      const bad = y0.findIndex((v, i) => !Object.is(v, y1[i]));
      if (bad >= 0) throw new Error(`${tr.name} ${k}x${n}: output ${bad} differs from baseline`);
    }
    // warm-up: V8 moves a kernel to its optimizing tier after enough calls
    for (let r = 0; r < 40; r++) {
      kernels.forEach((kk, j) => kk.matmul(mats[j][r % o.copies], x, o.t, y));
    }
    const ms = kernels.map(() => 0);
    for (let r = 0; r < o.rounds; r++) {
      kernels.forEach((kk, j) => {
        const c0 = processCpuMs();
        for (const m of mats[j]) kk.matmul(m, x, o.t, y);
        ms[j] += processCpuMs() - c0;
      });
    }
    const gbs = ms.map((t) => (raw.length * o.copies * o.rounds) / (t * 1e6));
    cells.push(`${k}x${n} ${gbs.map((g) => g.toFixed(1)).join(" -> ")}`);
    kernels.forEach((kk, j) => mats[j].forEach((m) => kk.heap.free(m.ptr, raw.length)));
  });
  return `${tr.name.padEnd(5)} ${cells.join("  ")}`;
}

if ((import.meta as { main?: boolean }).main) await main();
