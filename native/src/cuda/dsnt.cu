// DSNT on CUDA.
//
// Forward: one row of logits per cluster of CL blocks (sm_90+: up to 8, so that
// few large rows still spread over all SMs; CL = 1 before sm_90 or when the
// rows alone fill the GPU). A block reads its contiguous chunk of the
// row once, keeping an online softmax state per thread (running max m, sum of
// exp(x - m) and the first moments sum e*w, e*h, e*d), and stages the chunk in
// shared memory when it fits. The states are merged with warp shuffles, across
// warps through shared memory and across the cluster through distributed shared
// memory; every block then writes its chunk of probabilities from the staged
// copy (or from a second read, which L2 serves). A row without a defined
// softmax writes NaN and records its index with atomicMin.
//
// Backward: grad_s = p_s * (g . c(s) + gp_s - dot), dot = g . coords (+ sum_t
// p_t gp_t). Without grad_probs it is one elementwise pass; with grad_probs the
// per-row sum uses the cluster scheme of the forward and a second read.
#include "spinekit/dsnt.h"

#include <cooperative_groups.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <vector>

#include "cuda/cuda_util.cuh"

namespace cg = cooperative_groups;

namespace spinekit {
namespace cuda {
namespace {

constexpr int kMaxThreads = 512;
constexpr int kUnroll = 4;     // vectors loaded per thread before they are used
constexpr int kPortableCluster = 8;
// Largest cluster planned. The launch code handles the non-portable 16 (asking the occupancy
// calculator first), but 16 is not used: with it compute-sanitizer's synccheck reported
// "Divergent thread(s) in warp" at the forward's block barrier on an H200 in every run (results
// right, racecheck clean), with 8 and 2 never (benchmarks/README.md, "CUDA kernels on an H200").
constexpr int kMaxCluster = kPortableCluster;

// How the rows are split over blocks and the map geometry.
struct RowSplit {
  int64_t rows, S;
  int64_t chunk;  // elements per block; a multiple of 4 on the vector path
  int cl;         // blocks per row (the cluster size)
  int ndim;
  MapIndex idx;
  float size[3];  // W, H, D
};

// Online softmax state: max m, s = sum exp(x - m), moments sum exp(x - m) * c_j.
struct SoftState {
  float m, s, x, y, z;
};

__device__ __forceinline__ SoftState soft_empty() {
  return {-INFINITY, 0.f, 0.f, 0.f, 0.f};
}

__device__ __forceinline__ SoftState soft_merge(const SoftState& a, const SoftState& b) {
  const float m = fmaxf(a.m, b.m);
  const float fa = a.m > -INFINITY ? __expf(a.m - m) : 0.f;
  const float fb = b.m > -INFINITY ? __expf(b.m - m) : 0.f;
  return {m, a.s * fa + b.s * fb, a.x * fa + b.x * fb, a.y * fa + b.y * fb,
          a.z * fa + b.z * fb};
}

__device__ __forceinline__ SoftState soft_shfl(const SoftState& a, int o) {
  return {__shfl_xor_sync(kFullMask, a.m, o), __shfl_xor_sync(kFullMask, a.s, o),
          __shfl_xor_sync(kFullMask, a.x, o), __shfl_xor_sync(kFullMask, a.y, o),
          __shfl_xor_sync(kFullMask, a.z, o)};
}

// Merges the states and flags of the block; the result is valid in thread 0.
__device__ void block_soft(SoftState& st, int& bad, SoftState* warp_st, int* warp_bad) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int nwarps = blockDim.x >> 5;
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) st = soft_merge(st, soft_shfl(st, o));
  bad = __any_sync(kFullMask, bad);
  if (lane == 0) {
    warp_st[warp] = st;
    warp_bad[warp] = bad;
  }
  __syncthreads();
  if (warp == 0) {
    st = lane < nwarps ? warp_st[lane] : soft_empty();
    bad = lane < nwarps ? warp_bad[lane] : 0;
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) st = soft_merge(st, soft_shfl(st, o));
    bad = __any_sync(kFullMask, bad);
  }
}

