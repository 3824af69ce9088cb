// Fused loss of the lumbar one-stage head on CUDA.
//
// Five kernels on the caller's stream, all reading the logits in tiles of
// kTile positions (a block owns one tile, or `steps` consecutive ones when a
// sample has more than kMaxTiles tiles; every thread owns fixed positions of
// the tile, float4 when W % 4 == 0 and the buffers are 16-byte aligned):
//   1 heat_stats (row, tile):  max and sum exp(x - max) of a tile of a heat
//                              row; block 0 initialises the error slots.
//   2 row_setup (row):         log-sum-exp of the row from its tiles; the
//                              separable normalised Gaussian of its point as
//                              1D tables and their logs (double, as the CPU;
//                              every finite point has a target); target check.
//   3 accumulate (n, tile):    grade softmax over C into shared memory, then
//                              per heat row p, pooled p.q, first moments, JS
//                              and sum p * dJS/dp as per-tile partials (warp
//                              shuffles, one slot per warp, no atomics).
//   4 finalize (one block):    partials summed over tiles in a fixed order
//                              (double); losses, coords, pooled, status and
//                              the per-row coefficients of the gradient.
//   5 gradients (n, tile):     grade softmax again, probs, grad_heat =
//                              p * (cj dJS/dp + dp q_y - dot), and grad_grade
//                              = q * (v - sum_c q v), v_c = sum over rows with
//                              target c of dp * p.
// The heat row is read three times (once per pass, the later two mostly from
// L2 at the usual sizes) and the grade twice.
#include "spinekit/head_loss.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>

#include "cuda/cuda_util.cuh"

