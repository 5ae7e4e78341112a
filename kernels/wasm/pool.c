// pool.c: the matrix-product entry point and a thread pool over shared memory.
//
// Every worker runs rf_worker_main in its own instance of this module (same shared memory,
// own stack) and never returns to JavaScript until the pool exits. The calling thread fills
// pool->mm and calls rf_pool_run, which publishes the job by bumping `gen` and then claims
// row chunks itself like every worker. Chunks are claimed with a compare-and-swap on a
// 64-bit cursor holding (job id, next row), so a worker that wakes late finds the job done
// and takes nothing: the caller waits only for chunks in progress (`done` counts finished
// rows), never for a worker that has not started. Idle workers poll `gen` `spin` times
// before sleeping in memory.atomic.wait32, so back-to-back products (a decode step issues
// ~150) cost no system call.
#include "rf_wasm.h"

const rf_vconsts rf_k = {
    .m4 = {0x0f0f0f0f, 0x0f0f0f0f, 0x0f0f0f0f, 0x0f0f0f0f},
    .one16 = {0x00010001, 0x00010001, 0x00010001, 0x00010001},
    .h_em = {0x00007fff, 0x00007fff, 0x00007fff, 0x00007fff},
    .h_mul = {0x77800000, 0x77800000, 0x77800000, 0x77800000},
    .h_big = {0x00007bff, 0x00007bff, 0x00007bff, 0x00007bff},
    .f_inf = {0x7f800000, 0x7f800000, 0x7f800000, 0x7f800000},
    .h_sign = {0x00008000, 0x00008000, 0x00008000, 0x00008000},
    .f_sign = {(int32_t)0x80000000, (int32_t)0x80000000, (int32_t)0x80000000, (int32_t)0x80000000},
    .f_abs = {0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff},
    .one32 = {1, 1, 1, 1},
    .r_bias = {0xfff, 0xfff, 0xfff, 0xfff},
    .r_mask = {(int32_t)0xffffe000, (int32_t)0xffffe000, (int32_t)0xffffe000, (int32_t)0xffffe000},
    .h_max = {0x477ff000, 0x477ff000, 0x477ff000, 0x477ff000},
    .h_min = {0x38800000, 0x38800000, 0x38800000, 0x38800000},
    .zero = {0, 0, 0, 0},
};

float rf_h2f_tab[65536];

// Fills the tables the kernels read (call once, before any job).
RF_EXPORT(rf_init)
void rf_init(void) {
  for (int h = 0; h < 65536; h++) rf_h2f_tab[h] = rf_h2f((uint16_t)h);
}

// Jobs: a matrix product over weight rows, attention over (query row, head) items, row-wise
// element ops, a streaming read (stream.c), exit.
enum { RF_OP_MATMUL = 1, RF_OP_EXIT = 2, RF_OP_ATTENTION = 3, RF_OP_ROWS = 4, RF_OP_STREAM = 5 };
// Row of a closed cursor: the job is over and its fields may be rewritten.
#define RF_CLOSED 0xffffffffu

typedef struct {
  int32_t gen;           // job id; bumped to publish a job
  int32_t done;          // rows finished in the current job
  int32_t chunk;         // rows claimed at a time
  int32_t nworkers;      // worker threads (the caller is not counted)
  int32_t spin;          // polls before sleeping
  int32_t op;            // RF_OP_MATMUL or RF_OP_EXIT
  int32_t main_waiting;  // the caller sleeps on `done`
  int32_t sleepers;      // workers sleeping on `gen`
  uint64_t cursor;       // (job id << 32) | next unclaimed row
  int32_t exited;        // workers that returned from rf_worker_main
  int32_t items;         // work items of the current job (rows, or rows x heads)
  rf_mm_args mm;
  rf_attn_args attn;
  rf_rows_args rows;
} rf_pool;


#define LOAD(p) __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
#define ADD(p, v) __atomic_fetch_add((p), (v), __ATOMIC_SEQ_CST)

// Rows [r0, r1) of one product on the calling thread. Never inlined: a worker stays inside
// rf_worker_main for its whole life, and only calls into separate functions pick up the
// optimized code when V8 tiers the kernels up.
RF_EXPORT(rf_matmul_range) __attribute__((noinline))
void rf_matmul_range(const rf_mm_args* a, int r0, int r1) {
  switch (a->type) {
    case RF_F32:
    case RF_F16:
    case RF_BF16: rf_mm_float(a, r0, r1); break;
    case RF_Q4_K:
    case RF_Q5_K:
    case RF_Q6_K: rf_mm_kquant(a, r0, r1); break;
    case RF_Q3_K: rf_mm_q3k(a, r0, r1); break;
    case RF_MXFP4: rf_mm_mxfp4(a, r0, r1); break;
    default: rf_mm_legacy(a, r0, r1); break;
  }
}