__global__ void init_no_row_kernel(int64_t* slot) { *slot = kNoRow; }

template <int VEC, bool STAGE>
__global__ void __launch_bounds__(kMaxThreads)
    dsnt_forward_kernel(const float* __restrict__ logits, RowSplit g, float* __restrict__ probs,
                        float* __restrict__ coords_px, float* __restrict__ coords_norm,
                        int64_t* __restrict__ bad_row) {
  extern __shared__ float4 stage4[];
  float* stage = reinterpret_cast<float*>(stage4);
  __shared__ SoftState warp_st[32];
  __shared__ int warp_bad[32];
  __shared__ SoftState block_st, row_st;
  __shared__ int block_bad, row_bad;

  const int64_t r = blockIdx.x / g.cl;
  const int rank = static_cast<int>(blockIdx.x % g.cl);
  const int64_t c0 = rank * g.chunk;
  const int64_t len = max(int64_t{0}, min(g.chunk, g.S - c0));
  const float* x = logits + r * g.S + c0;
  const int64_t step = int64_t{blockDim.x} * VEC;

  // Pass 1: one read of the chunk, online softmax state per thread.
  SoftState st = soft_empty();
  int bad = 0;
  for (int64_t base = threadIdx.x * VEC; base < len; base += kUnroll * step) {
    float v[kUnroll][VEC];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int64_t i = base + u * step;
      if (i < len) load_vec<VEC>(x + i, v[u]);
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int64_t i = base + u * step;
      if (i >= len) break;
      if constexpr (STAGE) store_vec<VEC>(stage + i, v[u]);
      uint32_t w, h, d;
      g.idx.coords(static_cast<uint32_t>(c0 + i), w, h, d);  // VEC = 4: one line
      float vm = v[u][0];
#pragma unroll
      for (int e = 0; e < VEC; ++e) {
        vm = fmaxf(vm, v[u][e]);
        bad |= v[u][e] != v[u][e];
      }
      if (vm > st.m) {
        const float sc = __expf(st.m - vm);
        st.s *= sc, st.x *= sc, st.y *= sc, st.z *= sc;
        st.m = vm;
      }
      const float fh = static_cast<float>(h), fd = static_cast<float>(d);
#pragma unroll
      for (int e = 0; e < VEC; ++e) {
        const float ex = v[u][e] > -INFINITY ? __expf(v[u][e] - st.m) : 0.f;
        st.s += ex;
        st.x += ex * static_cast<float>(w + e);
        st.y += ex * fh;
        st.z += ex * fd;
      }
    }
  }

  block_soft(st, bad, warp_st, warp_bad);
  if (threadIdx.x == 0) {
    block_st = st, block_bad = bad;
    row_st = st, row_bad = bad;
  }
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  if (g.cl > 1) {
    cg::cluster_group cluster = cg::this_cluster();
    cluster.sync();  // every block's state is written
    if (threadIdx.x == 0) {
      SoftState acc = *cluster.map_shared_rank(&block_st, 0);
      int b = *cluster.map_shared_rank(&block_bad, 0);
      for (int k = 1; k < g.cl; ++k) {
        acc = soft_merge(acc, *cluster.map_shared_rank(&block_st, k));
        b |= *cluster.map_shared_rank(&block_bad, k);
      }
      row_st = acc, row_bad = b;
    }
    cluster.sync();  // no block leaves while another still reads its shared memory
  }
