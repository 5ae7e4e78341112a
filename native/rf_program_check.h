// rf_program_check.h: the schema-driven part of program validation (plain C++, no GPU
// runtime): every operand word of an op is checked against the generated op table
// (rf_schema.gen.h): dims positive, counts and offsets non-negative, each scratch, host-input
// and host-output range inside its buffer, weight types readable in their role and weight
// ranges inside the arena. rf_graph.cpp adds each op's own rules (token ids, RoPE modes, KV
// shapes) on top.
#pragma once
#include <stdint.h>

#include <string>

#include "rf_schema.gen.h"

namespace rf {

// Program addresses (scratch, host input and arena words) count 256-byte slots (rf_api.h).
constexpr int64_t SLOT_BYTES = 256;

// Bytes of a [n, k] weight of `type` (rows of k elements); -1 for an unknown type, a
// non-positive dim or a row that is not whole blocks.
int64_t weight_bytes(int type, int64_t k, int64_t n);

// The op table entry of `code`, or nullptr for an unknown opcode.
const OpInfo* op_info(int code);

// The buffers a program addresses. arenaBytes < 0: no weight arena.
struct ProgramBounds {
  int64_t scratchBytes, inBytes, outBytes, arenaBytes;
};

// Checks the operand words `a` of `op` (the caller checked that op.words words follow).
// Returns false and sets `err` on the first violation.
bool check_words(const OpInfo& op, const int32_t* a, const ProgramBounds& b, std::string& err);

}  // namespace rf
