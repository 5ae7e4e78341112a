/**
 * Native CPU kernel benchmark (librocmforge_cpu through the FFI, as the CPU backend calls it):
 * one matrix product at TinyLlama's shapes for each weight type, prefill-shaped (-p rows of
 * activations) and decode-shaped (one row), best of `--reps` wall times, with GOP/s and, for
 * decode, the weight bytes read per second. Decode rotates over enough weight copies to
 * exceed `--cache-mib` (default 256), so it reads memory rather than cache. Kernel times move
 * less with the machine's load than whole-model runs (`deno task bench`), which is what this
 * is for: comparing kernel changes on a shared machine.
 *
 * usage: deno run -A scripts/bench_cpu_kernels.ts [--types Q4_0,Q8_0,Q4_K] [-p 64] [-t 1]
 *          [--reps 20] [--variant avx2|avx512vnni] [--cache-mib 256] [--json]
 *
 * @module
 */
import { GGMLType, typeByName, typeTraits } from "../src/gguf/ggml_types.ts";
import {
  NativeKernels,
  type NativeMatrix,
  type NativeVariant,
} from "../src/backends/cpu/native/native_kernels.ts";
import { args, exit, now, writeStderr, writeStdout } from "../src/runtime/host.ts";

const SHAPES = [
  { name: "attn_q", rows: 2048, cols: 2048 },
  { name: "attn_k", rows: 256, cols: 2048 },
  { name: "ffn_up", rows: 5632, cols: 2048 },
  { name: "ffn_down", rows: 2048, cols: 5632 },
];

/** Byte offsets of the half scales in a block of each type (random bytes elsewhere). */
const HALVES: Partial<Record<GGMLType, number[]>> = {
  [GGMLType.Q4_0]: [0],
  [GGMLType.Q8_0]: [0],
  [GGMLType.Q4_K]: [0, 2],
  [GGMLType.Q5_K]: [0, 2],
  [GGMLType.Q6_K]: [208],
};

function usage(msg: string): never {
  writeStderr(`bench_cpu_kernels: ${msg}\n`);
  writeStderr(
    "usage: deno run -A scripts/bench_cpu_kernels.ts [--types Q4_0,Q8_0,Q4_K] [-p 64] [-t 1] " +
      "[--reps 20] [--variant avx2|avx512vnni] [--cache-mib 256] [--json]\n",
  );
  exit(2);
}

/** Random weights of `type` whose scales are small normal halves (so sums stay finite). */
function weights(type: GGMLType, rows: number, cols: number, seed: number): Uint8Array {
  const tr = typeTraits(type);
  const out = new Uint8Array(rows * (cols / tr.blockSize) * tr.typeSize);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < out.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = s & 255;
  }
  const dv = new DataView(out.buffer);
  for (let b = 0; b < out.length; b += tr.typeSize) {
    for (const o of HALVES[type]!) dv.setUint16(b + o, 0x2000 + (out[b + o] & 0x3ff), true);
  }
  return out;
}

async function main(argv: string[]): Promise<void> {
  let types = ["Q4_0", "Q8_0", "Q4_K"], p = 64, threads = 1, reps = 20, cacheMiB = 256;
  let variant: NativeVariant | undefined, json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1) usage(`${a} needs a positive integer`);
      return v;
    };
    if (a === "--types") types = (argv[++i] ?? "").split(",").filter(Boolean);
    else if (a === "-p") p = num();
    else if (a === "-t") threads = num();
    else if (a === "--reps") reps = num();
    else if (a === "--cache-mib") cacheMiB = num();
    else if (a === "--variant") {
      const v = argv[++i];
      if (v !== "avx2" && v !== "avx512vnni") usage("--variant is avx2 or avx512vnni");
      variant = v;
    } else if (a === "--json") json = true;
    else usage(`unknown argument ${a}`);
  }
  const k = await NativeKernels.open({ threads, variant });
  const rows: Record<string, unknown>[] = [];
  try {
    if (!json) {
      writeStdout(`native CPU kernels: ${k.variant}, ${k.threads} thread(s), best of ${reps}\n`);
      writeStdout(
        "| type | shape | pp ms | pp GOP/s | tg ms | tg GB/s |\n|---|---|---|---|---|---|\n",
      );
    }
    for (const name of types) {
      let type: GGMLType;
      try {
        type = typeByName(name).id;
      } catch {
        usage(`unknown type ${name}`);
      }
      if (!HALVES[type]) usage(`no benchmark weights for type ${name}`);
      for (const sh of SHAPES) {
        const raw = weights(type, sh.rows, sh.cols, 7);
        const copies = Math.max(1, Math.ceil((cacheMiB * 2 ** 20) / raw.byteLength));
        const mats: NativeMatrix[] = [];
        for (let c = 0; c < copies; c++) {
          mats.push(k.prepare(type, sh.rows, sh.cols, c === 0 ? raw : raw.slice()));
        }
        const x = new Float32Array(p * sh.cols).map((_, i) => Math.sin(i * 0.37));
        const y = new Float32Array(p * sh.rows);
        const best = (T: number, rotate: boolean) => {
          k.matmul(mats[0], x, T, y);
          let b = Infinity;
          for (let r = 0; r < reps; r++) {
            const t0 = now();
            k.matmul(mats[rotate ? r % copies : 0], x, T, y);
            b = Math.min(b, now() - t0);
          }
          return b;
        };
        const pp = best(p, false), tg = best(1, true);
        const row = {
          type: name,
          shape: `${sh.name} ${sh.rows}x${sh.cols}`,
          pp_ms: pp,
          pp_gops: (2 * sh.rows * sh.cols * p) / (pp * 1e6),
          tg_ms: tg,
          tg_gbps: raw.byteLength / (tg * 1e6),
        };
        rows.push(row);
        if (!json) {
          writeStdout(
            `| ${name} | ${row.shape} | ${pp.toFixed(3)} | ${row.pp_gops.toFixed(0)} | ` +
              `${tg.toFixed(4)} | ${row.tg_gbps.toFixed(1)} |\n`,
          );
        }
      }
    }
  } finally {
    k.dispose();
  }
  if (json) writeStdout(JSON.stringify({ p, threads, reps, rows }, null, 2) + "\n");
}

if (import.meta.main) await main(args());