#endif
  __syncthreads();
  const SoftState tot = row_st;

  if (row_bad || !isfinite(tot.m)) {
    const float qnan = __int_as_float(0x7fc00000);
    if (rank == 0 && threadIdx.x == 0) {
      atomic_min_row(bad_row, r);
      for (int j = 0; j < g.ndim; ++j) {
        if (coords_px) coords_px[r * g.ndim + j] = qnan;
        if (coords_norm) coords_norm[r * g.ndim + j] = qnan;
      }
    }
    if (probs) {
      float v[VEC];
#pragma unroll
      for (int e = 0; e < VEC; ++e) v[e] = qnan;
      float* p = probs + r * g.S + c0;
      for (int64_t i = threadIdx.x * VEC; i < len; i += step) store_vec<VEC>(p + i, v);
    }
    return;
  }

  const float inv = 1.f / tot.s;
  if (rank == 0 && threadIdx.x < g.ndim) {
    const int j = threadIdx.x;
    const float mj = j == 0 ? tot.x : (j == 1 ? tot.y : tot.z);
    const float size = j == 0 ? g.size[0] : (j == 1 ? g.size[1] : g.size[2]);
    const double px = static_cast<double>(mj) / static_cast<double>(tot.s);
    if (coords_px) coords_px[r * g.ndim + j] = static_cast<float>(px);
    if (coords_norm)
      coords_norm[r * g.ndim + j] = static_cast<float>((2.0 * px + 1.0) / size - 1.0);
  }

  // Pass 2: probabilities from the staged chunk (or a second read).
  if (probs) {
    float* p = probs + r * g.S + c0;
#pragma unroll 4
    for (int64_t i = threadIdx.x * VEC; i < len; i += step) {
      float v[VEC];
      if constexpr (STAGE) {
        load_smem<VEC>(stage + i, v);
      } else {
        load_vec<VEC>(x + i, v);
      }
#pragma unroll
      for (int e = 0; e < VEC; ++e) v[e] = __expf(v[e] - tot.m) * inv;
      store_vec<VEC>(p + i, v);
    }
  }
}

// Per-row gradient coefficients g_j = grad_px_j + grad_norm_j * 2 / size_j and
// g . coords.
__device__ __forceinline__ void row_coeffs(const RowSplit& g, int64_t r, const float* cpx,
                                           const float* gpx, const float* gnorm, float gj[3],
                                           float& dot) {
  dot = 0.f;
#pragma unroll
  for (int j = 0; j < 3; ++j) {
    gj[j] = 0.f;
    if (j < g.ndim) {
      if (gpx) gj[j] += gpx[r * g.ndim + j];
      if (gnorm) gj[j] += gnorm[r * g.ndim + j] * 2.0f / g.size[j];
      dot += gj[j] * cpx[r * g.ndim + j];
    }
  }
}

// Backward without grad_probs: elementwise; grid (positions of a row, rows).
template <int VEC>
__global__ void __launch_bounds__(256)
    dsnt_backward_kernel(const float* __restrict__ probs, const float* __restrict__ cpx,
                         const float* __restrict__ gpx, const float* __restrict__ gnorm,
                         RowSplit g, float* __restrict__ out) {
  const int64_t i = (int64_t{blockIdx.x} * blockDim.x + threadIdx.x) * VEC;
  if (i >= g.S) return;
  uint32_t w, h, d;
  g.idx.coords(static_cast<uint32_t>(i), w, h, d);
  const float fh = static_cast<float>(h), fd = static_cast<float>(d);
  for (int64_t r = blockIdx.y; r < g.rows; r += gridDim.y) {
    float gj[3], dot;
    row_coeffs(g, r, cpx, gpx, gnorm, gj, dot);
    const float base = gj[1] * fh + gj[2] * fd - dot;
    float v[VEC];
    load_vec<VEC>(probs + r * g.S + i, v);
#pragma unroll
    for (int e = 0; e < VEC; ++e) v[e] *= gj[0] * static_cast<float>(w + e) + base;
    store_vec<VEC>(out + r * g.S + i, v);
  }
}

