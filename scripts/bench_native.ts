/**
 * Native kernel benchmark of the HIP backend: decode matrix-vector bandwidth (GB/s and the
 * fraction of the measured device-to-device copy bandwidth and of the card's datasheet peak)
 * and prefill matrix-matrix throughput (TFLOP/s) for quantized weights at TinyLlama
 * (dim 2048, ffn 5632) and 7B (dim 4096, ffn 14336) shapes. Weight copies are rotated so
 * that their total exceeds the GPU's L2 cache and decode timings measure device memory.
 *
 * usage: deno run -A scripts/bench_native.ts [--types Q4_0,Q8_0,Q4_K] [--prefill 512]
 *          [--reps 20] [--shapes tinyllama,7b,7b/ffn_up] [--lib PATH] [--json]
 *
 * @module
 */
import { openHipNative } from "../src/backends/hip/native.ts";
import { GGMLType, typeByName, typeTraits } from "../src/gguf/ggml_types.ts";
import { args, exit, writeStderr, writeStdout } from "../src/runtime/host.ts";

interface Shape {
  model: string;
  name: string;
  k: number;
  n: number;
}
const SHAPES: Shape[] = [
  { model: "tinyllama", name: "attn_q", k: 2048, n: 2048 },
  { model: "tinyllama", name: "ffn_up", k: 2048, n: 5632 },
  { model: "tinyllama", name: "ffn_down", k: 5632, n: 2048 },
  { model: "7b", name: "attn_q", k: 4096, n: 4096 },
  { model: "7b", name: "attn_k", k: 4096, n: 1024 },
  { model: "7b", name: "ffn_up", k: 4096, n: 14336 },
  { model: "7b", name: "ffn_down", k: 14336, n: 4096 },
];

/** Datasheet memory bandwidth (GB/s) by device name. */
function datasheetPeak(name: string): number | undefined {
  if (/H200/.test(name)) return 4800;
  if (/H100.*PCIe/i.test(name)) return 2000;
  if (/H100/.test(name)) return 3350;
  if (/MI250/.test(name)) return 3277;
  if (/MI210/.test(name)) return 1638;
  return undefined;
}

/** Half-float byte offsets (scales) inside one block of each quantized type. */
const SCALE_OFFSETS: Record<string, number[]> = {
  Q4_0: [0],
  Q4_1: [0, 2],
  Q5_0: [0],
  Q5_1: [0, 2],
  Q8_0: [0],
  Q4_K: [0, 2],
  Q5_K: [0, 2],
  Q6_K: [208],
};

/** Random weight bytes with finite scales (0.0625 as f16 = 0x2c00). */
function randomWeights(type: number, k: number, n: number): Uint8Array {
  const t = typeTraits(type);
  const bytes = new Uint8Array((k * n / t.blockSize) * t.typeSize);
  let s = 12345;
  for (let i = 0; i < bytes.length; i += 4) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    bytes[i] = s >>> 24;
    bytes[i + 1] = s >>> 16;
    bytes[i + 2] = s >>> 8;
    bytes[i + 3] = s;
  }
  const offs = SCALE_OFFSETS[t.name];
  if (offs) {
    for (let b = 0; b < bytes.length; b += t.typeSize) {
      for (const o of offs) {
        bytes[b + o] = 0x00;
        bytes[b + o + 1] = 0x2c;
      }
    }
  } else if (type === GGMLType.F16 || type === GGMLType.BF16) {
    for (let i = 1; i < bytes.length; i += 2) bytes[i] = (bytes[i] & 0x83) | 0x30;
  }
  return bytes;
}

