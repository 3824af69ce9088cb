// Internal helpers of the CPU kernels: thread count and a static parallel loop.
#ifndef SPINEKIT_CPU_PARALLEL_H
#define SPINEKIT_CPU_PARALLEL_H

#include <omp.h>

#include <cstdint>

namespace spinekit {

int num_threads();

// Runs fn(i) for i in [0, n) on up to num_threads() threads, statically
// partitioned, so the same inputs give the same outputs on every run.
template <typename Fn>
inline void parallel_for(int64_t n, Fn&& fn) {
  int nt = num_threads();
  if (nt > n) nt = static_cast<int>(n);
  if (nt <= 1) {
    for (int64_t i = 0; i < n; ++i) fn(i);
    return;
  }
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int64_t i = 0; i < n; ++i) fn(i);
}

}  // namespace spinekit
#endif
