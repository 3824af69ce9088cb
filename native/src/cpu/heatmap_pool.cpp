// Heatmap pooling on the CPU. The forward splits every sample into fixed
// chunks of S (independent of the thread count, so results are the same on
// any number of threads), computes the K x C dot products of a chunk, and
// sums the chunk partials in order. The backward is elementwise per chunk.
#include "spinekit/heatmap_pool.h"

#include <algorithm>
#include <vector>

#include "cpu/parallel.h"

namespace {
constexpr int64_t kChunk = 8192;
}

using namespace spinekit;

extern "C" int spinekit_heatmap_pool_forward_cpu(const float* heat, const float* grade,
                                                 int64_t N, int64_t K, int64_t C, int64_t S,
                                                 float* pooled) {
  const int64_t chunks = std::max<int64_t>(1, (S + kChunk - 1) / kChunk);
  std::vector<double> part(static_cast<size_t>(N * chunks * K * C));
  parallel_for(N * chunks, [&](int64_t task) {
    const int64_t n = task / chunks, s0 = (task % chunks) * kChunk;
    const int64_t len = std::min(kChunk, S - s0);
    double* out = part.data() + task * K * C;
    for (int64_t k = 0; k < K; ++k) {
      const float* h = heat + (n * K + k) * S + s0;
      for (int64_t c = 0; c < C; ++c) {
        const float* g = grade + (n * C + c) * S + s0;
        float acc = 0;
#pragma omp simd reduction(+ : acc)
        for (int64_t s = 0; s < len; ++s) acc += h[s] * g[s];
        out[k * C + c] = acc;
      }
    }
  });
  for (int64_t n = 0; n < N; ++n)
    for (int64_t kc = 0; kc < K * C; ++kc) {
      double acc = 0;
      for (int64_t ch = 0; ch < chunks; ++ch) acc += part[(n * chunks + ch) * K * C + kc];
      pooled[n * K * C + kc] = static_cast<float>(acc);
    }
  return SPINEKIT_OK;
}

extern "C" int spinekit_heatmap_pool_backward_cpu(const float* heat, const float* grade,
                                                  const float* grad_pooled, int64_t N,
                                                  int64_t K, int64_t C, int64_t S,
                                                  float* grad_heat, float* grad_grade) {
  const int64_t chunks = std::max<int64_t>(1, (S + kChunk - 1) / kChunk);
  parallel_for(N * chunks, [&](int64_t task) {
    const int64_t n = task / chunks, s0 = (task % chunks) * kChunk;
    const int64_t len = std::min(kChunk, S - s0);
    const float* gp = grad_pooled + n * K * C;
    if (grad_heat) {
      for (int64_t k = 0; k < K; ++k) {
        float* o = grad_heat + (n * K + k) * S + s0;
        const float w0 = gp[k * C];
        const float* g0 = grade + (n * C) * S + s0;
#pragma omp simd
        for (int64_t s = 0; s < len; ++s) o[s] = w0 * g0[s];
        for (int64_t c = 1; c < C; ++c) {
          const float wc = gp[k * C + c];
          const float* g = grade + (n * C + c) * S + s0;
#pragma omp simd
          for (int64_t s = 0; s < len; ++s) o[s] += wc * g[s];
        }
      }
    }
    if (grad_grade) {
      for (int64_t c = 0; c < C; ++c) {
        float* o = grad_grade + (n * C + c) * S + s0;
        const float w0 = gp[c];
        const float* h0 = heat + (n * K) * S + s0;
#pragma omp simd
        for (int64_t s = 0; s < len; ++s) o[s] = w0 * h0[s];
        for (int64_t k = 1; k < K; ++k) {
          const float wk = gp[k * C + c];
          const float* h = heat + (n * K + k) * S + s0;
#pragma omp simd
          for (int64_t s = 0; s < len; ++s) o[s] += wk * h[s];
        }
      }
    }
  });
  return SPINEKIT_OK;
}
