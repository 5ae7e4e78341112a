/**
 * The streaming-read microbenchmark of this machine, which scripts/bench.ts runs in the same
 * command as the decode rows it rates: every kernel thread reads its share of a region much
 * larger than the caches with 16-byte WebAssembly loads (kernels/wasm/stream.c), as a
 * matrix-vector product reads its weights. The best of several passes is the bandwidth (the
 * fastest pass is the one least disturbed by other load on the machine).
 *
 * @module
 */
import { WasmKernels } from "../src/backends/cpu/wasm/runtime.ts";
import { STREAM_ROW_BYTES } from "../src/backends/cpu/wasm/stream.ts";
import { now } from "../src/runtime/host.ts";

/** Result of streamBandwidth. */
export interface StreamResult {
  /** Bytes per second of the fastest pass. */
  readonly bytesPerSec: number;
  /** Bytes per second of every timed pass, in order. */
  readonly passes: readonly number[];
  readonly bytes: number;
  readonly threads: number;
}

/** Options of streamBandwidth. */
export interface StreamOptions {
  readonly threads: number;
  /** Region size (default 256 MiB, rounded down to whole rows). */
  readonly bytes?: number;
  /** Timed passes after one untimed pass (default 5). */
  readonly passes?: number;
}

/** Measures the streaming-read bandwidth with `threads` kernel threads. */
export async function streamBandwidth(o: StreamOptions): Promise<StreamResult> {
  const k = await WasmKernels.create({ threads: o.threads });
  if (!k) throw new Error("this JavaScript runtime lacks WebAssembly SIMD or threads");
  try {
    const rows = Math.max(1, Math.floor((o.bytes ?? 256 * 2 ** 20) / STREAM_ROW_BYTES));
    const bytes = rows * STREAM_ROW_BYTES;
    const ptr = k.heap.alloc(bytes, 64);
    // distinct bytes on every page, so that no page is shared copy-on-write zeros
    const u8 = k.heap.u8;
    for (let i = 0; i < bytes; i += 4096) u8[ptr + i] = (i >>> 12) & 255;
    k.streamRead(ptr, bytes);
    const passes: number[] = [];
    for (let i = 0; i < (o.passes ?? 5); i++) {
      const t0 = now();
      k.streamRead(ptr, bytes);
      passes.push(bytes / ((now() - t0) / 1000));
    }
    return { bytesPerSec: Math.max(...passes), passes, bytes, threads: o.threads };
  } finally {
    await k.dispose();
  }
}