// Backward with grad_probs: a cluster of blocks per row sums p * gp over the
// row, then every block writes its chunk.
template <int VEC>
__global__ void __launch_bounds__(kMaxThreads)
    dsnt_backward_gp_kernel(const float* __restrict__ probs, const float* __restrict__ cpx,
                            const float* __restrict__ gpx, const float* __restrict__ gnorm,
                            const float* __restrict__ gprobs, RowSplit g,
                            float* __restrict__ out) {
  __shared__ float scratch[32];
  __shared__ float block_dot, row_dot;
  const int64_t r = blockIdx.x / g.cl;
  const int rank = static_cast<int>(blockIdx.x % g.cl);
  const int64_t c0 = rank * g.chunk;
  const int64_t len = max(int64_t{0}, min(g.chunk, g.S - c0));
  const int64_t step = int64_t{blockDim.x} * VEC;
  const float* p = probs + r * g.S + c0;
  const float* gp = gprobs + r * g.S + c0;

  float acc = 0.f;
#pragma unroll 4
  for (int64_t i = threadIdx.x * VEC; i < len; i += step) {
    float a[VEC], b[VEC];
    load_vec<VEC>(p + i, a);
    load_vec<VEC>(gp + i, b);
#pragma unroll
    for (int e = 0; e < VEC; ++e) acc += a[e] * b[e];
  }
  acc = block_sum(acc, scratch);
  if (threadIdx.x == 0) block_dot = row_dot = acc;
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  if (g.cl > 1) {
    cg::cluster_group cluster = cg::this_cluster();
    cluster.sync();
    if (threadIdx.x == 0) {
      float t = 0.f;
      for (int k = 0; k < g.cl; ++k) t += *cluster.map_shared_rank(&block_dot, k);
      row_dot = t;
    }
    cluster.sync();
  }
#endif
  __syncthreads();

  float gj[3], dot;
  row_coeffs(g, r, cpx, gpx, gnorm, gj, dot);
  dot += row_dot;
  float* o = out + r * g.S + c0;
#pragma unroll 4
  for (int64_t i = threadIdx.x * VEC; i < len; i += step) {
    float a[VEC], b[VEC];
    load_vec<VEC>(p + i, a);
    load_vec<VEC>(gp + i, b);
    uint32_t w, h, d;
    g.idx.coords(static_cast<uint32_t>(c0 + i), w, h, d);
    const float base = gj[1] * static_cast<float>(h) + gj[2] * static_cast<float>(d) - dot;
#pragma unroll
    for (int e = 0; e < VEC; ++e) a[e] *= gj[0] * static_cast<float>(w + e) + base + b[e];
    store_vec<VEC>(o + i, a);
  }
}

// Blocks per row, block size and staging of a row kernel on this device.
struct RowPlan {
  RowSplit split;
  int threads;
  bool stage;
  size_t smem;
};

RowPlan plan_rows(const DeviceInfo& dev, int64_t rows, int64_t D, int64_t H, int64_t W,
                  int ndim, bool vec4, bool want_stage, int max_cl) {
  RowPlan p{};
  const int64_t S = D * H * W;
  int cl = 1;
  // Clusters (sm_90+) split a row while the rows alone give fewer than ~4 blocks
  // per SM (fewer blocks leave SMs idle or unevenly loaded) and each block keeps
  // at least 4096 elements.
  if (dev.major >= 9) {
    while (cl < max_cl && rows * cl < 4 * int64_t{dev.sms} && S / (2 * cl) >= 2048) cl *= 2;
  }
  int64_t chunk = ceil_div(S, cl);
  if (vec4) chunk = ceil_div(chunk, 4) * 4;
  int threads = 64;
  while (threads < kMaxThreads && chunk > 16 * threads) threads *= 2;
  // Staging keeps two blocks per SM: at most ~100 KiB of shared memory each.
  const int64_t cap = std::min<int64_t>(dev.smem_optin - 4096, 100 * 1024);
  p.stage = want_stage && chunk * 4 <= cap;
  p.smem = p.stage ? static_cast<size_t>(chunk) * 4 : 0;
  p.threads = threads;
  p.split.rows = rows;
  p.split.S = S;
  p.split.chunk = chunk;
  p.split.cl = cl;
  p.split.ndim = ndim;
  p.split.idx = MapIndex(W, H);
  p.split.size[0] = static_cast<float>(W);
  p.split.size[1] = static_cast<float>(H);
  p.split.size[2] = static_cast<float>(D);
  return p;
}

