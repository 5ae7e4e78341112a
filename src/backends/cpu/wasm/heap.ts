/**
 * The shared WebAssembly memory of the kernels and an allocator over it: a bump pointer
 * plus a first-fit list of freed blocks (weights and KV caches of disposed models and
 * sessions are reused). Nothing moves; scratch buffers grow by doubling. The memory is a
 * growable shared memory with a 4 GiB maximum (wasm32), so every view stays valid after
 * growth (a shared buffer is never detached).
 *
 * @module
 */
import { OutOfMemoryError } from "../../../core/errors.ts";

/** WebAssembly page size. */
export const PAGE = 65536;
/** Most pages a wasm32 memory can have (4 GiB). */
export const MAX_PAGES = 65536;

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/** An allocator over a shared WebAssembly.Memory. */
export class WasmHeap {
  readonly memory: WebAssembly.Memory;
  private top: number;
  /** Freed blocks [start, end), sorted by start, never adjacent (merged). */
  private readonly freeList: [number, number][] = [];
  private len = 0;
  private u8v: Uint8Array = new Uint8Array(0);
  private f32v: Float32Array = new Float32Array(0);
  private i32v: Int32Array = new Int32Array(0);

  /** `base`: first free byte (the module's __heap_base). */
  constructor(base: number, initialPages: number) {
    this.memory = new WebAssembly.Memory({
      initial: initialPages,
      maximum: MAX_PAGES,
      shared: true,
    });
    this.top = base;
  }

  /** Bytes allocated so far (the high-water mark). */
  get used(): number {
    return this.top;
  }

  /** Bytes that can still be allocated. */
  get available(): number {
    return MAX_PAGES * PAGE - this.top;
  }

  private refresh(): void {
    const buf = this.memory.buffer;
    if (buf.byteLength === this.len) return;
    this.len = buf.byteLength;
    this.u8v = new Uint8Array(buf);
    this.f32v = new Float32Array(buf);
    this.i32v = new Int32Array(buf);
  }

  /** A byte view of the whole memory. */
  get u8(): Uint8Array {
    this.refresh();
    return this.u8v;
  }

  /** A float32 view of the whole memory. */
  get f32(): Float32Array {
    this.refresh();
    return this.f32v;
  }

  /** An int32 view of the whole memory. */
  get i32(): Int32Array {
    this.refresh();
    return this.i32v;
  }

  /** Grows the memory so that `end` bytes are addressable. */
  private ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    this.memory.grow(Math.ceil((end - have) / PAGE));
  }

  /**
   * Allocates `bytes` (aligned to `align`) and returns the address. Throws OutOfMemoryError
   * when the 4 GiB address space (or the host) cannot hold them.
   */
  alloc(bytes: number, align = 64): number {
    for (let i = 0; bytes >= 0 && i < this.freeList.length; i++) {
      const [s, e] = this.freeList[i];
      const p = alignUp(s, align);
      if (p + bytes > e) continue;
      const parts: [number, number][] = [];
      if (p > s) parts.push([s, p]);
      if (p + bytes < e) parts.push([p + bytes, e]);
      this.freeList.splice(i, 1, ...parts);
      return p;
    }
    const p = alignUp(this.top, align);
    const end = p + bytes;
    if (!Number.isSafeInteger(bytes) || bytes < 0 || end > MAX_PAGES * PAGE) {
      throw new OutOfMemoryError(`WebAssembly memory cannot hold ${bytes} more bytes`, {
        bytes,
        expected: bytes,
        actual: MAX_PAGES * PAGE - p,
      });
    }
    try {
      this.ensure(end);
    } catch (e) {
      throw new OutOfMemoryError(`growing WebAssembly memory to ${end} bytes failed: ${e}`, {
        bytes,
      });
    }
    this.top = end;
    return p;
  }

  /** Gives back [start, start + bytes) (an allocation, or a part of one, no longer used). */
  free(start: number, bytes: number): void {
    let s = start, e = start + bytes;
    if (!(bytes > 0 && s >= 0 && e <= this.top)) return;
    const list = this.freeList;
    let i = 0;
    while (i < list.length && list[i][1] < s) i++;
    // merge with neighbours that touch [s, e)
    while (i < list.length && list[i][0] <= e) {
      s = Math.min(s, list[i][0]);
      e = Math.max(e, list[i][1]);
      list.splice(i, 1);
    }
    if (e === this.top) {
      this.top = s;
      const last = list[list.length - 1];
      if (last && last[1] === this.top) {
        this.top = last[0];
        list.pop();
      }
    } else {
      list.splice(i, 0, [s, e]);
    }
  }

  /** Bytes in freed blocks waiting for reuse. */
  get freeBytes(): number {
    return this.freeList.reduce((a, [s, e]) => a + e - s, 0);
  }
}
