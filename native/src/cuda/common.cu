// CUDA build information: device count and error text.
#include <cuda_runtime.h>

#include "spinekit/common.h"

extern "C" int spinekit_cuda_compiled(void) { return 1; }

extern "C" int spinekit_cuda_device_count(void) {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // no driver or no device: clear the error, report 0
    return 0;
  }
  return n;
}

extern "C" const char* spinekit_cuda_error_string(int code) {
  return cudaGetErrorString(static_cast<cudaError_t>(code));
}
