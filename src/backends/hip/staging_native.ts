/**
 * The native half of the staging ring (native/rf_staging.cpp): a host buffer this side owns,
 * pinned by the library while the staging lives, with one event per slot.
 *
 * @module
 */
import type { HipNative } from "./native.ts";
import type { StagingDevice } from "./staging.ts";

/** A staging ring on a context, copying into one arena. */
export class HipStaging implements StagingDevice {
  private disposed = false;

  private constructor(
    private readonly native: HipNative,
    private readonly id: number,
    private readonly arena: number,
    /** Kept alive here while the library holds its address. */
    readonly buffer: Uint8Array,
    /** False when the runtime refused to pin the buffer (copies staged by it: slower). */
    readonly pinned: boolean,
  ) {}

  /** A ring of `slots` parts of `slotBytes` on context `ctx`, copying into `arena`. */
  static create(
    native: HipNative,
    ctx: number,
    arena: number,
    slotBytes: number,
    slots: number,
  ): HipStaging {
    const buffer = new Uint8Array(slotBytes * slots);
    const out = new Int32Array(2);
    native.call("rf_staging_create", ctx, buffer, buffer.byteLength, slots, out);
    return new HipStaging(native, out[0], arena, buffer, out[1] === 1);
  }

  upload(slot: number, offset: number, bytes: number): void {
    this.native.call("rf_staging_upload", this.id, slot, this.arena, offset, bytes);
  }

  wait(slot: number): void {
    this.native.call("rf_staging_wait", this.id, slot);
  }

  /** Waits for every queued copy, then unpins and frees the ring. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.native.call("rf_staging_destroy", this.id);
  }
}
