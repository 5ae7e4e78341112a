/**
 * Best-fit allocation of scratch slots for one program: values are carved out of a region
 * that grows only when no freed block fits, and freed blocks are merged with their
 * neighbours. The region's high-water mark is the scratch the program needs.
 *
 * @module
 */

/** A best-fit allocator over an unbounded range of slots starting at `base`. */
export class SlotAllocator {
  private readonly free: { start: number; size: number }[] = [];
  private top: number;
  private readonly live = new Map<number, number>();

  constructor(private readonly base: number) {
    this.top = base;
  }

  /** The first slot past everything ever allocated. */
  get end(): number {
    return this.top;
  }

  /** Allocates `size` slots (size > 0) and returns the first slot. */
  alloc(size: number): number {
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const b = this.free[i];
      if (b.size >= size && (best < 0 || b.size < this.free[best].size)) best = i;
    }
    let start: number;
    if (best >= 0) {
      const b = this.free[best];
      start = b.start;
      if (b.size === size) this.free.splice(best, 1);
      else this.free[best] = { start: b.start + size, size: b.size - size };
    } else {
      // Extend the region, absorbing a free block that ends at the top.
      const last = this.free.length ? this.free[this.free.length - 1] : undefined;
      if (last && last.start + last.size === this.top) {
        this.free.pop();
        start = last.start;
        this.top = start + size;
      } else {
        start = this.top;
        this.top += size;
      }
    }
    this.live.set(start, size);
    return start;
  }

  /** Releases a block returned by alloc. */
  release(start: number): void {
    const size = this.live.get(start);
    if (size === undefined) throw new Error(`slot ${start} is not allocated`);
    this.live.delete(start);
    let i = 0;
    while (i < this.free.length && this.free[i].start < start) i++;
    this.free.splice(i, 0, { start, size });
    // Merge with the next, then the previous block.
    if (i + 1 < this.free.length && start + size === this.free[i + 1].start) {
      this.free[i].size += this.free[i + 1].size;
      this.free.splice(i + 1, 1);
    }
    if (i > 0 && this.free[i - 1].start + this.free[i - 1].size === start) {
      this.free[i - 1].size += this.free[i].size;
      this.free.splice(i, 1);
    }
  }

  /** Slots currently allocated. */
  get inUse(): number {
    let n = 0;
    for (const s of this.live.values()) n += s;
    return n;
  }

  /** Slot where the allocator's range starts. */
  get start(): number {
    return this.base;
  }
}
