// What a CUDA test does when it finds no usable GPU: it skips (exit 0) when run on its own,
// and fails (exit 3) when SPINEKIT_REQUIRE_GPU is set to anything but 0, as
// scripts/gpu-check.sh does: a GPU check without a GPU must not read as passed.
#ifndef SPINEKIT_TEST_REQUIRE_GPU_H
#define SPINEKIT_TEST_REQUIRE_GPU_H

#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace spinekit_test {

inline bool gpu_required() {
  const char* v = std::getenv("SPINEKIT_REQUIRE_GPU");
  return v && *v && std::strcmp(v, "0") != 0;
}

// Prints why the test cannot run and returns the exit status.
inline int no_gpu(const char* prog, const std::string& why) {
  if (gpu_required()) {
    std::fprintf(stderr, "%s: FAILED: %s (SPINEKIT_REQUIRE_GPU is set)\n", prog, why.c_str());
    return 3;
  }
  std::printf("%s: %s: skipped\n", prog, why.c_str());
  return 0;
}

// "" when a CUDA device is usable, otherwise why not (cudaGetDeviceCount's error).
inline std::string gpu_unusable() {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    cudaGetLastError();
    return std::string("no usable CUDA device: cudaGetDeviceCount: ") + cudaGetErrorString(e);
  }
  if (n == 0) return "no CUDA device";
  return "";
}

}  // namespace spinekit_test
#endif
