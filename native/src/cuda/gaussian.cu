// Gaussian targets on CUDA. The Gaussian is separable, so every block first
// builds the 1D tables of its row in shared memory (exp in double and the
// axis sums, as on the CPU), then writes its chunk of the row as products of
// table entries: x * (z * y), the CPU's order, with vector stores.
#include "spinekit/gaussian.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>

#include "cuda/cuda_util.cuh"

namespace spinekit {
namespace cuda {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kChunk = 8192;  // elements written per block and row

struct RenderShape {
  int64_t rows, S, chunk;
  int W, H, D, ndim, normalize;
  double k;  // 1 / (2 sigma^2)
  MapIndex idx;
};

// Writes the 1D table of one axis into val and returns the sum before
// normalisation. Normalised tables are computed relative to the grid point
// nearest to c (like a softmax), so a point outside the map still gives a
// distribution. e: scratch of n doubles.
__device__ double axis_table(int n, double c, const RenderShape& g, double* e, float* val,
                             double* scratch) {
  double shift = 0;
  if (g.normalize) {
    const double nearest = fmin(fmax(round(c), 0.0), static_cast<double>(n - 1));
    shift = (nearest - c) * (nearest - c) * g.k;
  }
  double part = 0;
  for (int i = threadIdx.x; i < n; i += blockDim.x) {
    const double d = static_cast<double>(i) - c;
    e[i] = exp(shift - d * d * g.k);
    part += e[i];
  }
  const double sum = block_sum(part, scratch);
  const double inv = g.normalize ? 1.0 / sum : 1.0;
  for (int i = threadIdx.x; i < n; i += blockDim.x) val[i] = static_cast<float>(e[i] * inv);
  return sum;
}

template <int VEC>
__global__ void __launch_bounds__(kThreads)
    gaussian_kernel(const float* __restrict__ points, RenderShape g, float* __restrict__ out) {
  extern __shared__ double e[];  // W + H + D doubles, then W + H + D floats
  __shared__ double scratch[32];
  const int n_tab = g.W + g.H + (g.ndim == 3 ? g.D : 0);
  float* tab = reinterpret_cast<float*>(e + n_tab);
  const float* gx = tab;
  const float* gy = tab + g.W;
  const float* gz = tab + g.W + g.H;
  const int64_t c0 = int64_t{blockIdx.x} * g.chunk;
  const int64_t len = min(g.chunk, g.S - c0);

  for (int64_t r = blockIdx.y; r < g.rows; r += gridDim.y) {
    const float* pt = points + r * g.ndim;
    const float px = pt[0], py = pt[1], pz = g.ndim == 3 ? pt[2] : 0.f;
    bool present = isfinite(px) && isfinite(py) && isfinite(pz);
    __syncthreads();  // the tables of the previous row are no longer read
    if (present) {  // the same for the whole block
      const double sx = axis_table(g.W, px, g, e, tab, scratch);
      const double sy = axis_table(g.H, py, g, e + g.W, tab + g.W, scratch);
      const double sz =
          g.ndim == 3 ? axis_table(g.D, pz, g, e + g.W + g.H, tab + g.W + g.H, scratch) : 1.0;
      // Unnormalised, a Gaussian that vanishes everywhere is written as zeros.
      if (!g.normalize) present = sx * sy * sz > 0;
    }
    __syncthreads();
    float* o = out + r * g.S + c0;
    for (int64_t i = threadIdx.x * VEC; i < len; i += int64_t{blockDim.x} * VEC) {
      float v[VEC];
      if (present) {
        uint32_t w, h, d;
        g.idx.coords(static_cast<uint32_t>(c0 + i), w, h, d);  // VEC = 4: one line
        const float yz = (g.ndim == 3 ? gz[d] : 1.0f) * gy[h];
#pragma unroll
        for (int k = 0; k < VEC; ++k) v[k] = gx[w + k] * yz;
      } else {
#pragma unroll
        for (int k = 0; k < VEC; ++k) v[k] = 0.f;
      }
      store_vec<VEC>(o + i, v);
    }
  }
}

}  // namespace
}  // namespace cuda
}  // namespace spinekit

using namespace spinekit::cuda;

extern "C" int spinekit_gaussian_render_cuda(const float* points, int64_t rows, int64_t D,
                                             int64_t H, int64_t W, int ndim, float sigma,
                                             int normalize, float* out, void* stream) {
  if (rows < 0 || (ndim != 2 && ndim != 3) || !map_fits(D, H, W)) return SPINEKIT_CUDA_ERROR;
  if (rows == 0) return SPINEKIT_OK;
  cudaStream_t st = static_cast<cudaStream_t>(stream);
  RenderShape g;
  g.rows = rows;
  g.S = D * H * W;
  g.chunk = std::min<int64_t>(kChunk, g.S);
  g.W = static_cast<int>(W);
  g.H = static_cast<int>(H);
  g.D = static_cast<int>(D);
  g.ndim = ndim;
  g.normalize = normalize != 0;
  const double s = sigma;
  g.k = 1.0 / (2.0 * s * s);
  g.idx = MapIndex(W, H);
  const bool vec4 = W % 4 == 0 && aligned16(out);
  if (vec4) g.chunk = ceil_div(g.chunk, 4) * 4;
  const int64_t per_block = ceil_div(g.chunk, vec4 ? 4 : 1);
  const int threads = static_cast<int>(std::min<int64_t>(kThreads, ceil_div(per_block, 32) * 32));
  const dim3 grid(static_cast<unsigned>(ceil_div(g.S, g.chunk)),
                  static_cast<unsigned>(std::min<int64_t>(rows, 65535)));
  const int64_t n_tab = W + H + (ndim == 3 ? D : 0);
  const size_t smem = static_cast<size_t>(n_tab) * (sizeof(double) + sizeof(float));
  cudaError_t e = vec4 ? allow_smem(gaussian_kernel<4>, smem) : allow_smem(gaussian_kernel<1>, smem);
  if (e != cudaSuccess) {
    cudaGetLastError();
    return SPINEKIT_CUDA_ERROR;
  }
  if (vec4) {
    gaussian_kernel<4><<<grid, threads, smem, st>>>(points, g, out);
  } else {
    gaussian_kernel<1><<<grid, threads, smem, st>>>(points, g, out);
  }
  return launch_status();
}
