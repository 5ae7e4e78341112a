/**
 * In-place ordering of parallel candidate arrays (logits, ids, probs) without allocating.
 *
 * The order is total: logit descending, then id ascending, so every result is deterministic
 * whatever pivots were chosen. A small top-k of a large range (the common sampling case) is
 * found with one scan and a k-sized heap, O(n + k log k log n) on typical inputs; otherwise
 * selection is introselect (median-of-three quickselect with a heapsort fallback). Sorting is
 * introsort with insertion sort for short ranges, so the worst case stays O(n log n) for any
 * input, and a NaN can misorder but never hang or read out of bounds. The heap path uses
 * module-level scratch buffers of size k (safe: these functions are synchronous).
 *
 * @module
 */

const SMALL = 16;
/** Largest k for the heap path, and the range must be at least HEAP_RATIO * k long. */
const HEAP_MAX_K = 1024;
const HEAP_RATIO = 16;

let sPos = new Int32Array(0);
let sL = new Float32Array(0);
let sI = new Int32Array(0);
let sP = new Float32Array(0);
let sFlag = new Uint8Array(0);

function swap(L: Float32Array, I: Int32Array, P: Float32Array, a: number, b: number): void {
  const l = L[a], i = I[a], p = P[a];
  L[a] = L[b];
  I[a] = I[b];
  P[a] = P[b];
  L[b] = l;
  I[b] = i;
  P[b] = p;
}

/** True when element a orders before element b (higher logit, or same logit and lower id). */
function before(L: Float32Array, I: Int32Array, a: number, b: number): boolean {
  const la = L[a], lb = L[b];
  return la > lb || (la === lb && I[a] < I[b]);
}

function insertionSort(L: Float32Array, I: Int32Array, P: Float32Array, lo: number, hi: number) {
  for (let i = lo + 1; i <= hi; i++) {
    const l = L[i], id = I[i], p = P[i];
    let j = i - 1;
    while (j >= lo && (l > L[j] || (l === L[j] && id < I[j]))) {
      L[j + 1] = L[j];
      I[j + 1] = I[j];
      P[j + 1] = P[j];
      j--;
    }
    L[j + 1] = l;
    I[j + 1] = id;
    P[j + 1] = p;
  }
}

function siftDown(
  L: Float32Array,
  I: Int32Array,
  P: Float32Array,
  base: number,
  root: number,
  n: number,
): void {
  for (;;) {
    let child = 2 * root + 1;
    if (child >= n) return;
    if (child + 1 < n && before(L, I, base + child, base + child + 1)) child++;
    if (!before(L, I, base + root, base + child)) return;
    swap(L, I, P, base + root, base + child);
    root = child;
  }
}

/** Heapsort of [lo, hi] (inclusive): the guaranteed O(n log n) fallback. */
function heapSort(L: Float32Array, I: Int32Array, P: Float32Array, lo: number, hi: number): void {
  const n = hi - lo + 1;
  for (let i = (n >> 1) - 1; i >= 0; i--) siftDown(L, I, P, lo, i, n);
  for (let end = n - 1; end > 0; end--) {
    swap(L, I, P, lo, lo + end);
    siftDown(L, I, P, lo, 0, end);
  }
}

/**
 * Hoare partition of [lo, hi] (hi > lo) around the median of three. Returns j with
 * lo <= j < hi such that nothing in [lo, j] orders after anything in [j + 1, hi].
 */
function partition(L: Float32Array, I: Int32Array, P: Float32Array, lo: number, hi: number) {
  const mid = (lo + hi) >>> 1;
  if (before(L, I, mid, lo)) swap(L, I, P, mid, lo);
  if (before(L, I, hi, lo)) swap(L, I, P, hi, lo);
  if (before(L, I, hi, mid)) swap(L, I, P, hi, mid);
  const pl = L[mid], pi = I[mid];
  let i = lo - 1, j = hi + 1;
  for (;;) {
    do i++; while (L[i] > pl || (L[i] === pl && I[i] < pi));
    do j--; while (pl > L[j] || (pl === L[j] && pi < I[j]));
    if (i >= j) return j;
    swap(L, I, P, i, j);
  }
}

function depthLimit(n: number): number {
  return 2 * Math.ceil(Math.log2(n + 1)) + 4;
}

