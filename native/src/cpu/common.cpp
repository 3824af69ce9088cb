// Thread count of the CPU kernels.
#include "spinekit/common.h"

#include <atomic>

#include "cpu/parallel.h"

namespace spinekit {
static std::atomic<int> g_threads{0};

int num_threads() {
  int n = g_threads.load(std::memory_order_relaxed);
  return n > 0 ? n : omp_get_max_threads();
}
}  // namespace spinekit

extern "C" void spinekit_set_num_threads(int n) {
  spinekit::g_threads.store(n > 0 ? n : 0, std::memory_order_relaxed);
}

extern "C" int spinekit_get_num_threads(void) { return spinekit::num_threads(); }
