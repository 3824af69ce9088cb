// Heatmap pooling on CUDA.
//
// Forward: blocks of (slice of S, sample n). Each thread walks its positions s
// with a grid stride, reads the K heat and C grade values at s once and keeps
// the K x C products in registers (at most KM x CM per launch; larger K or C
// take several launches over blocks of rows). Warp shuffles and shared memory
// reduce them per block, and one atomicAdd per block and pair adds the result
// into the output, zeroed first on the same stream.
//
// Backward: elementwise over (s, n) with grad_pooled of the sample in shared
// memory: grad_heat[k] = sum_c gp[k, c] grade[c] and grad_grade[c] = sum_k
// gp[k, c] heat[k], from the K + C values at s read once into registers. The
// register path keeps gp as a zero-padded kBwdKM x kBwdCM table, so the
// unrolled loops (which ptxas may turn into speculative vector loads of
// shared memory) never read past it.
#include "spinekit/heatmap_pool.h"

#include <cuda_runtime.h>

#include <algorithm>

#include "cuda/cuda_util.cuh"

namespace spinekit {
namespace cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int kCM = 4;       // grade classes per forward launch
constexpr int kBwdKM = 16;   // rows kept in registers by the backward
constexpr int kBwdCM = 8;

template <int KM, int CM>
__global__ void __launch_bounds__(kThreads)
    pool_forward_kernel(const float* __restrict__ heat, const float* __restrict__ grade,
                        int64_t N, int K, int C, int64_t S, int k0, int kn, int c0, int cn,
                        float* __restrict__ pooled) {
  __shared__ float red[KM * CM][kWarps];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  for (int64_t n = blockIdx.y; n < N; n += gridDim.y) {
    const float* hb = heat + (n * K + k0) * S;
    const float* gb = grade + (n * C + c0) * S;
    float acc[KM][CM];
#pragma unroll
    for (int k = 0; k < KM; ++k)
#pragma unroll
      for (int c = 0; c < CM; ++c) acc[k][c] = 0.f;
    for (int64_t s = int64_t{blockIdx.x} * kThreads + threadIdx.x; s < S;
         s += int64_t{gridDim.x} * kThreads) {
      float hv[KM], gv[CM];
#pragma unroll
      for (int k = 0; k < KM; ++k) hv[k] = k < kn ? __ldg(hb + k * S + s) : 0.f;
#pragma unroll
      for (int c = 0; c < CM; ++c) gv[c] = c < cn ? __ldg(gb + c * S + s) : 0.f;
#pragma unroll
      for (int k = 0; k < KM; ++k)
#pragma unroll
        for (int c = 0; c < CM; ++c) acc[k][c] = fmaf(hv[k], gv[c], acc[k][c]);
    }
#pragma unroll
    for (int k = 0; k < KM; ++k)
#pragma unroll
      for (int c = 0; c < CM; ++c)
        if (k < kn && c < cn) {  // the same for the whole block
          const float v = warp_sum(acc[k][c]);
          if (lane == 0) red[k * CM + c][warp] = v;
        }
    __syncthreads();
    if (threadIdx.x < KM * CM) {
      const int k = threadIdx.x / CM, c = threadIdx.x % CM;
      if (k < kn && c < cn) {
        float v = 0.f;
#pragma unroll
        for (int w = 0; w < kWarps; ++w) v += red[threadIdx.x][w];
        atomicAdd(pooled + (n * K + k0 + k) * C + c0 + c, v);
      }
    }
    __syncthreads();  // red is reused by the next sample
  }
}

template <int KM>
cudaError_t launch_forward(const float* heat, const float* grade, int64_t N, int K, int C,
                           int64_t S, float* pooled, dim3 grid, cudaStream_t st) {
  for (int k0 = 0; k0 < K; k0 += KM)
    for (int c0 = 0; c0 < C; c0 += kCM) {
      pool_forward_kernel<KM, kCM><<<grid, kThreads, 0, st>>>(
          heat, grade, N, K, C, S, k0, std::min(KM, K - k0), c0, std::min(kCM, C - c0), pooled);
    }
  return cudaGetLastError();
}

// CACHED: K <= kBwdKM and C <= kBwdCM, the values at s are kept in registers;
// otherwise they are read again for every output (served by L1).
template <bool CACHED>
__global__ void __launch_bounds__(kThreads)
    pool_backward_kernel(const float* __restrict__ heat, const float* __restrict__ grade,
                         const float* __restrict__ grad_pooled, int64_t N, int K, int C,
                         int64_t S, float* __restrict__ grad_heat,
                         float* __restrict__ grad_grade) {
  // [K, C] of the sample; CACHED: [kBwdKM, kBwdCM], zero outside [K, C].
  extern __shared__ float gp[];
  const int ld = CACHED ? kBwdCM : C;  // row stride of gp
  for (int64_t n = blockIdx.y; n < N; n += gridDim.y) {
    __syncthreads();  // gp of the previous sample is no longer read
    if constexpr (CACHED) {
      for (int i = threadIdx.x; i < kBwdKM * kBwdCM; i += kThreads) {
        const int k = i / kBwdCM, c = i % kBwdCM;
        gp[i] = k < K && c < C ? grad_pooled[(n * K + k) * C + c] : 0.f;
      }
    } else {
      for (int i = threadIdx.x; i < K * C; i += kThreads) gp[i] = grad_pooled[n * K * C + i];
    }
    __syncthreads();
    const float* hb = heat + n * K * S;
    const float* gb = grade + n * C * S;
    for (int64_t s = int64_t{blockIdx.x} * kThreads + threadIdx.x; s < S;
         s += int64_t{gridDim.x} * kThreads) {
      if constexpr (CACHED) {
        float hv[kBwdKM], gv[kBwdCM];
#pragma unroll
        for (int c = 0; c < kBwdCM; ++c) gv[c] = (grad_heat && c < C) ? __ldg(gb + c * S + s) : 0.f;
#pragma unroll
        for (int k = 0; k < kBwdKM; ++k)
          hv[k] = (grad_grade && k < K) ? __ldg(hb + k * S + s) : 0.f;
        if (grad_heat) {
#pragma unroll
          for (int k = 0; k < kBwdKM; ++k) {
            if (k >= K) break;
            float o = gp[k * ld] * gv[0];
#pragma unroll
            for (int c = 1; c < kBwdCM; ++c)
              if (c < C) o = fmaf(gp[k * ld + c], gv[c], o);
            grad_heat[(n * K + k) * S + s] = o;
          }
        }
        if (grad_grade) {
#pragma unroll
          for (int c = 0; c < kBwdCM; ++c) {
            if (c >= C) break;
            float o = gp[c] * hv[0];
#pragma unroll
            for (int k = 1; k < kBwdKM; ++k)
              if (k < K) o = fmaf(gp[k * ld + c], hv[k], o);
            grad_grade[(n * C + c) * S + s] = o;
          }
        }
      } else {
        if (grad_heat)
          for (int k = 0; k < K; ++k) {
            float o = gp[k * C] * __ldg(gb + s);
            for (int c = 1; c < C; ++c) o = fmaf(gp[k * C + c], __ldg(gb + c * S + s), o);
            grad_heat[(n * K + k) * S + s] = o;
          }
        if (grad_grade)
          for (int c = 0; c < C; ++c) {
            float o = gp[c] * __ldg(hb + s);
            for (int k = 1; k < K; ++k) o = fmaf(gp[k * C + c], __ldg(hb + k * S + s), o);
            grad_grade[(n * C + c) * S + s] = o;
          }
      }
    }
  }
}

bool valid(int64_t N, int64_t K, int64_t C, int64_t S) {
  return N >= 0 && K >= 0 && C >= 0 && S >= 0 && K < (1 << 20) && C < (1 << 20);
}

}  // namespace
}  // namespace cuda
}  // namespace spinekit

