// rf_cpu_pool.c: the thread pool of the native CPU kernels (the protocol of
// kernels/wasm/pool.c in C11 atomics and Linux futexes).
//
// The caller publishes a job by bumping `gen` and then claims chunks itself like every
// worker. Chunks are claimed with a compare-and-swap on a 64-bit cursor holding (job id, next
// item), so a worker that wakes late finds the job closed and takes nothing: the caller waits
// only for chunks in progress, never for a worker that has not started. Idle threads poll
// `spin` times (with the pause instruction) before sleeping on a futex, so the ~150 products
// of a decode step cost no system call while the pool is busy, and a quiet pool costs no CPU.
#define _GNU_SOURCE
#include <immintrin.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rf_cpu.h"

// The library the npm package ships (built on a newer glibc) loads on glibc before 2.34 too:
// the thread functions bind to their first versions, which later glibcs keep.
#if defined(__GLIBC__) && defined(__x86_64__)
__asm__(".symver pthread_create,pthread_create@GLIBC_2.2.5");
__asm__(".symver pthread_join,pthread_join@GLIBC_2.2.5");
#endif

#define CLOSED 0xffffffffu

struct rf_cpu_pool {
  _Atomic uint32_t gen;       // job id; bumped to publish a job
  _Atomic int32_t done;       // items finished in the current job
  _Atomic uint64_t cursor;    // (job id << 32) | next unclaimed item
  _Atomic int32_t sleepers;   // workers sleeping on gen
  _Atomic int32_t main_waiting;
  _Atomic int32_t exiting;
  int threads;
  int spin;
  int items;
  int chunk;
  rf_cpu_job job;
  void* ctx;
  pthread_t* workers;
  int started;
};

static void futex_wait(_Atomic uint32_t* addr, uint32_t val) {
  syscall(SYS_futex, (uint32_t*)addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake(_Atomic uint32_t* addr, int n) {
  syscall(SYS_futex, (uint32_t*)addr, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

// Claims and runs chunks of job `id` until none is left.
static void run_chunks(rf_cpu_pool* p, uint32_t id) {
  for (;;) {
    uint64_t c = atomic_load(&p->cursor);
    if ((uint32_t)(c >> 32) != id || (uint32_t)c == CLOSED) return;
    const int n = p->items;
    const int i0 = (int)(uint32_t)c;
    if (i0 >= n) return;
    const int i1 = i0 + p->chunk < n ? i0 + p->chunk : n;
    const uint64_t want = ((uint64_t)id << 32) | (uint32_t)i1;
    if (!atomic_compare_exchange_weak(&p->cursor, &c, want)) continue;
    p->job(p->ctx, i0, i1);
    if (atomic_fetch_add(&p->done, i1 - i0) + (i1 - i0) == n &&
        atomic_load(&p->main_waiting)) {
      futex_wake((_Atomic uint32_t*)&p->done, 1);
    }
  }
}

static void* worker_main(void* arg) {
  rf_cpu_pool* p = arg;
  uint32_t seen = 0;
  for (;;) {
    uint32_t g;
    int polls = 0;
    while ((g = atomic_load(&p->gen)) == seen) {
      if (++polls < p->spin) {
        _mm_pause();
        continue;
      }
      atomic_fetch_add(&p->sleepers, 1);
      if (atomic_load(&p->gen) == seen) futex_wait(&p->gen, seen);
      atomic_fetch_sub(&p->sleepers, 1);
      polls = 0;
    }
    seen = g;
    if (atomic_load(&p->exiting)) return NULL;
    run_chunks(p, g);
  }
}

rf_cpu_pool* rf_cpu_pool_create(int threads, int spin) {
  rf_cpu_pool* p = calloc(1, sizeof(rf_cpu_pool));
  if (!p) return NULL;
  p->threads = threads < 1 ? 1 : threads;
  p->spin = spin < 0 ? 0 : spin;
  atomic_store(&p->cursor, (uint64_t)CLOSED);
  if (p->threads > 1) {
    p->workers = calloc((size_t)p->threads - 1, sizeof(pthread_t));
    if (!p->workers) {
      free(p);
      return NULL;
    }
    for (int i = 0; i < p->threads - 1; i++) {
      if (pthread_create(&p->workers[i], NULL, worker_main, p) != 0) break;
      p->started++;
    }
  }
  return p;
}

int rf_cpu_pool_threads(const rf_cpu_pool* p) { return p->started + 1; }

void rf_cpu_pool_run(rf_cpu_pool* p, rf_cpu_job job, void* ctx, int items, int chunk) {
  if (chunk < 1) chunk = 1;
  if (p->started == 0 || items <= chunk) {
    job(ctx, 0, items);
    return;
  }
  const uint32_t id = atomic_load(&p->gen) + 1;
  p->job = job;
  p->ctx = ctx;
  p->items = items;
  p->chunk = chunk;
  atomic_store(&p->done, 0);
  atomic_store(&p->cursor, (uint64_t)id << 32);
  atomic_store(&p->gen, id);
  if (atomic_load(&p->sleepers) > 0) futex_wake(&p->gen, p->started);
  run_chunks(p, id);
  int polls = 0;
  for (;;) {
    int d = atomic_load(&p->done);
    if (d >= items) break;
    if (++polls < p->spin) {
      _mm_pause();
      continue;
    }
    atomic_store(&p->main_waiting, 1);
    d = atomic_load(&p->done);
    if (d >= items) break;
    futex_wait((_Atomic uint32_t*)&p->done, (uint32_t)d);
  }
  atomic_store(&p->main_waiting, 0);
  atomic_store(&p->cursor, ((uint64_t)id << 32) | CLOSED);
}

void rf_cpu_pool_destroy(rf_cpu_pool* p) {
  if (!p) return;
  atomic_store(&p->exiting, 1);
  atomic_fetch_add(&p->gen, 1);
  futex_wake(&p->gen, p->started);
  for (int i = 0; i < p->started; i++) pthread_join(p->workers[i], NULL);
  free(p->workers);
  free(p);
}