// Whether clusters above the portable size fit for this kernel and launch
// configuration on the current device (asked once per configuration).
template <typename Kernel>
bool large_cluster_fits(Kernel kernel, const cudaLaunchConfig_t& cfg) {
  struct Entry {
    int dev;
    const void* fn;
    size_t smem;
    unsigned threads, cl;
    bool fits;
  };
  static std::mutex mu;
  static std::vector<Entry> cache;
  int dev = 0;
  if (cudaGetDevice(&dev) != cudaSuccess) {
    cudaGetLastError();
    return false;
  }
  const void* fn = reinterpret_cast<const void*>(kernel);
  const unsigned cl = cfg.attrs[0].val.clusterDim.x;
  std::lock_guard<std::mutex> lock(mu);
  for (const Entry& e : cache)
    if (e.dev == dev && e.fn == fn && e.smem == cfg.dynamicSmemBytes &&
        e.threads == cfg.blockDim.x && e.cl == cl)
      return e.fits;
  int clusters = 0;
  bool fits =
      cudaFuncSetAttribute(kernel, cudaFuncAttributeNonPortableClusterSizeAllowed, 1) ==
          cudaSuccess &&
      cudaOccupancyMaxActiveClusters(&clusters, kernel, &cfg) == cudaSuccess && clusters > 0;
  if (!fits) cudaGetLastError();
  cache.push_back({dev, fn, cfg.dynamicSmemBytes, cfg.blockDim.x, cl, fits});
  return fits;
}

// Launches a row kernel with rows * cl blocks, as clusters of cl when cl > 1.
// Returns cudaErrorNotSupported, launching nothing, when a cluster above the
// portable size does not fit.
template <typename... Params, typename... Args>
cudaError_t launch_rows(void (*kernel)(Params...), const RowPlan& p, cudaStream_t stream,
                        Args... args) {
  cudaError_t e = allow_smem(kernel, p.smem);
  if (e != cudaSuccess) return e;
  cudaLaunchConfig_t cfg = {};
  cfg.gridDim = dim3(static_cast<unsigned>(p.split.rows * p.split.cl));
  cfg.blockDim = dim3(p.threads);
  cfg.dynamicSmemBytes = p.smem;
  cfg.stream = stream;
  cudaLaunchAttribute attr[1];
  if (p.split.cl > 1) {
    attr[0].id = cudaLaunchAttributeClusterDimension;
    attr[0].val.clusterDim.x = p.split.cl;
    attr[0].val.clusterDim.y = 1;
    attr[0].val.clusterDim.z = 1;
    cfg.attrs = attr;
    cfg.numAttrs = 1;
    if (p.split.cl > kPortableCluster && !large_cluster_fits(kernel, cfg))
      return cudaErrorNotSupported;
  }
  return cudaLaunchKernelEx(&cfg, kernel, args...);
}

// Plans and launches with clusters of up to 16 blocks, or up to 8 when a
// larger one does not fit. launch(plan) launches the kernel variant of the plan.
template <typename Launch>
int plan_and_launch(const DeviceInfo& dev, int64_t rows, int64_t D, int64_t H, int64_t W,
                    int ndim, bool vec4, bool want_stage, Launch launch) {
  const RowPlan p = plan_rows(dev, rows, D, H, W, ndim, vec4, want_stage, kMaxCluster);
  cudaError_t e = launch(p);
  if (e != cudaSuccess && p.split.cl > kPortableCluster) {
    cudaGetLastError();
    e = launch(plan_rows(dev, rows, D, H, W, ndim, vec4, want_stage, kPortableCluster));
  }
  if (e != cudaSuccess) {
    cudaGetLastError();
    return SPINEKIT_CUDA_ERROR;
  }
  return launch_status();
}

bool valid_shape(int64_t rows, int64_t D, int64_t H, int64_t W, int ndim) {
  return rows >= 0 && (ndim == 2 || ndim == 3) && map_fits(D, H, W);
}

}  // namespace
}  // namespace cuda
}  // namespace spinekit

using namespace spinekit::cuda;

