// Row maximum with a record of non-finite values, shared by the softmax kernels.
#ifndef SPINEKIT_CPU_ROW_STATS_H
#define SPINEKIT_CPU_ROW_STATS_H

#include <cmath>
#include <cstdint>
#include <limits>

namespace spinekit {

struct RowMax {
  float max;
  bool has_nan;
  // A softmax over the row is defined: no NaN, no +inf, not all -inf.
  bool finite() const { return !has_nan && std::isfinite(max); }
};

inline RowMax row_max(const float* x, int64_t n) {
  float m = -std::numeric_limits<float>::infinity();
  int nan = 0;
#pragma omp simd reduction(max : m) reduction(| : nan)
  for (int64_t i = 0; i < n; ++i) {
    m = x[i] > m ? x[i] : m;
    nan |= x[i] != x[i];
  }
  return RowMax{m, nan != 0};
}

}  // namespace spinekit
#endif