// Runs items [i0, i1) of job `op`.
static void run_items(rf_pool* p, int op, int i0, int i1) {
  if (op == RF_OP_ATTENTION) rf_attention_range(&p->attn, i0, i1);
  else if (op == RF_OP_ROWS) rf_rows_range(&p->rows, i0, i1);
  else if (op == RF_OP_STREAM) rf_stream_range(&p->mm, i0, i1);
  else rf_matmul_range(&p->mm, i0, i1);
}

// Claims and runs chunks of job `job` until none is left (or the job is over).
static void run_chunks(rf_pool* p, uint32_t job) {
  for (;;) {
    uint64_t c = LOAD(&p->cursor);
    if ((uint32_t)(c >> 32) != job) return;
    // A finished job's cursor is closed (row 0xffffffff) before the host may write the next
    // job's fields, so a late worker never reads them as this job's.
    const uint32_t r0u = (uint32_t)c;
    if (r0u == RF_CLOSED) return;
    const int n = p->items;
    const int op = p->op;
    const int r0 = (int)r0u;
    if (r0 >= n) return;
    const int r1 = r0 + p->chunk < n ? r0 + p->chunk : n;
    const uint64_t want = ((uint64_t)job << 32) | (uint32_t)r1;
    if (!__atomic_compare_exchange_n(&p->cursor, &c, want, 0, __ATOMIC_SEQ_CST,
                                     __ATOMIC_SEQ_CST)) {
      continue;
    }
    run_items(p, op, r0, r1);
    if (ADD(&p->done, r1 - r0) + (r1 - r0) == n && LOAD(&p->main_waiting)) {
      __builtin_wasm_memory_atomic_notify(&p->done, 1);
    }
  }
}

// A worker's whole life: wait for jobs, help with them, return on RF_OP_EXIT. `seen` is the
// job id current when the worker was started.
RF_EXPORT(rf_worker_main)
void rf_worker_main(rf_pool* p, int seen) {
  for (;;) {
    int g;
    int polls = 0;
    while ((g = LOAD(&p->gen)) == seen) {
      if (++polls < p->spin) continue;
      ADD(&p->sleepers, 1);
      if (LOAD(&p->gen) == seen) __builtin_wasm_memory_atomic_wait32(&p->gen, seen, -1);
      ADD(&p->sleepers, -1);
      polls = 0;
    }
    seen = g;
    if (LOAD(&p->op) == RF_OP_EXIT) {
      ADD(&p->exited, 1);
      return;
    }
    run_chunks(p, (uint32_t)g);
  }
}

static void publish(rf_pool* p, int op, uint32_t job) {
  STORE(&p->done, 0);
  STORE(&p->op, op);
  STORE(&p->cursor, (uint64_t)job << 32);
  STORE(&p->gen, (int32_t)job);
  if (LOAD(&p->sleepers) > 0) __builtin_wasm_memory_atomic_notify(&p->gen, (unsigned)p->nworkers);
}

// Runs job `op` (pool->mm or pool->attn, over pool->items work items) on the caller and
// every worker; returns when all items are done.
RF_EXPORT(rf_pool_run)
void rf_pool_run(rf_pool* p, int op) {
  const int n = p->items;
  if (p->nworkers == 0 || n <= p->chunk) {
    run_items(p, op, 0, n);
    return;
  }
  const uint32_t job = (uint32_t)LOAD(&p->gen) + 1;
  publish(p, op, job);
  run_chunks(p, job);
  int polls = 0;
  for (;;) {
    int d = LOAD(&p->done);
    if (d >= n) break;
    if (++polls < p->spin) continue;
    STORE(&p->main_waiting, 1);
    d = LOAD(&p->done);
    if (d >= n) break;
    __builtin_wasm_memory_atomic_wait32(&p->done, d, 1000000);
  }
  STORE(&p->main_waiting, 0);
  STORE(&p->cursor, ((uint64_t)job << 32) | RF_CLOSED);
}

// Tells every worker to return from rf_worker_main (the host waits for them to do so).
RF_EXPORT(rf_pool_exit)
void rf_pool_exit(rf_pool* p) {
  if (p->nworkers == 0) return;
  publish(p, RF_OP_EXIT, (uint32_t)LOAD(&p->gen) + 1);
  __builtin_wasm_memory_atomic_notify(&p->gen, (unsigned)p->nworkers);
}

// Byte size of rf_pool and offsets of its argument blocks, so the host lays them out alike.
RF_EXPORT(rf_pool_size) int rf_pool_size(void) { return (int)sizeof(rf_pool); }
RF_EXPORT(rf_pool_mm_offset) int rf_pool_mm_offset(void) { return (int)__builtin_offsetof(rf_pool, mm); }
RF_EXPORT(rf_pool_attn_offset) int rf_pool_attn_offset(void) { return (int)__builtin_offsetof(rf_pool, attn); }
RF_EXPORT(rf_pool_rows_offset) int rf_pool_rows_offset(void) { return (int)__builtin_offsetof(rf_pool, rows); }
