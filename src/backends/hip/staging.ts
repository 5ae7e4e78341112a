/**
 * Weight upload through a staging ring: one host buffer cut into `slots` equal parts. Each
 * tensor is read from the model file in parts of at most a slot, straight into the next free
 * slot, and that slot's copy to the device is queued at once; the host then reads the next part
 * into the next slot while the copy engine moves this one (with 3+ slots, reading never waits
 * for a copy unless the device is slower than the file). A slot is refilled only after its
 * previous copy is done. The device side is an interface, so the ring is tested without a GPU.
 *
 * @module
 */
import type { WeightTensor } from "../../core/backend.ts";
import { AbortError } from "../../core/errors.ts";

/** The device half of a staging ring (native: rf_staging_*). */
export interface StagingDevice {
  /** Queues a copy of `bytes` bytes from the start of `slot` to byte `offset` of the arena. */
  upload(slot: number, offset: number, bytes: number): void;
  /** Blocks until the last copy queued from `slot` is done (at once when none is queued). */
  wait(slot: number): void;
}

/** A tensor and the arena byte offset it goes to. */
export interface StagedTensor {
  readonly tensor: WeightTensor;
  readonly offset: number;
}

/** Parts of at most `slotBytes` of every tensor, in order: [index, start, bytes]. */
export function stagingParts(
  sizes: readonly number[],
  slotBytes: number,
): [number, number, number][] {
  const parts: [number, number, number][] = [];
  sizes.forEach((n, i) => {
    for (let start = 0; start < n; start += slotBytes) {
      parts.push([i, start, Math.min(slotBytes, n - start)]);
    }
  });
  return parts;
}

/** Reads parts of a tensor: through `readInto`, else from one `read()` kept for its parts. */
function partReader(t: WeightTensor): (start: number, target: Uint8Array) => void {
  if (t.readInto) return (start, target) => t.readInto!(start, target);
  let whole: Uint8Array | undefined;
  return (start, target) => {
    whole ??= t.read();
    target.set(whole.subarray(start, start + target.byteLength));
  };
}

/**
 * Uploads every tensor through the ring over `buffer` (`slots` equal parts). Yields to the
 * event loop between tensors and checks `signal` there. Returns with copies still queued: the
 * caller waits for them (destroying the native staging does).
 */
export async function uploadStaged(
  buffer: Uint8Array,
  slots: number,
  device: StagingDevice,
  items: readonly StagedTensor[],
  signal?: AbortSignal,
): Promise<void> {
  const slotBytes = buffer.byteLength / slots;
  if (!Number.isInteger(slotBytes) || slotBytes <= 0) {
    throw new RangeError(`a ${buffer.byteLength}-byte buffer does not cut into ${slots} slots`);
  }
  let slot = 0;
  let last = -1;
  let read: (start: number, target: Uint8Array) => void = () => {};
  for (const [i, start, bytes] of stagingParts(items.map((x) => x.tensor.info.nBytes), slotBytes)) {
    if (i !== last) {
      if (last >= 0) await Promise.resolve(); // progress output and aborts between tensors
      if (signal?.aborted) throw new AbortError("weight upload aborted");
      read = partReader(items[i].tensor);
      last = i;
    }
    device.wait(slot);
    read(start, buffer.subarray(slot * slotBytes, slot * slotBytes + bytes));
    device.upload(slot, items[i].offset + start, bytes);
    slot = (slot + 1) % slots;
  }
}
