/**
 * Model weights on the device: one arena per model, sized to the sum of the tensors (each
 * rounded to 256 bytes), every tensor uploaded in its GGUF block form through a staging ring. Tensors of a type the
 * kernels cannot read are not uploaded (`has` is false for them).
 *
 * @module
 */
import type { WeightTensor } from "../../core/backend.ts";
import { BackendError } from "../../core/errors.ts";
import { SLOT_BYTES } from "./ffi/symbols.ts";
import type { HipNative } from "./native.ts";
import type { WeightRef } from "./program.ts";
import { weightBytes } from "./program_io.ts";
import { type StagedTensor, uploadStaged } from "./staging.ts";
import { HipStaging } from "./staging_native.ts";
import { HIP_WEIGHT_TYPES } from "./support.ts";

const align = (n: number) => Math.ceil(n / SLOT_BYTES) * SLOT_BYTES;

/**
 * The staging ring: 4 slots of 16 MiB (smaller for small models), 64 MiB pinned while a model
 * loads. On the H200 this reads a 4 GB 7B Q4_0 file at 5.0-5.8 GB/s from the page cache (the
 * old tensor-by-tensor synchronous upload from fresh pageable buffers: 1.4-2.5 GB/s). How much
 * of that is the file read alone (bench_load.ts --read-only) and other ring sizes were not
 * measured on the device yet (scripts/load_gpu_session.sh read / variants).
 */
const STAGING_SLOTS = 4;
const STAGING_SLOT_BYTES = 16 << 20;

let nextStoreId = 1;

/** Weights held in one device arena. */
export class HipWeightStore {
  readonly backend = "hip";
  /** Distinguishes stores in program caches. */
  readonly id = nextStoreId++;
  private readonly refs = new Map<string, WeightRef>();
  private disposed = false;

  private constructor(
    private readonly native: HipNative,
    readonly ctx: number,
    readonly arena: number,
    readonly bytes: number,
  ) {}

  /**
   * Uploads `tensors` into a new arena on context `ctx`, in file order (sequential reads)
   * through a staging ring (staging.ts): reading part i+1 overlaps copying part i.
   */
  static async load(
    native: HipNative,
    ctx: number,
    tensors: readonly WeightTensor[],
    signal?: AbortSignal,
  ): Promise<HipWeightStore> {
    const usable = tensors.filter((t) => HIP_WEIGHT_TYPES.has(t.info.type))
      .sort((a, b) => a.info.offset - b.info.offset);
    for (const t of usable) {
      const expected = weightBytes(t.info.type, t.info.dims);
      if (t.info.nBytes !== expected) {
        throw new BackendError(
          "BACKEND_CALL_FAILED",
          `tensor ${t.info.name} has ${t.info.nBytes} bytes, expected ${expected}`,
          { expected, actual: t.info.nBytes },
        );
      }
    }
    const total = usable.reduce((s, t) => s + align(t.info.nBytes), 0);
    const arena = native.arenaCreate(ctx, Math.max(total, SLOT_BYTES));
    const store = new HipWeightStore(native, ctx, arena, total);
    let staging: HipStaging | undefined;
    try {
      const items: StagedTensor[] = usable.map((t) => {
        const offset = native.arenaAlloc(arena, t.info.nBytes);
        store.refs.set(t.info.name, {
          slot: offset / SLOT_BYTES,
          type: t.info.type,
          dims: [...t.info.dims],
        });
        return { tensor: t, offset };
      });
      const slotBytes = Math.min(STAGING_SLOT_BYTES, align(Math.ceil(total / STAGING_SLOTS)));
      staging = HipStaging.create(
        native,
        ctx,
        arena,
        Math.max(slotBytes, SLOT_BYTES),
        STAGING_SLOTS,
      );
      await uploadStaged(staging.buffer, STAGING_SLOTS, staging, items, signal);
      staging.dispose(); // waits for the last copies
    } catch (e) {
      try {
        staging?.dispose();
      } finally {
        store.dispose();
      }
      throw e;
    }
    return store;
  }

  has(name: string): boolean {
    return this.refs.has(name);
  }

  /** Where a tensor lives; throws BackendError when it was not uploaded. */
  ref(name: string): WeightRef {
    if (this.disposed) throw new BackendError("BACKEND_DISPOSED", "weight store was disposed");
    const r = this.refs.get(name);
    if (!r) {
      throw new BackendError("BACKEND_CALL_FAILED", `weight ${name} is not on the HIP device`, {
        actual: name,
      });
    }
    return r;
  }

  /** Copies a tensor's bytes back from the device (used by tests). */
  download(name: string): Uint8Array {
    const r = this.ref(name);
    const out = new Uint8Array(weightBytes(r.type, r.dims));
    this.native.arenaDownload(this.arena, r.slot * SLOT_BYTES, out);
    return out;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.refs.clear();
    this.native.arenaDestroy(this.arena);
  }
}
