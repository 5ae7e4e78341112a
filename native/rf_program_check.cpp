// rf_program_check.cpp: schema-driven validation of program operand words (see the header).
#include "rf_program_check.h"

namespace rf {

namespace {
}  // namespace

int64_t weight_bytes(int type, int64_t k, int64_t n) {
  const int64_t block = type_block(type), size = type_bytes(type);
  if (block == 0 || k <= 0 || n <= 0 || k % block != 0) return -1;
  return k / block * size * n;
}

const OpInfo* op_info(int code) {
  for (const OpInfo& op : OP_TABLE) {
    if (op.code == code) return &op;
  }
  return nullptr;
}

bool check_words(const OpInfo& op, const int32_t* a, const ProgramBounds& b, std::string& err) {
  auto fails = [&](const WordInfo& w, const std::string& why) {
    err = std::string(w.name) + " " + why;
    return false;
  };
  // Dims, counts and types first: the ranges below are sized by them.
  for (int i = 0; i < op.words; ++i) {
    const WordInfo& w = op.w[i];
    if (w.kind == W_DIM && a[i] <= 0) return fails(w, "must be positive");
    if ((w.kind == W_COUNT || w.kind == W_HOST_OUT || w.kind == W_SLOT || w.kind == W_HOST_IN) &&
        a[i] < 0) {
      return fails(w, "must not be negative");
    }
    if (w.kind == W_TYPE) {
      bool none = false;  // the type of an optional weight that is absent
      for (int j = 0; j < op.words; ++j) {
        if (op.w[j].typeWord == i && op.w[j].optional && a[j] == -1) none = true;
      }
      if (!none && !(hip_type_uses(a[i]) & w.use)) {
        return fails(w, "is type " + std::to_string(a[i]) + ", unsupported in this role");
      }
    }
  }
  for (int i = 0; i < op.words; ++i) {
    const WordInfo& w = op.w[i];
    int64_t elems = 1;
    for (int r = 0; r < w.nRefs && w.kind != W_WEIGHT; ++r) elems *= a[w.refs[r]];
    switch (w.kind) {
      case W_SLOT: {
        const int64_t bytes = elems * w.elemBytes;
        if ((int64_t)a[i] * SLOT_BYTES + bytes > b.scratchBytes) {
          return fails(w, "range (slot " + std::to_string(a[i]) + ", " + std::to_string(bytes) +
                              " bytes) exceeds scratch of " + std::to_string(b.scratchBytes) +
                              " bytes");
        }
        break;
      }
      case W_HOST_IN:
        if ((int64_t)a[i] * SLOT_BYTES + elems * 4 > b.inBytes) {
          return fails(w, "must lie in the host input");
        }
        break;
      case W_HOST_OUT: {
        int64_t bytes = 0;  // the count word of the op sizes the copy
        for (int j = 0; j < op.words; ++j) {
          if (op.w[j].kind == W_COUNT) bytes = a[j];
        }
        if ((int64_t)a[i] + bytes > b.outBytes) {
          return fails(w, "range exceeds the host output buffer");
        }
        break;
      }
      case W_WEIGHT: {
        if (w.optional && a[i] == -1) break;
        if (b.arenaBytes < 0) return fails(w, "needs a weight arena");
        const int64_t k = a[w.refs[0]], n = w.nRefs > 1 ? a[w.refs[1]] : 1;
        const int64_t bytes = weight_bytes(a[w.typeWord], k, n);
        if (bytes < 0) return fails(w, "has an unsupported type or shape");
        if (a[i] < 0 || (int64_t)a[i] * SLOT_BYTES + bytes > b.arenaBytes) {
          return fails(w, "range exceeds the weight arena");
        }
        break;
      }
      default:
        break;
    }
  }
  return true;
}

}  // namespace rf