namespace spinekit {
namespace cuda {
namespace {

constexpr int kThreads = 128;       // threads per block of the tile kernels
constexpr int kWarps = kThreads / 32;
constexpr int kTile = 1024;         // positions per tile step
constexpr int64_t kMaxTiles = 1024;  // tiles per sample (the finalize reduces them)
constexpr int kFinalThreads = 1024;
constexpr float kEps = 1e-8f;
constexpr float kLogEps = -18.420680743952367f;  // log(1e-8f)
constexpr float kPoolEps = 1e-5f;

struct Geometry {
  int64_t N, K, C, S, R;
  int64_t T;     // tiles per sample
  int64_t tile;  // positions per tile: kTile * steps
  int steps, ndim;
  int V;         // partial values per row: C pooled, 3 moments, JS, sum p dJS/dp
  int W, H, D, Dz;  // Dz: D in 3D, 1 in 2D
  int Wp, Hp, Dp;   // table strides, multiples of 4
  MapIndex idx;
};

struct Workspace {
  int64_t* err;      // [3] bad target row, bad heat row, bad grade index; INT64_MAX = none
  float2* stat;      // [R*T] per tile: (max, or NaN when a NaN was seen; sum exp(x - max))
  float* off;        // [R] log p = x - off
  int* present;      // [R] the row has a Gaussian target (a finite point)
  int* label;        // [R] target grade or -1
  float* gx;         // [R*Wp] normalised Gaussian along x, and its log
  float* lgx;
  float* gy;         // [R*Hp]
  float* lgy;
  float* gz;         // [R*Dp]
  float* lgz;
  float* part;       // [N*T][K][V] per-tile partial sums
  double* rowsum;    // [R][V]
  float* cj;         // [R] grad_scale * js_weight / rows with a point (0 without a point)
  float* dpy;        // [R] d loss / d pooled[r, y_r]
  float* dot;        // [R] sum_s p_s * d loss / d p_s
};

Geometry make_geometry(int64_t N, int64_t K, int64_t C, int64_t D, int64_t H, int64_t W,
                       int ndim) {
  Geometry g;
  g.N = N, g.K = K, g.C = C, g.S = D * H * W, g.R = N * K;
  const int64_t tiles = std::max<int64_t>(1, ceil_div(g.S, kTile));
  g.steps = static_cast<int>(ceil_div(tiles, kMaxTiles));
  g.tile = int64_t{kTile} * g.steps;
  g.T = ceil_div(g.S, g.tile);
  g.ndim = ndim;
  g.V = static_cast<int>(C) + 5;
  g.W = static_cast<int>(W), g.H = static_cast<int>(H), g.D = static_cast<int>(D);
  g.Dz = ndim == 3 ? g.D : 1;
  g.Wp = static_cast<int>(ceil_div(W, 4) * 4);
  g.Hp = static_cast<int>(ceil_div(H, 4) * 4);
  g.Dp = static_cast<int>(ceil_div(g.Dz, 4) * 4);
  g.idx = MapIndex(W, H);
  return g;
}

// Carves the workspace from base (256-byte aligned); returns the bytes used.
int64_t carve(char* base, const Geometry& g, Workspace* ws) {
  int64_t at = 0;
  auto take = [&](int64_t bytes) {
    char* p = base ? base + at : nullptr;
    at += ceil_div(std::max<int64_t>(bytes, 1), 256) * 256;
    return p;
  };
  const int64_t R = g.R;
  ws->err = reinterpret_cast<int64_t*>(take(3 * sizeof(int64_t)));
  ws->stat = reinterpret_cast<float2*>(take(R * g.T * sizeof(float2)));
  ws->off = reinterpret_cast<float*>(take(R * sizeof(float)));
  ws->present = reinterpret_cast<int*>(take(R * sizeof(int)));
  ws->label = reinterpret_cast<int*>(take(R * sizeof(int)));
  ws->gx = reinterpret_cast<float*>(take(R * g.Wp * sizeof(float)));
  ws->lgx = reinterpret_cast<float*>(take(R * g.Wp * sizeof(float)));
  ws->gy = reinterpret_cast<float*>(take(R * g.Hp * sizeof(float)));
  ws->lgy = reinterpret_cast<float*>(take(R * g.Hp * sizeof(float)));
  ws->gz = reinterpret_cast<float*>(take(R * g.Dp * sizeof(float)));
  ws->lgz = reinterpret_cast<float*>(take(R * g.Dp * sizeof(float)));
  ws->part = reinterpret_cast<float*>(take(g.N * g.T * g.K * g.V * sizeof(float)));
  ws->rowsum = reinterpret_cast<double*>(take(R * g.V * sizeof(double)));
  ws->cj = reinterpret_cast<float*>(take(R * sizeof(float)));
  ws->dpy = reinterpret_cast<float*>(take(R * sizeof(float)));
  ws->dot = reinterpret_cast<float*>(take(R * sizeof(float)));
  return at;
}

// Positions of a tile step owned by this thread: (j * kThreads + tid) * VEC + e.
template <int VEC>
struct Own {
  static constexpr int kItems = kTile / (kThreads * VEC);
  __device__ static __forceinline__ int pos(int j) {
    return (j * kThreads + static_cast<int>(threadIdx.x)) * VEC;
  }
};

// Merge of two (max, sum exp(x - max)) pairs.
__device__ __forceinline__ float2 lse_merge(float2 a, float2 b) {
  const float m = fmaxf(a.x, b.x);
  const float fa = a.x > -INFINITY ? __expf(a.x - m) : 0.f;
  const float fb = b.x > -INFINITY ? __expf(b.x - m) : 0.f;
  return make_float2(m, a.y * fa + b.y * fb);
}

// ---- 1: per (row, tile) max and sum of exp of the heat logits ----------------
template <int VEC>
__global__ void __launch_bounds__(kThreads)
    heat_stats_kernel(const float* __restrict__ heat, Geometry g, Workspace ws,
                      int64_t* __restrict__ status) {
  using O = Own<VEC>;
  __shared__ float2 warp_st[kWarps];
  __shared__ int warp_nan[kWarps];
  if (blockIdx.x == 0) {
    if (threadIdx.x < 3) ws.err[threadIdx.x] = kNoRow;
    if (threadIdx.x < 2) status[threadIdx.x] = 0;
  }
  if (blockIdx.x >= g.R * g.T) return;
  const int64_t r = blockIdx.x / g.T, t = blockIdx.x % g.T;
  const int64_t s_begin = t * g.tile;
  const int64_t len = min(g.tile, g.S - s_begin);
  const float* x = heat + r * g.S + s_begin;
  float2 st = make_float2(-INFINITY, 0.f);
  int nan = 0;
  for (int64_t b = 0; b < len; b += kTile) {
    float v[O::kItems][VEC];
#pragma unroll
    for (int j = 0; j < O::kItems; ++j) {
      const int64_t i = b + O::pos(j);
      if (i < len) load_vec<VEC>(x + i, v[j]);
    }
#pragma unroll
    for (int j = 0; j < O::kItems; ++j) {
      const int64_t i = b + O::pos(j);
      if (i >= len) break;
      float vm = v[j][0];
#pragma unroll
      for (int e = 0; e < VEC; ++e) {
        vm = fmaxf(vm, v[j][e]);
        nan |= v[j][e] != v[j][e];
      }
      if (vm > st.x) {
        st.y *= __expf(st.x - vm);
        st.x = vm;
      }
#pragma unroll
      for (int e = 0; e < VEC; ++e) st.y += v[j][e] > -INFINITY ? __expf(v[j][e] - st.x) : 0.f;
    }
  }
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
#pragma unroll
  for (int o = 16; o > 0; o >>= 1)
    st = lse_merge(st, make_float2(__shfl_xor_sync(kFullMask, st.x, o),
                                   __shfl_xor_sync(kFullMask, st.y, o)));
  nan = __any_sync(kFullMask, nan);
  if (lane == 0) warp_st[warp] = st, warp_nan[warp] = nan;
  __syncthreads();
  if (threadIdx.x == 0) {
    for (int w = 1; w < kWarps; ++w) st = lse_merge(st, warp_st[w]), nan |= warp_nan[w];
    ws.stat[blockIdx.x] = make_float2(nan ? __int_as_float(0x7fc00000) : st.x, st.y);
  }
}

// ---- 2: per row log-sum-exp, Gaussian tables, target check -------------------

__device__ __forceinline__ float block_max(float v, float* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int nwarps = blockDim.x >> 5;
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(kFullMask, v, o));
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < nwarps ? scratch[lane] : -INFINITY;
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(kFullMask, v, o));
  return v;
}

// One axis of the normalised Gaussian (gaussian.h: relative to the grid point
// nearest to c, like a softmax) and its log computed analytically.
__device__ void axis_tables(int n, double c, double k, float* val, float* logv,
                            double* scratch) {
  const double nearest = fmin(fmax(round(c), 0.0), static_cast<double>(n - 1));
  const double shift = (nearest - c) * (nearest - c) * k;
  double part = 0;
  for (int i = threadIdx.x; i < n; i += blockDim.x) {
    const double d = static_cast<double>(i) - c;
    part += exp(shift - d * d * k);
  }
  const double sum = block_sum(part, scratch);
  const double ls = log(sum), inv = 1.0 / sum;
  for (int i = threadIdx.x; i < n; i += blockDim.x) {
    const double d = static_cast<double>(i) - c;
    logv[i] = static_cast<float>(shift - d * d * k - ls);
    val[i] = static_cast<float>(exp(shift - d * d * k) * inv);
  }
}

__global__ void __launch_bounds__(kThreads)
    row_setup_kernel(const float* __restrict__ points, const int64_t* __restrict__ target,
                     Geometry g, double sigma, Workspace ws) {
  __shared__ float fscratch[32];
  __shared__ int iscratch[32];
  __shared__ double dscratch[32];
  const int64_t r = blockIdx.x;

  // Log-sum-exp of the row from the tile states.
  float m = -INFINITY;
  int nan = 0;
  for (int64_t t = threadIdx.x; t < g.T; t += blockDim.x) {
    const float2 st = ws.stat[r * g.T + t];
    if (st.x != st.x) {
      nan = 1;
    } else {
      m = fmaxf(m, st.x);
    }
  }
  m = block_max(m, fscratch);
  nan = block_sum(nan, iscratch);
  double sum = 0;
  for (int64_t t = threadIdx.x; t < g.T; t += blockDim.x) {
    const float2 st = ws.stat[r * g.T + t];
    if (st.x > -INFINITY) sum += static_cast<double>(st.y) * exp(static_cast<double>(st.x) - m);
  }
  sum = block_sum(sum, dscratch);
  if (threadIdx.x == 0) {
    const bool bad = nan > 0 || !isfinite(m);
    ws.off[r] = bad ? __int_as_float(0x7fc00000) : static_cast<float>(m + log(sum));
    if (bad) atomic_min_row(ws.err + 1, r);
    int64_t y = target ? target[r] : -1;
    if (y < -1 || y >= g.C) {
      atomic_min_row(ws.err, r);
      y = -1;
    }
    ws.label[r] = static_cast<int>(y);
  }

  // Gaussian target of the row's point.
  bool present = false;
  if (points) {
    const float* pt = points + r * g.ndim;
    const float px = pt[0], py = pt[1], pz = g.ndim == 3 ? pt[2] : 0.f;
    present = isfinite(px) && isfinite(py) && isfinite(pz);
    if (present) {  // the same for the whole block
      const double k = 1.0 / (2.0 * sigma * sigma);
      axis_tables(g.W, px, k, ws.gx + r * g.Wp, ws.lgx + r * g.Wp, dscratch);
      axis_tables(g.H, py, k, ws.gy + r * g.Hp, ws.lgy + r * g.Hp, dscratch);
      if (g.ndim == 3) {
        axis_tables(g.D, pz, k, ws.gz + r * g.Dp, ws.lgz + r * g.Dp, dscratch);
      } else if (threadIdx.x == 0) {
        ws.gz[r * g.Dp] = 1.f;
        ws.lgz[r * g.Dp] = 0.f;
      }
    }
  }
  if (threadIdx.x == 0) ws.present[r] = present ? 1 : 0;
}

// ---- grade softmax of the owned positions of a tile step into shared memory ----
// q[c * kTile + i]. With err set, a column without a softmax records n*S + s.
template <int VEC>
__device__ __forceinline__ void grade_softmax(const float* __restrict__ grade, int64_t S, int C,
                                              int len, float* q, int64_t* err,
                                              int64_t err_base) {
  using O = Own<VEC>;
#pragma unroll
  for (int j = 0; j < O::kItems; ++j) {
    const int i = O::pos(j);
    if (i >= len) break;
    float mx[VEC];
    int nan[VEC];
#pragma unroll
    for (int e = 0; e < VEC; ++e) mx[e] = -INFINITY, nan[e] = 0;
#pragma unroll 4
    for (int c = 0; c < C; ++c) {
      float v[VEC];
      load_vec<VEC>(grade + c * S + i, v);
      store_vec<VEC>(q + c * kTile + i, v);
#pragma unroll
      for (int e = 0; e < VEC; ++e) {
        mx[e] = fmaxf(mx[e], v[e]);
        nan[e] |= v[e] != v[e];
      }
    }
    if (err) {
#pragma unroll
      for (int e = 0; e < VEC; ++e)
        if (nan[e] || !isfinite(mx[e])) {
          atomic_min_row(err, err_base + i + e);
          break;
        }
    }
    float sum[VEC];
#pragma unroll
    for (int e = 0; e < VEC; ++e) sum[e] = 0.f;
    for (int c = 0; c < C; ++c) {
      float v[VEC];
      load_smem<VEC>(q + c * kTile + i, v);
#pragma unroll
      for (int e = 0; e < VEC; ++e) {
        v[e] = __expf(v[e] - mx[e]);
        sum[e] += v[e];
      }
      store_vec<VEC>(q + c * kTile + i, v);
    }
#pragma unroll
    for (int e = 0; e < VEC; ++e) sum[e] = 1.f / sum[e];
    for (int c = 0; c < C; ++c) {
      float v[VEC];
      load_smem<VEC>(q + c * kTile + i, v);
#pragma unroll
      for (int e = 0; e < VEC; ++e) v[e] *= sum[e];
      store_vec<VEC>(q + c * kTile + i, v);
    }
  }
}

// Loads the owned positions of a heat row (tile step at x, len valid).
template <int VEC>
__device__ __forceinline__ void load_row(const float* __restrict__ x, int len,
                                         float (&v)[Own<VEC>::kItems][VEC]) {
  using O = Own<VEC>;
#pragma unroll
  for (int j = 0; j < O::kItems; ++j) {
    const int i = O::pos(j);
    if (i < len) {
      load_vec<VEC>(x + i, v[j]);
    } else {
#pragma unroll
      for (int e = 0; e < VEC; ++e) v[j][e] = 0.f;
    }
  }
}

// Target and log target of the owned positions of group j (one image line when
// VEC = 4).
template <int VEC>
__device__ __forceinline__ void target_at(const Workspace& ws, const Geometry& g, int64_t r,
                                          uint32_t w, uint32_t h, uint32_t d, float (&t)[VEC],
                                          float (&lt)[VEC]) {
  const uint32_t dz = g.ndim == 3 ? d : 0;
  const float gyz = __ldg(ws.gy + r * g.Hp + h) * __ldg(ws.gz + r * g.Dp + dz);
  const float lgyz = __ldg(ws.lgy + r * g.Hp + h) + __ldg(ws.lgz + r * g.Dp + dz);
  float gx[VEC], lgx[VEC];
  load_vec<VEC>(ws.gx + r * g.Wp + w, gx);
  load_vec<VEC>(ws.lgx + r * g.Wp + w, lgx);
#pragma unroll
  for (int e = 0; e < VEC; ++e) {
    t[e] = gx[e] * gyz;
    const float ltr = lgx[e] + lgyz;
    lt[e] = ltr > kLogEps ? ltr : kLogEps;
  }
}

// ---- 3: per (n, tile) partial sums ------------------------------------------
template <int VEC>
__global__ void __launch_bounds__(kThreads)
    accumulate_kernel(const float* __restrict__ heat, const float* __restrict__ grade,
                      Geometry g, Workspace ws) {
  using O = Own<VEC>;
  constexpr int kItems = O::kItems;
  extern __shared__ float4 smem4[];
  float* q = reinterpret_cast<float*>(smem4);  // [C][kTile]
  const int C = static_cast<int>(g.C), V = g.V;
  const int KV = static_cast<int>(g.K) * V;
  float* wp = q + C * kTile;  // [kWarps][K*V]
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int64_t n = blockIdx.x / g.T, t = blockIdx.x % g.T;
  for (int i = threadIdx.x; i < kWarps * KV; i += kThreads) wp[i] = 0.f;
  __syncthreads();
  float* mine = wp + warp * KV;

  for (int st = 0; st < g.steps; ++st) {
    const int64_t s0 = t * g.tile + int64_t{st} * kTile;
    if (s0 >= g.S) break;
    const int len = static_cast<int>(min(int64_t{kTile}, g.S - s0));
    // Every thread reads back only its own positions of q: no barrier needed.
    grade_softmax<VEC>(grade + n * g.C * g.S + s0, g.S, C, len, q, ws.err + 2, n * g.S + s0);
    uint32_t cw[kItems], ch[kItems], cd[kItems];
#pragma unroll
    for (int j = 0; j < kItems; ++j) {
      cw[j] = ch[j] = cd[j] = 0;
      const int i = O::pos(j);
      if (i < len) g.idx.coords(static_cast<uint32_t>(s0 + i), cw[j], ch[j], cd[j]);
    }
    float xn[kItems][VEC];
    if (g.K > 0) load_row<VEC>(heat + n * g.K * g.S + s0, len, xn);
    for (int k = 0; k < g.K; ++k) {
      const int64_t r = n * g.K + k;
      float p[kItems][VEC];
#pragma unroll
      for (int j = 0; j < kItems; ++j)
#pragma unroll
        for (int e = 0; e < VEC; ++e) p[j][e] = xn[j][e];
      if (k + 1 < g.K) load_row<VEC>(heat + (r + 1) * g.S + s0, len, xn);  // prefetch
      const float o = ws.off[r];
      const bool pres = ws.present[r] != 0;
      float ax = 0.f, ay = 0.f, az = 0.f, js = 0.f, sj = 0.f;
#pragma unroll
      for (int j = 0; j < kItems; ++j) {
        const int i = O::pos(j);
        if (i >= len) break;
        float tv[VEC], ltv[VEC];
        if (pres) target_at<VEC>(ws, g, r, cw[j], ch[j], cd[j], tv, ltv);
        const float fh = static_cast<float>(ch[j]), fd = static_cast<float>(cd[j]);
#pragma unroll
        for (int e = 0; e < VEC; ++e) {
          const float lraw = p[j][e] - o;
          const float pe = __expf(lraw);
          p[j][e] = pe;
          ax += pe * static_cast<float>(cw[j] + e);
          ay += pe * fh;
          az += pe * fd;
          if (pres) {
            const float lp = lraw > kLogEps ? lraw : kLogEps;
            const float m = 0.5f * (pe + tv[e]);
            const float lm = __logf(m > kEps ? m : kEps);
            js += 0.5f * (pe * (lp - lm) + tv[e] * (ltv[e] - lm));
            sj += pe * (0.5f * (lp - lm + (pe >= kEps ? 1.f : 0.f) - (m >= kEps ? 1.f : 0.f)));
          }
        }
      }
      float* slot = mine + k * V;
      ax = warp_sum(ax), ay = warp_sum(ay), az = warp_sum(az);
      if (pres) js = warp_sum(js), sj = warp_sum(sj);
      if (lane == 0) {
        slot[C] += ax, slot[C + 1] += ay, slot[C + 2] += az;
        slot[C + 3] += js, slot[C + 4] += sj;
      }
      for (int c = 0; c < C; ++c) {
        float a = 0.f;
#pragma unroll
        for (int j = 0; j < kItems; ++j) {
          const int i = O::pos(j);
          if (i >= len) break;
          float qv[VEC];
          load_smem<VEC>(q + c * kTile + i, qv);
#pragma unroll
          for (int e = 0; e < VEC; ++e) a += p[j][e] * qv[e];
        }
        a = warp_sum(a);
        if (lane == 0) slot[c] += a;
      }
    }
  }
  __syncthreads();
  float* out = ws.part + int64_t{blockIdx.x} * KV;  // blockIdx.x = n*T + t
  for (int v = threadIdx.x; v < KV; v += kThreads) {
    float a = 0.f;
#pragma unroll
    for (int w = 0; w < kWarps; ++w) a += wp[w * KV + v];
    out[v] = a;
  }
}

// ---- 4: one block: totals, losses, outputs and gradient coefficients --------
__global__ void __launch_bounds__(kFinalThreads)
    finalize_kernel(const float* __restrict__ class_weight, Geometry g, float js_weight,
                    float nll_weight, float grad_scale, Workspace ws, float* __restrict__ losses,
                    float* __restrict__ coords, float* __restrict__ pooled,
                    int64_t* __restrict__ status) {
  __shared__ double scratch[32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int nwarps = blockDim.x >> 5;
  const int64_t C = g.C, V = g.V;
  // Row sums over tiles in a fixed order: a warp per 4 values (their loads in
  // flight together), lanes over tiles.
  constexpr int kPer = 4;
  const int64_t RV = g.R * V, KV = g.K * V;
  for (int64_t v0 = int64_t{warp} * kPer; v0 < RV; v0 += int64_t{nwarps} * kPer) {
    const float* src[kPer];
    double a[kPer];
#pragma unroll
    for (int u = 0; u < kPer; ++u) {
      const int64_t v = min(v0 + u, RV - 1), r = v / V, j = v % V;
      src[u] = ws.part + (r / g.K) * g.T * KV + (r % g.K) * V + j;  // tile 0 of (n, k, j)
      a[u] = 0;
    }
    for (int64_t t = lane; t < g.T; t += 32)
#pragma unroll
      for (int u = 0; u < kPer; ++u) a[u] += src[u][t * KV];
#pragma unroll
    for (int u = 0; u < kPer; ++u) {
      a[u] = warp_sum(a[u]);
      if (lane == 0 && v0 + u < RV) ws.rowsum[v0 + u] = a[u];
    }
  }
  __syncthreads();

  double npts = 0, js = 0, nll = 0, wsum = 0;
  for (int64_t r = threadIdx.x; r < g.R; r += blockDim.x) {
    const double* rs = ws.rowsum + r * V;
    if (ws.present[r]) npts += 1, js += rs[C + 3];
    const int y = ws.label[r];
    if (y >= 0) {
      const double wy = class_weight ? class_weight[y] : 1.0;
      wsum += wy;
      nll += -wy * log(fmax(rs[y], static_cast<double>(kPoolEps)));
    }
    if (coords)
      for (int j = 0; j < g.ndim; ++j) coords[r * g.ndim + j] = static_cast<float>(rs[C + j]);
    if (pooled)
      for (int64_t c = 0; c < C; ++c) pooled[r * C + c] = static_cast<float>(rs[c]);
  }
  npts = block_sum(npts, scratch);
  js = block_sum(js, scratch);
  nll = block_sum(nll, scratch);
  wsum = block_sum(wsum, scratch);

  // d loss / d p_s = cj * dJS_r/dp_s + dpy * q_y(s); dot = sum_s p_s d loss / d p_s.
  const float c_js = npts > 0 ? static_cast<float>((grad_scale * js_weight) / npts) : 0.f;
  for (int64_t r = threadIdx.x; r < g.R; r += blockDim.x) {
    const double* rs = ws.rowsum + r * V;
    const float cjr = ws.present[r] ? c_js : 0.f;
    const int y = ws.label[r];
    double dp = 0;
    if (y >= 0 && wsum > 0 && rs[y] >= kPoolEps) {
      const double wy = class_weight ? class_weight[y] : 1.0;
      dp = -grad_scale * nll_weight * wy / wsum / rs[y];
    }
    ws.cj[r] = cjr;
    ws.dpy[r] = static_cast<float>(dp);
    ws.dot[r] = static_cast<float>(static_cast<double>(cjr) * rs[C + 4] + (y >= 0 ? dp * rs[y] : 0.0));
  }

  if (threadIdx.x == 0) {
    const double JS = npts > 0 ? js / npts : 0.0;
    const double NLL = wsum > 0 ? nll / wsum : 0.0;
    if (losses) {
      losses[0] = static_cast<float>(js_weight * JS + nll_weight * NLL);
      losses[1] = static_cast<float>(JS);
      losses[2] = static_cast<float>(NLL);
    }
    int64_t code = SPINEKIT_OK, info = 0;
    if (ws.err[0] != kNoRow) {
      code = SPINEKIT_BAD_TARGET, info = ws.err[0];
    } else if (ws.err[1] != kNoRow) {
      code = SPINEKIT_NONFINITE_HEAT, info = ws.err[1];
    } else if (ws.err[2] != kNoRow) {
      code = SPINEKIT_NONFINITE_GRADE, info = ws.err[2];
    }
    status[0] = code;
    status[1] = info;
  }
}

// ---- 5: per (n, tile) probabilities and gradients ---------------------------
template <int VEC>
__global__ void __launch_bounds__(kThreads)
    gradient_kernel(const float* __restrict__ heat, const float* __restrict__ grade, Geometry g,
                    Workspace ws, float* __restrict__ probs, float* __restrict__ grad_heat,
                    float* __restrict__ grad_grade) {
  using O = Own<VEC>;
  constexpr int kItems = O::kItems;
  extern __shared__ float4 smem4[];
  const int C = static_cast<int>(g.C);
  float* q = reinterpret_cast<float*>(smem4);  // [C][kTile]
  float* vg = q + C * kTile;                   // [C][kTile] when grad_grade
  const int64_t n = blockIdx.x / g.T, t = blockIdx.x % g.T;

  for (int st = 0; st < g.steps; ++st) {
    const int64_t s0 = t * g.tile + int64_t{st} * kTile;
    if (s0 >= g.S) break;
    const int len = static_cast<int>(min(int64_t{kTile}, g.S - s0));
    // Thread-owned positions of q and vg: no barriers.
    grade_softmax<VEC>(grade + n * g.C * g.S + s0, g.S, C, len, q, nullptr, 0);
    if (grad_grade) {
      for (int c = 0; c < C; ++c)
#pragma unroll
        for (int j = 0; j < kItems; ++j) {
          const int i = O::pos(j);
          if (i >= len) break;
          float z[VEC];
#pragma unroll
          for (int e = 0; e < VEC; ++e) z[e] = 0.f;
          store_vec<VEC>(vg + c * kTile + i, z);
        }
    }
    uint32_t cw[kItems], ch[kItems], cd[kItems];
#pragma unroll
    for (int j = 0; j < kItems; ++j) {
      cw[j] = ch[j] = cd[j] = 0;
      const int i = O::pos(j);
      if (i < len) g.idx.coords(static_cast<uint32_t>(s0 + i), cw[j], ch[j], cd[j]);
    }
    float xn[kItems][VEC];
    if (g.K > 0) load_row<VEC>(heat + n * g.K * g.S + s0, len, xn);
    for (int k = 0; k < g.K; ++k) {
      const int64_t r = n * g.K + k;
      float x[kItems][VEC];
#pragma unroll
      for (int j = 0; j < kItems; ++j)
#pragma unroll
        for (int e = 0; e < VEC; ++e) x[j][e] = xn[j][e];
      if (k + 1 < g.K) load_row<VEC>(heat + (r + 1) * g.S + s0, len, xn);  // prefetch
      const float o = ws.off[r], cjr = ws.cj[r], dp = ws.dpy[r], dt = ws.dot[r];
      const int y = ws.label[r];
      const bool js_grad = ws.present[r] != 0 && cjr != 0.f;
#pragma unroll
      for (int j = 0; j < kItems; ++j) {
        const int i = O::pos(j);
        if (i >= len) break;
        float pe[VEC];
#pragma unroll
        for (int e = 0; e < VEC; ++e) pe[e] = __expf(x[j][e] - o);
        if (probs) store_vec<VEC>(probs + r * g.S + s0 + i, pe);
        if (grad_heat) {
          float gv[VEC];
          if (y >= 0) {
            load_smem<VEC>(q + y * kTile + i, gv);
#pragma unroll
            for (int e = 0; e < VEC; ++e) gv[e] = dp * gv[e] - dt;
          } else {
#pragma unroll
            for (int e = 0; e < VEC; ++e) gv[e] = -dt;
          }
          if (js_grad) {
            float tv[VEC], ltv[VEC];
            target_at<VEC>(ws, g, r, cw[j], ch[j], cd[j], tv, ltv);
#pragma unroll
            for (int e = 0; e < VEC; ++e) {
              const float lraw = x[j][e] - o;
              const float lp = lraw > kLogEps ? lraw : kLogEps;
              const float m = 0.5f * (pe[e] + tv[e]);
              const float lm = __logf(m > kEps ? m : kEps);
              gv[e] += cjr * (0.5f * (lp - lm + (pe[e] >= kEps ? 1.f : 0.f) -
                                      (m >= kEps ? 1.f : 0.f)));
            }
          }
#pragma unroll
          for (int e = 0; e < VEC; ++e) gv[e] *= pe[e];
          store_vec<VEC>(grad_heat + r * g.S + s0 + i, gv);
        }
        if (grad_grade && y >= 0 && dp != 0.f) {
          float* vy = vg + y * kTile + i;
          float a[VEC];
          load_smem<VEC>(vy, a);
#pragma unroll
          for (int e = 0; e < VEC; ++e) a[e] += dp * pe[e];
          store_vec<VEC>(vy, a);
        }
      }
    }
    if (grad_grade) {
#pragma unroll
      for (int j = 0; j < kItems; ++j) {
        const int i = O::pos(j);
        if (i >= len) break;
        float dv[VEC];
#pragma unroll
        for (int e = 0; e < VEC; ++e) dv[e] = 0.f;
        for (int c = 0; c < C; ++c) {
          float qv[VEC], vv[VEC];
          load_smem<VEC>(q + c * kTile + i, qv);
          load_smem<VEC>(vg + c * kTile + i, vv);
#pragma unroll
          for (int e = 0; e < VEC; ++e) dv[e] += qv[e] * vv[e];
        }
        for (int c = 0; c < C; ++c) {
          float qv[VEC], vv[VEC];
          load_smem<VEC>(q + c * kTile + i, qv);
          load_smem<VEC>(vg + c * kTile + i, vv);
#pragma unroll
          for (int e = 0; e < VEC; ++e) qv[e] *= vv[e] - dv[e];
          store_vec<VEC>(grad_grade + (n * g.C + c) * g.S + s0 + i, qv);
        }
      }
    }
  }
}

template <int VEC>
cudaError_t launch_all(const float* heat, const float* grade, const float* points,
                       const int64_t* target, const float* class_weight, const Geometry& g,
                       float sigma, float js_weight, float nll_weight, float grad_scale,
                       float* losses, float* coords, float* pooled, float* probs,
                       float* grad_heat, float* grad_grade, const Workspace& ws,
                       int64_t* status, cudaStream_t st, int smem_optin) {
  const size_t smem_acc = (static_cast<size_t>(g.C) * kTile + size_t{kWarps} * g.K * g.V) * 4;
  const size_t smem_grad = static_cast<size_t>(g.C) * kTile * 4 * (grad_grade ? 2 : 1);
  const bool grads = probs || grad_heat || grad_grade;
  if (static_cast<int64_t>(smem_acc) > smem_optin ||
      (grads && static_cast<int64_t>(smem_grad) > smem_optin))
    return cudaErrorInvalidValue;
  cudaError_t e = allow_smem(accumulate_kernel<VEC>, smem_acc);
  if (e == cudaSuccess && grads) e = allow_smem(gradient_kernel<VEC>, smem_grad);
  if (e != cudaSuccess) return e;

  const int64_t RT = g.R * g.T, NT = g.N * g.T;
  heat_stats_kernel<VEC><<<static_cast<unsigned>(std::max<int64_t>(RT, 1)), kThreads, 0, st>>>(
      heat, g, ws, status);
  if (g.R > 0)
    row_setup_kernel<<<static_cast<unsigned>(g.R), kThreads, 0, st>>>(points, target, g, sigma,
                                                                       ws);
  if (NT > 0)
    accumulate_kernel<VEC><<<static_cast<unsigned>(NT), kThreads, smem_acc, st>>>(heat, grade,
                                                                                  g, ws);
  finalize_kernel<<<1, kFinalThreads, 0, st>>>(class_weight, g, js_weight, nll_weight,
                                               grad_scale, ws, losses, coords, pooled, status);
  if (grads && NT > 0)
    gradient_kernel<VEC><<<static_cast<unsigned>(NT), kThreads, smem_grad, st>>>(
        heat, grade, g, ws, probs, grad_heat, grad_grade);
  return cudaGetLastError();
}

bool valid_shape(int64_t N, int64_t K, int64_t C, int64_t D, int64_t H, int64_t W, int ndim) {
  if (N < 0 || K < 0 || C < 0 || (ndim != 2 && ndim != 3) || !map_fits(D, H, W)) return false;
  if (C >= (int64_t{1} << 20) || K >= (int64_t{1} << 20)) return false;
  const Geometry g = make_geometry(N, K, C, D, H, W, ndim);
  return g.R * g.T < (int64_t{1} << 31) && g.N * g.T < (int64_t{1} << 31);
}

}  // namespace
}  // namespace cuda
}  // namespace spinekit

