// Test of spinekit_malloc_keep_warm (spinekit/common.h): whether glibc keeps freed blocks
// in the process after the call. In the main arena (this program's first thread), seen
// through mallinfo2(): hblkhd counts the bytes of mmap'ed blocks, arena the bytes of the
// heap. In a thread's arena, seen through the thread's page faults: a block that needs a
// heap of its own (64 MiB each) must find its pages again after a free. Run as its own
// process: it changes process-wide allocator settings.
//
// Output: "PASS name" or "FAIL name: detail" per check, then "N passed, M failed".
#include <malloc.h>
#include <sys/resource.h>

#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "spinekit/common.h"

namespace {

int g_passed = 0;
int g_failed = 0;

void report(const std::string& name, bool ok, const std::string& detail) {
  if (ok) {
    ++g_passed;
    std::printf("PASS %s\n", name.c_str());
  } else {
    ++g_failed;
    std::printf("FAIL %s: %s\n", name.c_str(), detail.c_str());
  }
}

std::string mib(size_t bytes) { return std::to_string(bytes / double(1 << 20)) + " MiB"; }

// Allocates and touches n bytes; reports whether the block was mmap'ed (hblkhd grew by at
// least n) and returns it.
void* touched(size_t n, bool* mmapped) {
  const size_t before = mallinfo2().hblkhd;
  void* p = std::malloc(n);
  if (!p) {
    std::printf("FAIL malloc of %zu bytes\n", n);
    std::exit(1);
  }
  std::memset(p, 1, n);
  *mmapped = mallinfo2().hblkhd >= before + n;
  return p;
}

long thread_faults() {
  rusage u{};
  getrusage(RUSAGE_THREAD, &u);
  return u.ru_minflt;
}

// Page faults of allocating and filling n bytes in the calling thread; the block is returned.
void* faulted(size_t n, long* faults) {
  const long before = thread_faults();
  void* p = std::malloc(n);
  if (!p) {
    std::printf("FAIL malloc of %zu bytes\n", n);
    std::exit(1);
  }
  std::memset(p, 1, n);
  *faults = thread_faults() - before;
  return p;
}

// In a fresh thread arena: a 40 MiB block, then another that needs a second heap; freeing
// the second and allocating it again. With the thresholds alone glibc unmaps the emptied
// heap and the block faults all its pages in again; with spinekit_malloc_keep_warm's pad
// the heap stays and the block finds its pages.
void thread_arena_heaps() {
  const size_t n = size_t{40} << 20;
  const long pages = static_cast<long>(n / 4096);
  spinekit_malloc_keep_warm(1);
  mallopt(M_TOP_PAD, 128 * 1024);  // glibc's pad: the thresholds alone, as GLIBC_TUNABLES
  long f = 0;
  void* a = faulted(n, &f);
  void* b = faulted(n, &f);
  std::free(b);
  b = faulted(n, &f);
  std::printf("thresholds only: second heap refilled with %ld faults (%ld pages)\n", f, pages);
  report("thresholds only: an emptied heap is unmapped (the counterfactual)", f > pages / 2,
         std::to_string(f) + " faults");
  std::free(b);

  spinekit_malloc_keep_warm(1);
  b = faulted(n, &f);
  std::free(b);
  b = faulted(n, &f);
  std::printf("keep_warm(1): second heap refilled with %ld faults at %p (a %p)\n", f, b, a);
  report("keep_warm(1): an emptied heap keeps its pages", f < pages / 100,
         std::to_string(f) + " faults of " + std::to_string(pages) + " pages");
  std::free(b);
  std::free(a);
}

}  // namespace

int main() {
  const size_t small = size_t{24} << 20;  // below the 32 MiB of older glibc
  const size_t large = size_t{48} << 20;  // above it

  // glibc's defaults: a block above the 128 KiB threshold is mmap'ed (a freed mmap'ed block
  // raises the threshold only up to 32 MiB, so 48 MiB first keeps it at 128 KiB).
  bool mm = false;
  void* p = touched(large, &mm);
  report("defaults: 48 MiB block mmap'ed", mm, "it came from the heap");
  std::free(p);
  p = touched(small, &mm);
  report("defaults: 24 MiB block mmap'ed", mm, "it came from the heap");
  std::free(p);
  report("no threshold set before the call", spinekit_malloc_mmap_threshold() == 0,
         std::to_string(spinekit_malloc_mmap_threshold()));

  const int rc = spinekit_malloc_keep_warm(1);
  report("keep_warm(1) taken", rc == 1, "returned " + std::to_string(rc));
  const int64_t threshold = spinekit_malloc_mmap_threshold();
  std::printf("mmap threshold now %lld bytes\n", static_cast<long long>(threshold));
  report("threshold INT_MAX or 32 MiB", threshold == INT_MAX || threshold == (int64_t{32} << 20),
         std::to_string(threshold));

  p = touched(small, &mm);
  report("warm: 24 MiB block from the heap", !mm, "it was mmap'ed");
  size_t arena = mallinfo2().arena;
  std::free(p);
  report("warm: heap kept after free", mallinfo2().arena == arena,
         mib(arena) + " before free, " + mib(mallinfo2().arena) + " after");
  p = touched(small, &mm);
  report("warm: 24 MiB again from the kept heap", !mm && mallinfo2().arena == arena,
         std::string(mm ? "mmap'ed" : "heap") + ", heap " + mib(mallinfo2().arena));
  std::free(p);
  if (threshold == INT_MAX) {
    p = touched(large, &mm);
    report("warm: 48 MiB block from the heap (threshold above 32 MiB took effect)", !mm,
           "it was mmap'ed");
    std::free(p);
  }

  std::thread(thread_arena_heaps).join();

  arena = mallinfo2().arena;
  const int rc0 = spinekit_malloc_keep_warm(0);
  report("keep_warm(0) taken", rc0 == 1, "returned " + std::to_string(rc0));
  report("keep_warm(0): free heap returned", mallinfo2().arena + small <= arena,
         mib(arena) + " before, " + mib(mallinfo2().arena) + " after");
  report("keep_warm(0): threshold 128 KiB", spinekit_malloc_mmap_threshold() == 128 * 1024,
         std::to_string(spinekit_malloc_mmap_threshold()));

  std::printf("%d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}