extern "C" int spinekit_dsnt_forward_cuda(const float* logits, int64_t rows, int64_t D,
                                          int64_t H, int64_t W, int ndim, float* probs,
                                          float* coords_px, float* coords_norm,
                                          int64_t* bad_row_dev, void* stream) {
  if (!valid_shape(rows, D, H, W, ndim)) return SPINEKIT_CUDA_ERROR;
  cudaStream_t st = static_cast<cudaStream_t>(stream);
  DeviceInfo dev;
  if (device_info(&dev) != cudaSuccess) {
    cudaGetLastError();
    return SPINEKIT_CUDA_ERROR;
  }
  init_no_row_kernel<<<1, 1, 0, st>>>(bad_row_dev);
  if (rows == 0) return launch_status();
  if (rows * kMaxCluster >= (int64_t{1} << 31)) return SPINEKIT_CUDA_ERROR;
  const bool vec4 = W % 4 == 0 && aligned16(logits) && (!probs || aligned16(probs));
  return plan_and_launch(dev, rows, D, H, W, ndim, vec4, true, [&](const RowPlan& p) {
    if (vec4) {
      return p.stage ? launch_rows(dsnt_forward_kernel<4, true>, p, st, logits, p.split, probs,
                                   coords_px, coords_norm, bad_row_dev)
                     : launch_rows(dsnt_forward_kernel<4, false>, p, st, logits, p.split,
                                   probs, coords_px, coords_norm, bad_row_dev);
    }
    return p.stage ? launch_rows(dsnt_forward_kernel<1, true>, p, st, logits, p.split, probs,
                                 coords_px, coords_norm, bad_row_dev)
                   : launch_rows(dsnt_forward_kernel<1, false>, p, st, logits, p.split, probs,
                                 coords_px, coords_norm, bad_row_dev);
  });
}

extern "C" int spinekit_dsnt_backward_cuda(const float* probs, const float* coords_px,
                                           const float* grad_px, const float* grad_norm,
                                           const float* grad_probs, int64_t rows, int64_t D,
                                           int64_t H, int64_t W, int ndim, float* grad_logits,
                                           void* stream) {
  if (!valid_shape(rows, D, H, W, ndim)) return SPINEKIT_CUDA_ERROR;
  if (rows == 0) return SPINEKIT_OK;
  cudaStream_t st = static_cast<cudaStream_t>(stream);
  DeviceInfo dev;
  if (device_info(&dev) != cudaSuccess) {
    cudaGetLastError();
    return SPINEKIT_CUDA_ERROR;
  }
  const bool vec4 = W % 4 == 0 && aligned16(probs) && aligned16(grad_logits) &&
                    (!grad_probs || aligned16(grad_probs));
  const int64_t S = D * H * W;
  if (!grad_probs) {
    const int vec = vec4 ? 4 : 1;
    const int64_t per_row = ceil_div(S, vec);
    const int threads = static_cast<int>(std::min<int64_t>(256, ceil_div(per_row, 32) * 32));
    const dim3 grid(static_cast<unsigned>(ceil_div(per_row, threads)),
                    static_cast<unsigned>(std::min<int64_t>(rows, 65535)));
    const RowPlan p = plan_rows(dev, rows, D, H, W, ndim, vec4, false, 1);
    if (vec4) {
      dsnt_backward_kernel<4><<<grid, threads, 0, st>>>(probs, coords_px, grad_px, grad_norm,
                                                        p.split, grad_logits);
    } else {
      dsnt_backward_kernel<1><<<grid, threads, 0, st>>>(probs, coords_px, grad_px, grad_norm,
                                                        p.split, grad_logits);
    }
    return launch_status();
  }
  if (rows * kMaxCluster >= (int64_t{1} << 31)) return SPINEKIT_CUDA_ERROR;
  return plan_and_launch(dev, rows, D, H, W, ndim, vec4, false, [&](const RowPlan& p) {
    return vec4 ? launch_rows(dsnt_backward_gp_kernel<4>, p, st, probs, coords_px, grad_px,
                              grad_norm, grad_probs, p.split, grad_logits)
                : launch_rows(dsnt_backward_gp_kernel<1>, p, st, probs, coords_px, grad_px,
                              grad_norm, grad_probs, p.split, grad_logits);
  });
}