function introSort(
  L: Float32Array,
  I: Int32Array,
  P: Float32Array,
  lo: number,
  hi: number,
  depth: number,
): void {
  while (hi - lo > SMALL) {
    if (depth-- === 0) {
      heapSort(L, I, P, lo, hi);
      return;
    }
    const j = partition(L, I, P, lo, hi);
    if (j - lo < hi - j) {
      introSort(L, I, P, lo, j, depth);
      lo = j + 1;
    } else {
      introSort(L, I, P, j + 1, hi, depth);
      hi = j;
    }
  }
  insertionSort(L, I, P, lo, hi);
}

/** Rearranges [lo, hi] (inclusive) so that positions before `end` hold its first elements. */
function introSelect(
  L: Float32Array,
  I: Int32Array,
  P: Float32Array,
  lo: number,
  hi: number,
  end: number,
): void {
  let depth = depthLimit(hi - lo + 1);
  while (hi - lo > SMALL) {
    if (depth-- === 0) {
      heapSort(L, I, P, lo, hi);
      return;
    }
    const j = partition(L, I, P, lo, hi);
    if (end <= j) hi = j;
    else if (end > j + 1) lo = j + 1;
    else return;
  }
  insertionSort(L, I, P, lo, hi);
}

/** Restores the heap of positions below `root`; the root is the kept element ordering last. */
function heapSift(L: Float32Array, I: Int32Array, heap: Int32Array, root: number, k: number) {
  for (;;) {
    let child = 2 * root + 1;
    if (child >= k) return;
    if (child + 1 < k && before(L, I, heap[child], heap[child + 1])) child++;
    if (!before(L, I, heap[root], heap[child])) return;
    const t = heap[root];
    heap[root] = heap[child];
    heap[child] = t;
    root = child;
  }
}

/** selectSorted for small k: scan with a k-sized heap, then move the winners to the front. */
function heapSelectSorted(
  L: Float32Array,
  I: Int32Array,
  P: Float32Array,
  lo: number,
  hi: number,
  k: number,
): void {
  if (sPos.length < k) {
    sPos = new Int32Array(k);
    sL = new Float32Array(k);
    sI = new Int32Array(k);
    sP = new Float32Array(k);
    sFlag = new Uint8Array(k);
  }
  const heap = sPos;
  for (let j = 0; j < k; j++) heap[j] = lo + j;
  for (let j = (k >> 1) - 1; j >= 0; j--) heapSift(L, I, heap, j, k);
  let wl = L[heap[0]], wi = I[heap[0]];
  for (let p = lo + k; p < hi; p++) {
    const l = L[p];
    if (l > wl || (l === wl && I[p] < wi)) {
      heap[0] = p;
      heapSift(L, I, heap, 0, k);
      wl = L[heap[0]];
      wi = I[heap[0]];
    }
  }
  for (let j = 0; j < k; j++) {
    const p = heap[j];
    sL[j] = L[p];
    sI[j] = I[p];
    sP[j] = P[p];
  }
  introSort(sL, sI, sP, 0, k - 1, depthLimit(k));
  // Winners that sat beyond the front leave holes; fill them with the front's losers.
  const flag = sFlag;
  flag.fill(0, 0, k);
  for (let j = 0; j < k; j++) if (heap[j] - lo < k) flag[heap[j] - lo] = 1;
  let d = 0;
  for (let j = 0; j < k; j++) {
    const h = heap[j];
    if (h - lo < k) continue;
    while (flag[d]) d++;
    L[h] = L[lo + d];
    I[h] = I[lo + d];
    P[h] = P[lo + d];
    d++;
  }
  L.set(sL.subarray(0, k), lo);
  I.set(sI.subarray(0, k), lo);
  P.set(sP.subarray(0, k), lo);
}

/**
 * Orders the range [lo, hi) of the parallel arrays so that [lo, lo + k) holds, sorted, the k
 * elements that come first (logit descending, id ascending); [lo + k, hi) holds the rest in
 * unspecified order. k is clamped to the range length.
 */
export function selectSorted(
  L: Float32Array,
  I: Int32Array,
  P: Float32Array,
  lo: number,
  hi: number,
  k: number,
): void {
  const n = hi - lo;
  if (k > n) k = n;
  if (k <= 0 || n <= 1) return;
  if (k <= HEAP_MAX_K && k * HEAP_RATIO <= n) {
    heapSelectSorted(L, I, P, lo, hi, k);
    return;
  }
  const end = lo + k;
  if (end < hi) introSelect(L, I, P, lo, hi - 1, end);
  introSort(L, I, P, lo, end - 1, depthLimit(k));
}