using namespace spinekit::cuda;

extern "C" int64_t spinekit_head_loss_cuda_workspace_bytes(int64_t N, int64_t K, int64_t C,
                                                           int64_t D, int64_t H, int64_t W,
                                                           int ndim) {
  if (!valid_shape(N, K, C, D, H, W, ndim)) return 0;
  Workspace ws;
  return carve(nullptr, make_geometry(N, K, C, D, H, W, ndim), &ws) + 256;  // + base alignment
}

extern "C" int spinekit_head_loss_cuda(const float* heat, const float* grade,
                                       const float* points, const int64_t* target,
                                       const float* class_weight, int64_t N, int64_t K,
                                       int64_t C, int64_t D, int64_t H, int64_t W, int ndim,
                                       float sigma, float js_weight, float nll_weight,
                                       float grad_scale, float* losses, float* coords,
                                       float* pooled, float* probs, float* grad_heat,
                                       float* grad_grade, void* workspace_dev,
                                       int64_t* status_dev, void* stream) {
  if (!valid_shape(N, K, C, D, H, W, ndim) || !workspace_dev || !status_dev)
    return SPINEKIT_CUDA_ERROR;
  cudaStream_t st = static_cast<cudaStream_t>(stream);
  DeviceInfo dev;
  if (device_info(&dev) != cudaSuccess) {
    cudaGetLastError();
    return SPINEKIT_CUDA_ERROR;
  }
  const Geometry g = make_geometry(N, K, C, D, H, W, ndim);
  char* base = static_cast<char*>(workspace_dev);
  base += (256 - (reinterpret_cast<uintptr_t>(base) & 255)) & 255;
  Workspace ws;
  carve(base, g, &ws);
  const bool vec4 = W % 4 == 0 && aligned16(heat) && aligned16(grade) &&
                    (!probs || aligned16(probs)) && (!grad_heat || aligned16(grad_heat)) &&
                    (!grad_grade || aligned16(grad_grade));
  const cudaError_t e =
      vec4 ? launch_all<4>(heat, grade, points, target, class_weight, g, sigma, js_weight,
                           nll_weight, grad_scale, losses, coords, pooled, probs, grad_heat,
                           grad_grade, ws, status_dev, st, dev.smem_optin)
           : launch_all<1>(heat, grade, points, target, class_weight, g, sigma, js_weight,
                           nll_weight, grad_scale, losses, coords, pooled, probs, grad_heat,
                           grad_grade, ws, status_dev, st, dev.smem_optin);
  if (e != cudaSuccess) {
    cudaGetLastError();
    return SPINEKIT_CUDA_ERROR;
  }
  return SPINEKIT_OK;
}
