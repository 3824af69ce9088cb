// Internal helpers of the CPU kernels: thread count and a static parallel loop.
#ifndef SPINEKIT_CPU_PARALLEL_H
#define SPINEKIT_CPU_PARALLEL_H

#include <omp.h>

#include <cstdint>

namespace spinekit {

int num_threads();

// Runs fn(i) for i in [0, n) on up to num_threads() threads. Tasks are handed
// out dynamically, so a thread whose core is taken by another process does not
// hold the call up; results stay identical on every run and thread count
// because each task writes its own slots and partials are reduced in task order.
template <typename Fn>
inline void parallel_for(int64_t n, Fn&& fn) {
  int nt = num_threads();
  if (nt > n) nt = static_cast<int>(n);
  if (nt <= 1) {
    for (int64_t i = 0; i < n; ++i) fn(i);
    return;
  }
#pragma omp parallel for num_threads(nt) schedule(dynamic)
  for (int64_t i = 0; i < n; ++i) fn(i);
}

}  // namespace spinekit
#endif
