// Warps on CUDA: one thread per output pixel, looping over the channels. The
// coordinates, footprint and weights are computed exactly as on the CPU
// (src/cpu/warp.cpp): coordinates in double, weights in float, the same order of
// operations (fused multiply-adds are disabled on the value so that the result
// matches the CPU's to rounding of the weights only).
#include "spinekit/warp.h"

#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "cuda/cuda_util.cuh"

namespace spinekit {
namespace cuda {
namespace {

constexpr int kThreads = 256;

struct Affine {
  double m[6];
};

struct Shape {
  int64_t C, H, W, Ho, Wo;
  int border;
};

__device__ __forceinline__ void affine_coord(const Affine& a, int64_t u, int64_t v, double* x,
                                             double* y) {
  *x = __dadd_rn(__dmul_rn(a.m[0], static_cast<double>(u)),
                 __dadd_rn(__dmul_rn(a.m[1], static_cast<double>(v)), a.m[2]));
  *y = __dadd_rn(__dmul_rn(a.m[3], static_cast<double>(u)),
                 __dadd_rn(__dmul_rn(a.m[4], static_cast<double>(v)), a.m[5]));
}

__device__ __forceinline__ float pixel(const float* s, const Shape& g, int64_t xi, int64_t yi) {
  if (g.border == SPINEKIT_BORDER_REPLICATE) {
    xi = xi < 0 ? 0 : (xi >= g.W ? g.W - 1 : xi);
    yi = yi < 0 ? 0 : (yi >= g.H ? g.H - 1 : yi);
  } else if (xi < 0 || xi >= g.W || yi < 0 || yi >= g.H) {
    return 0.f;
  }
  return s[yi * g.W + xi];
}

__device__ void bilinear_pixel(const float* __restrict__ src, const Shape& g, double x, double y,
                               int64_t o, float* __restrict__ out) {
  const int64_t oplane = g.Ho * g.Wo, plane = g.H * g.W;
  if (!isfinite(x) || !isfinite(y)) {
    for (int64_t c = 0; c < g.C; ++c) out[c * oplane + o] = 0.f;
    return;
  }
  double xf = floor(x), yf = floor(y);
  const float fx = static_cast<float>(x - xf), fy = static_cast<float>(y - yf);
  xf = fmin(fmax(xf, -2.0), static_cast<double>(g.W) + 1);
  yf = fmin(fmax(yf, -2.0), static_cast<double>(g.H) + 1);
  const int64_t x0 = static_cast<int64_t>(xf), y0 = static_cast<int64_t>(yf);
  const float w0 = __fmul_rn(1.f - fy, 1.f - fx), w1 = __fmul_rn(1.f - fy, fx);
  const float w2 = __fmul_rn(fy, 1.f - fx), w3 = __fmul_rn(fy, fx);
  for (int64_t c = 0; c < g.C; ++c) {
    const float* s = src + c * plane;
    const float a = pixel(s, g, x0, y0), b = pixel(s, g, x0 + 1, y0);
    const float d = pixel(s, g, x0, y0 + 1), e = pixel(s, g, x0 + 1, y0 + 1);
    out[c * oplane + o] = __fadd_rn(__fadd_rn(__fmul_rn(w0, a), __fmul_rn(w1, b)),
                                    __fadd_rn(__fmul_rn(w2, d), __fmul_rn(w3, e)));
  }
}

template <typename T>
__device__ void nearest_pixel(const T* __restrict__ src, const Shape& g, double x, double y,
                              int64_t o, T* __restrict__ out) {
  if (!isfinite(x) || !isfinite(y)) {
    out[o] = T(0);
    return;
  }
  double xr = floor(x + 0.5), yr = floor(y + 0.5);
  const double xmax = static_cast<double>(g.W - 1), ymax = static_cast<double>(g.H - 1);
  if (g.border == SPINEKIT_BORDER_REPLICATE) {
    xr = fmin(fmax(xr, 0.0), xmax);
    yr = fmin(fmax(yr, 0.0), ymax);
  }
  if (xr < 0 || xr > xmax || yr < 0 || yr > ymax) {
    out[o] = T(0);
    return;
  }
  out[o] = src[static_cast<int64_t>(yr) * g.W + static_cast<int64_t>(xr)];
}

__global__ void __launch_bounds__(kThreads)
    remap_bilinear_kernel(const float* __restrict__ src, const float* __restrict__ mx,
                          const float* __restrict__ my, Shape g, float* __restrict__ out) {
  const int64_t o = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (o >= g.Ho * g.Wo) return;
  bilinear_pixel(src, g, mx[o], my[o], o, out);
}

__global__ void __launch_bounds__(kThreads)
    affine_bilinear_kernel(const float* __restrict__ src, Affine a, Shape g,
                           float* __restrict__ out) {
  const int64_t o = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (o >= g.Ho * g.Wo) return;
  double x, y;
  affine_coord(a, o % g.Wo, o / g.Wo, &x, &y);
  bilinear_pixel(src, g, x, y, o, out);
}

template <typename T>
__global__ void __launch_bounds__(kThreads)
    remap_nearest_kernel(const T* __restrict__ src, const float* __restrict__ mx,
                         const float* __restrict__ my, Shape g, T* __restrict__ out) {
  const int64_t o = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (o >= g.Ho * g.Wo) return;
  nearest_pixel(src, g, mx[o], my[o], o, out);
}

template <typename T>
__global__ void __launch_bounds__(kThreads)
    affine_nearest_kernel(const T* __restrict__ src, Affine a, Shape g, T* __restrict__ out) {
  const int64_t o = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (o >= g.Ho * g.Wo) return;
  double x, y;
  affine_coord(a, o % g.Wo, o / g.Wo, &x, &y);
  nearest_pixel(src, g, x, y, o, out);
}

bool bad(int64_t C, int64_t H, int64_t W, int64_t Ho, int64_t Wo, int border) {
  return C <= 0 || H <= 0 || W <= 0 || Ho <= 0 || Wo <= 0 ||
         (border != SPINEKIT_BORDER_CONSTANT && border != SPINEKIT_BORDER_REPLICATE);
}

bool bad_elem(int e) { return e != 1 && e != 2 && e != 4 && e != 8; }

unsigned blocks(int64_t n) { return static_cast<unsigned>(ceil_div(n, kThreads)); }

template <typename Launch>
int nearest_dispatch(int elem, Launch launch) {
  switch (elem) {
    case 1: launch(uint8_t{}); break;
    case 2: launch(uint16_t{}); break;
    case 4: launch(uint32_t{}); break;
    default: launch(uint64_t{}); break;
  }
  return launch_status();
}

}  // namespace
}  // namespace cuda
}  // namespace spinekit

