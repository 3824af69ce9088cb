// glibc malloc settings that keep freed memory in the process (spinekit/common.h).
#include <climits>
#include <cstdint>
#include <mutex>

#include "spinekit/common.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace {
constexpr int kHeapMax = 64 << 20;  // HEAP_MAX_SIZE of 64-bit glibc: a thread arena's heap
std::mutex g_mu;
int64_t g_threshold = 0;
}  // namespace

extern "C" int spinekit_malloc_keep_warm(int on) {
#if defined(__GLIBC__)
  std::lock_guard<std::mutex> lock(g_mu);
  if (on) {
    int64_t threshold = INT_MAX;
    bool mmap_ok = mallopt(M_MMAP_THRESHOLD, INT_MAX) == 1;
    if (!mmap_ok) {
      // Older glibc refuses thresholds above HEAP_MAX_SIZE / 2 (32 MiB on 64 bits).
      threshold = int64_t{32} << 20;
      mmap_ok = mallopt(M_MMAP_THRESHOLD, static_cast<int>(threshold)) == 1;
    }
    const bool trim_ok = mallopt(M_TRIM_THRESHOLD, INT_MAX) == 1;
    // A thread arena deletes a heap (64 MiB, HEAP_MAX_SIZE) that became entirely free unless
    // the previous heap has less than M_TOP_PAD room left, whatever the trim threshold: a
    // tensor that took a heap of its own would be unmapped on every free. A pad of a whole
    // heap keeps every heap; it is address space, not memory, until touched.
    const bool pad_ok = mallopt(M_TOP_PAD, kHeapMax) == 1;
    if (!mmap_ok || !trim_ok || !pad_ok) return 0;
    g_threshold = threshold;
    return 1;
  }
  const int defaults = 128 * 1024;  // glibc's M_MMAP_THRESHOLD, M_TRIM_THRESHOLD
  const bool ok = mallopt(M_MMAP_THRESHOLD, defaults) == 1 &&
                  mallopt(M_TRIM_THRESHOLD, defaults) == 1 &&
                  mallopt(M_TOP_PAD, defaults) == 1;  // and M_TOP_PAD, per mallopt(3)
  malloc_trim(0);
  if (!ok) return 0;
  g_threshold = defaults;
  return 1;
#else
  (void)on;
  return 0;
#endif
}

extern "C" int64_t spinekit_malloc_mmap_threshold(void) {
  std::lock_guard<std::mutex> lock(g_mu);
  return g_threshold;
}