using namespace spinekit::cuda;

extern "C" int spinekit_heatmap_pool_forward_cuda(const float* heat, const float* grade,
                                                  int64_t N, int64_t K, int64_t C, int64_t S,
                                                  float* pooled, void* stream) {
  if (!valid(N, K, C, S)) return SPINEKIT_CUDA_ERROR;
  cudaStream_t st = static_cast<cudaStream_t>(stream);
  if (N * K * C == 0) return SPINEKIT_OK;
  if (cudaMemsetAsync(pooled, 0, static_cast<size_t>(N * K * C) * sizeof(float), st) !=
      cudaSuccess) {
    cudaGetLastError();
    return SPINEKIT_CUDA_ERROR;
  }
  if (S == 0) return launch_status();
  DeviceInfo dev;
  if (device_info(&dev) != cudaSuccess) {
    cudaGetLastError();
    return SPINEKIT_CUDA_ERROR;
  }
  // About four blocks per SM in all; each thread then covers several positions.
  const int64_t ny = std::min<int64_t>(N, 65535);
  const int64_t nx = std::max<int64_t>(
      1, std::min(ceil_div(S, kThreads), ceil_div(4 * int64_t{dev.sms}, ny)));
  const dim3 grid(static_cast<unsigned>(nx), static_cast<unsigned>(ny));
  const int k = static_cast<int>(K), c = static_cast<int>(C);
  cudaError_t e;
  if (K <= 4) {
    e = launch_forward<4>(heat, grade, N, k, c, S, pooled, grid, st);
  } else if (K <= 8) {
    e = launch_forward<8>(heat, grade, N, k, c, S, pooled, grid, st);
  } else {
    e = launch_forward<16>(heat, grade, N, k, c, S, pooled, grid, st);
  }
  return e == cudaSuccess ? SPINEKIT_OK : SPINEKIT_CUDA_ERROR;
}