using namespace spinekit::cuda;

extern "C" int spinekit_remap_bilinear_cuda(const float* src, int64_t C, int64_t H, int64_t W,
                                            const float* map_x, const float* map_y, int64_t Ho,
                                            int64_t Wo, int border, float* out, void* stream) {
  if (!src || !map_x || !map_y || !out || bad(C, H, W, Ho, Wo, border))
    return SPINEKIT_WARP_BAD_ARGUMENT;
  Shape g{C, H, W, Ho, Wo, border};
  remap_bilinear_kernel<<<blocks(Ho * Wo), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(
      src, map_x, map_y, g, out);
  return launch_status();
}

extern "C" int spinekit_warp_affine_bilinear_cuda(const float* src, int64_t C, int64_t H,
                                                  int64_t W, const double* m, int64_t Ho,
                                                  int64_t Wo, int border, float* out,
                                                  void* stream) {
  if (!src || !m || !out || bad(C, H, W, Ho, Wo, border)) return SPINEKIT_WARP_BAD_ARGUMENT;
  Shape g{C, H, W, Ho, Wo, border};
  Affine a{{m[0], m[1], m[2], m[3], m[4], m[5]}};
  affine_bilinear_kernel<<<blocks(Ho * Wo), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(
      src, a, g, out);
  return launch_status();
}

extern "C" int spinekit_remap_nearest_cuda(const void* src, int elem_size, int64_t H, int64_t W,
                                           const float* map_x, const float* map_y, int64_t Ho,
                                           int64_t Wo, int border, void* out, void* stream) {
  if (!src || !map_x || !map_y || !out || bad_elem(elem_size) || bad(1, H, W, Ho, Wo, border))
    return SPINEKIT_WARP_BAD_ARGUMENT;
  Shape g{1, H, W, Ho, Wo, border};
  cudaStream_t st = static_cast<cudaStream_t>(stream);
  return nearest_dispatch(elem_size, [&](auto zero) {
    using T = decltype(zero);
    remap_nearest_kernel<T><<<blocks(Ho * Wo), kThreads, 0, st>>>(
        static_cast<const T*>(src), map_x, map_y, g, static_cast<T*>(out));
  });
}

extern "C" int spinekit_warp_affine_nearest_cuda(const void* src, int elem_size, int64_t H,
                                                 int64_t W, const double* m, int64_t Ho,
                                                 int64_t Wo, int border, void* out,
                                                 void* stream) {
  if (!src || !m || !out || bad_elem(elem_size) || bad(1, H, W, Ho, Wo, border))
    return SPINEKIT_WARP_BAD_ARGUMENT;
  Shape g{1, H, W, Ho, Wo, border};
  Affine a{{m[0], m[1], m[2], m[3], m[4], m[5]}};
  cudaStream_t st = static_cast<cudaStream_t>(stream);
  return nearest_dispatch(elem_size, [&](auto zero) {
    using T = decltype(zero);
    affine_nearest_kernel<T><<<blocks(Ho * Wo), kThreads, 0, st>>>(
        static_cast<const T*>(src), a, g, static_cast<T*>(out));
  });
}
