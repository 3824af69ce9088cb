// Helpers shared by the CUDA kernels: division by a fixed divisor, map
// coordinates of a flat index, warp and block reductions, vector loads and
// stores, device attributes and launch checks.
#ifndef SPINEKIT_CUDA_UTIL_CUH
#define SPINEKIT_CUDA_UTIL_CUH

#include <cuda_runtime.h>

#include <cstdint>

#include "spinekit/common.h"

namespace spinekit {
namespace cuda {

constexpr unsigned kFullMask = 0xffffffffu;
constexpr int64_t kNoRow = INT64_MAX;

// Division of n < 2^31 by a fixed d in [1, 2^31): q = (umulhi(n, m) + n) >> shift
// (Granlund and Montgomery; the same scheme as PyTorch's IntDivider).
struct FastDiv {
  uint32_t d = 1, m = 1, shift = 0;

  FastDiv() = default;
  explicit FastDiv(uint32_t divisor) : d(divisor) {
    shift = 0;
    while (shift < 31 && (uint32_t{1} << shift) < d) ++shift;
    const uint64_t magic = ((uint64_t{1} << 32) * ((uint64_t{1} << shift) - d)) / d + 1;
    m = static_cast<uint32_t>(magic);
  }
  __device__ __forceinline__ uint32_t div(uint32_t n) const {
    return (__umulhi(n, m) + n) >> shift;
  }
};

// Coordinates (w, h, d) of a flat index s < 2^31 of a D x H x W map.
struct MapIndex {
  FastDiv by_w, by_h;
  uint32_t W = 1, H = 1;

  MapIndex() = default;
  MapIndex(int64_t w, int64_t h)
      : by_w(static_cast<uint32_t>(w)), by_h(static_cast<uint32_t>(h)),
        W(static_cast<uint32_t>(w)), H(static_cast<uint32_t>(h)) {}
  __device__ __forceinline__ void coords(uint32_t s, uint32_t& w, uint32_t& h,
                                         uint32_t& d) const {
    const uint32_t line = by_w.div(s);
    w = s - line * W;
    d = by_h.div(line);
    h = line - d * H;
  }
};

// Sizes the kernels index with 32-bit arithmetic inside a map.
inline bool map_fits(int64_t D, int64_t H, int64_t W) {
  return D > 0 && H > 0 && W > 0 && D * H * W < (int64_t{1} << 31);
}

inline bool aligned16(const void* p) {
  return (reinterpret_cast<uintptr_t>(p) & 15u) == 0;
}

template <int VEC>
__device__ __forceinline__ void load_vec(const float* p, float (&v)[VEC]) {
  if constexpr (VEC == 4) {
    const float4 t = __ldg(reinterpret_cast<const float4*>(p));
    v[0] = t.x, v[1] = t.y, v[2] = t.z, v[3] = t.w;
  } else {
#pragma unroll
    for (int e = 0; e < VEC; ++e) v[e] = __ldg(p + e);
  }
}

template <int VEC>
__device__ __forceinline__ void store_vec(float* p, const float (&v)[VEC]) {
  if constexpr (VEC == 4) {
    *reinterpret_cast<float4*>(p) = make_float4(v[0], v[1], v[2], v[3]);
  } else {
#pragma unroll
    for (int e = 0; e < VEC; ++e) p[e] = v[e];
  }
}

// Shared-memory variants (no __ldg).
template <int VEC>
__device__ __forceinline__ void load_smem(const float* p, float (&v)[VEC]) {
  if constexpr (VEC == 4) {
    const float4 t = *reinterpret_cast<const float4*>(p);
    v[0] = t.x, v[1] = t.y, v[2] = t.z, v[3] = t.w;
  } else {
#pragma unroll
    for (int e = 0; e < VEC; ++e) v[e] = p[e];
  }
}

template <typename T>
__device__ __forceinline__ T warp_sum(T v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(kFullMask, v, o);
  return v;
}

// Sum over the block, returned to every thread. scratch holds 32 values; the
// block size is a multiple of 32. Contains two __syncthreads.
template <typename T>
__device__ T block_sum(T v, T* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int nwarps = blockDim.x >> 5;
  v = warp_sum(v);
  __syncthreads();  // scratch may still be read by a previous call
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  T t = lane < nwarps ? scratch[lane] : T(0);
  return warp_sum(t);
}

__device__ __forceinline__ void atomic_min_row(int64_t* slot, int64_t row) {
  atomicMin(reinterpret_cast<unsigned long long*>(slot), static_cast<unsigned long long>(row));
}

// Attributes of the current device.
struct DeviceInfo {
  int sms = 1;
  int major = 0;
  int smem_optin = 48 * 1024;  // largest dynamic shared memory per block
};

inline cudaError_t device_info(DeviceInfo* info) {
  int dev = 0;
  cudaError_t e = cudaGetDevice(&dev);
  if (e == cudaSuccess)
    e = cudaDeviceGetAttribute(&info->sms, cudaDevAttrMultiProcessorCount, dev);
  if (e == cudaSuccess)
    e = cudaDeviceGetAttribute(&info->major, cudaDevAttrComputeCapabilityMajor, dev);
  if (e == cudaSuccess)
    e = cudaDeviceGetAttribute(&info->smem_optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev);
  return e;
}

// Allows a kernel more than the default 48 KiB of dynamic shared memory.
template <typename Kernel>
inline cudaError_t allow_smem(Kernel kernel, size_t bytes) {
  if (bytes <= 48 * 1024) return cudaSuccess;
  return cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                              static_cast<int>(bytes));
}

// Status of the launches just made: SPINEKIT_CUDA_ERROR when one failed.
inline int launch_status() {
  return cudaGetLastError() == cudaSuccess ? SPINEKIT_OK : SPINEKIT_CUDA_ERROR;
}

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace cuda
}  // namespace spinekit
#endif