extern "C" int spinekit_heatmap_pool_backward_cuda(const float* heat, const float* grade,
                                                   const float* grad_pooled, int64_t N,
                                                   int64_t K, int64_t C, int64_t S,
                                                   float* grad_heat, float* grad_grade,
                                                   void* stream) {
  if (!valid(N, K, C, S)) return SPINEKIT_CUDA_ERROR;
  cudaStream_t st = static_cast<cudaStream_t>(stream);
  if (N * S == 0 || (!grad_heat && !grad_grade)) return SPINEKIT_OK;
  // K = 0 or C = 0: the gradient of an empty sum.
  if (K == 0 || C == 0) {
    cudaError_t e = cudaSuccess;
    if (grad_heat && K > 0)
      e = cudaMemsetAsync(grad_heat, 0, static_cast<size_t>(N * K * S) * sizeof(float), st);
    if (e == cudaSuccess && grad_grade && C > 0)
      e = cudaMemsetAsync(grad_grade, 0, static_cast<size_t>(N * C * S) * sizeof(float), st);
    if (e != cudaSuccess) cudaGetLastError();
    return e == cudaSuccess ? SPINEKIT_OK : SPINEKIT_CUDA_ERROR;
  }
  const dim3 grid(static_cast<unsigned>(std::min<int64_t>(ceil_div(S, kThreads), INT32_MAX)),
                  static_cast<unsigned>(std::min<int64_t>(N, 65535)));
  const bool cached = K <= kBwdKM && C <= kBwdCM;
  const size_t smem = static_cast<size_t>(cached ? kBwdKM * kBwdCM : K * C) * sizeof(float);
  cudaError_t e = cached ? allow_smem(pool_backward_kernel<true>, smem)
                         : allow_smem(pool_backward_kernel<false>, smem);
  if (e != cudaSuccess) {
    cudaGetLastError();
    return SPINEKIT_CUDA_ERROR;
  }
  const int k = static_cast<int>(K), c = static_cast<int>(C);
  if (cached) {
    pool_backward_kernel<true><<<grid, kThreads, smem, st>>>(heat, grade, grad_pooled, N, k, c,
                                                             S, grad_heat, grad_grade);
  } else {
    pool_backward_kernel<false><<<grid, kThreads, smem, st>>>(heat, grade, grad_pooled, N, k, c,
                                                              S, grad_heat, grad_grade);
  }
  return launch_status();
}
