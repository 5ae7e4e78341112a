/**
 * Model weights on the device: one arena per model, sized to the sum of the tensors (each
 * rounded to 256 bytes), every tensor uploaded in its GGUF block form. Tensors of a type the
 * kernels cannot read are not uploaded (`has` is false for them).
 *
 * @module
 */
import type { WeightTensor } from "../../core/backend.ts";
import { AbortError, BackendError } from "../../core/errors.ts";
import { SLOT_BYTES } from "./ffi/symbols.ts";
import type { HipNative } from "./native.ts";
import type { WeightRef } from "./program.ts";
import { weightBytes } from "./program_io.ts";
import { HIP_WEIGHT_TYPES } from "./support.ts";

const align = (n: number) => Math.ceil(n / SLOT_BYTES) * SLOT_BYTES;

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

  /** Uploads `tensors` into a new arena on context `ctx`. */
  static async load(
    native: HipNative,
    ctx: number,
    tensors: readonly WeightTensor[],
    signal?: AbortSignal,
  ): Promise<HipWeightStore> {
    const usable = tensors.filter((t) => HIP_WEIGHT_TYPES.has(t.info.type));
    const total = usable.reduce((s, t) => s + align(t.info.nBytes), 0);
    const arena = native.arenaCreate(ctx, Math.max(total, SLOT_BYTES));
    const store = new HipWeightStore(native, ctx, arena, total);
    try {
      for (const t of usable) {
        if (signal?.aborted) throw new AbortError("weight upload aborted");
        const expected = weightBytes(t.info.type, t.info.dims);
        const data = t.read();
        if (data.byteLength !== expected) {
          throw new BackendError(
            "BACKEND_CALL_FAILED",
            `tensor ${t.info.name} has ${data.byteLength} bytes, expected ${expected}`,
            { expected, actual: data.byteLength },
          );
        }
        const off = native.arenaAlloc(arena, data.byteLength);
        native.arenaUpload(arena, off, data);
        store.refs.set(t.info.name, {
          slot: off / SLOT_BYTES,
          type: t.info.type,
          dims: [...t.info.dims],
        });
        // Let other work (progress output, abort signals) run between tensors.
        await Promise.resolve();
      }
    } catch (e) {
      store.dispose();
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