async function main(): Promise<number> {
  const argv = args();
  let types = ["Q4_0", "Q8_0", "Q4_K"];
  let prefill = 512;
  let reps = 20;
  let shapes = SHAPES;
  let lib: string | undefined;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--types") types = argv[++i].split(",");
    else if (a === "--prefill") prefill = Number(argv[++i]);
    else if (a === "--reps") reps = Number(argv[++i]);
    else if (a === "--shapes") {
      const want = argv[++i].split(",");
      shapes = SHAPES.filter((s) =>
        want.includes(s.model) || want.includes(`${s.model}/${s.name}`)
      );
    } else if (a === "--lib") lib = argv[++i];
    else if (a === "--json") json = true;
    else {
      writeStderr(`unknown argument ${a}\n`);
      return 2;
    }
  }
  const native = await openHipNative(lib);
  native.init();
  const dev = native.deviceProps(0);
  const ctx = native.contextCreate(0);
  const copyBytes = 1 << 30;
  const copy = native.benchCopy(ctx, copyBytes, 20);
  const copyGBs = (2 * copyBytes) / (copy.median * 1e6); // read + write
  const peak = datasheetPeak(dev.name);
  const rows: Record<string, unknown>[] = [];
  const l2Target = Math.max(4 * dev.l2Bytes, 256 << 20);
  for (const typeName of types) {
    const type = typeByName(typeName).id;
    for (const s of shapes) {
      const w = randomWeights(type, s.k, s.n);
      const copies = Math.max(1, Math.ceil(l2Target / w.byteLength));
      const arena = native.arenaCreate(ctx, copies * (w.byteLength + 256));
      const offsets: number[] = [];
      for (let c = 0; c < copies; c++) {
        const off = native.arenaAlloc(arena, w.byteLength);
        native.arenaUpload(arena, off, w);
        offsets.push(off);
      }
      const dec = native.benchMatmul(ctx, arena, offsets, type, s.k, s.n, 1, reps);
      const gbs = w.byteLength / (dec.median * 1e6);
      const pre = native.benchMatmul(ctx, arena, offsets, type, s.k, s.n, prefill, 10);
      const tflops = (2 * s.k * s.n * prefill) / (pre.median * 1e9);
      native.arenaDestroy(arena);
      rows.push({
        type: typeName,
        model: s.model,
        matrix: s.name,
        k: s.k,
        n: s.n,
        weightMB: +(w.byteLength / 1e6).toFixed(2),
        decodeUs: +(dec.median * 1000).toFixed(1),
        decodeGBs: +gbs.toFixed(0),
        ofCopy: +(gbs / copyGBs).toFixed(3),
        ofPeak: peak ? +(gbs / peak).toFixed(3) : null,
        prefillT: prefill,
        prefillMs: +pre.median.toFixed(3),
        prefillTFlops: +tflops.toFixed(2),
      });
    }
  }
  native.contextDestroy(ctx);
  const head = {
    device: dev.name,
    arch: dev.arch,
    target: native.target,
    copyGBs: +copyGBs.toFixed(0),
    datasheetGBs: peak ?? null,
  };
  if (json) {
    writeStdout(JSON.stringify({ ...head, results: rows }, null, 1) + "\n");
  } else {
    writeStdout(
      `${dev.name} (${dev.arch}, ${native.target} build): d2d copy ${head.copyGBs} GB/s` +
        `${peak ? `, datasheet ${peak} GB/s` : ""}\n`,
    );
    writeStdout(
      "type  model      matrix    K      N      MB      decode us  GB/s  %copy %peak  " +
        `prefill(T=${prefill}) ms  TFLOP/s\n`,
    );
    for (const r of rows) {
      writeStdout(
        [
          String(r.type).padEnd(5),
          String(r.model).padEnd(10),
          String(r.matrix).padEnd(9),
          String(r.k).padEnd(6),
          String(r.n).padEnd(6),
          String(r.weightMB).padEnd(7),
          String(r.decodeUs).padStart(9),
          String(r.decodeGBs).padStart(5),
          (100 * (r.ofCopy as number)).toFixed(0).padStart(5),
          r.ofPeak === null ? "    -" : (100 * (r.ofPeak as number)).toFixed(0).padStart(5),
          String(r.prefillMs).padStart(18),
          String(r.prefillTFlops).padStart(8),
        ].join(" ") + "\n",
      );
    }
  }
  return 0;
}

if (import.meta.main) exit(await main());
