// Slice resampling on CUDA (spinekit/stack.h): one thread per output value.
//
// Bilinear: the thread of plane p, row oy, column ox computes its taps with the
// same float32 formula as the CPU kernel, reads the four source voxels of slice
// z[p] (padding outside the volume), windows them and blends vertically then
// horizontally, in the CPU kernel's order. Planes that share a source slice are
// computed again rather than copied: on the GPU the reads are cached and the
// kernel is bound by the output writes either way. Threads of a warp take
// consecutive columns, so the writes coalesce.
#include "spinekit/stack.h"

#include <cuda_runtime.h>

#include <cstdint>

#include "cuda/cuda_util.cuh"

namespace spinekit {
namespace cuda {
namespace {

constexpr int kThreads = 256;

struct Win {
  int on;
  float lo, hi, inv;
};

__device__ __forceinline__ float apply(const Win& w, float v) {
  if (!w.on) return v;
  float t = v < w.lo ? w.lo : v;
  t = t > w.hi ? w.hi : t;
  return (t - w.lo) * w.inv;
}

template <typename T>
__device__ __forceinline__ float load(const T* p, float slope, float intercept) {
  return static_cast<float>(*p) * slope + intercept;
}
template <>
__device__ __forceinline__ float load<float>(const float* p, float, float) {
  return *p;
}

// Correctly rounded float operations (the library is built with --use_fast_math), so the
// taps are those of the CPU kernel bit for bit.
__device__ __forceinline__ void linear_tap(int64_t d, int64_t out, int64_t in, int64_t& i0,
                                           int64_t& i1, float& l) {
  const float scale = __fdiv_rn(static_cast<float>(in), static_cast<float>(out));
  float s = __fsub_rn(__fmul_rn(static_cast<float>(d) + 0.5f, scale), 0.5f);
  if (s < 0) s = 0;
  i0 = static_cast<int64_t>(s);
  if (i0 > in - 1) i0 = in - 1;
  l = s - static_cast<float>(i0);
  i1 = i0 < in - 1 && l > 0 ? i0 + 1 : i0;
}

template <typename T>
__global__ void __launch_bounds__(kThreads)
    resample_kernel(const T* __restrict__ src, int64_t S, int64_t H, int64_t W, float slope,
                    float intercept, const int64_t* __restrict__ z, int64_t planes, int64_t y0,
                    int64_t x0, int64_t ch, int64_t cw, float padw, Win win, int64_t oh,
                    int64_t ow, float* __restrict__ out) {
  const int64_t total = planes * oh * ow;
  for (int64_t i = int64_t{blockIdx.x} * kThreads + threadIdx.x; i < total;
       i += int64_t{gridDim.x} * kThreads) {
    const int64_t ox = i % ow, rest = i / ow, oy = rest % oh, p = rest / oh;
    const int64_t zs = z[p];
    int64_t ya, yb, xa, xb;
    float ly, lx;
    linear_tap(oy, oh, ch, ya, yb, ly);
    linear_tap(ox, ow, cw, xa, xb, lx);
    ya += y0;
    yb += y0;
    xa += x0;
    xb += x0;
    const bool zin = zs >= 0 && zs < S;
    auto at = [&](int64_t y, int64_t x) {
      if (!zin || y < 0 || y >= H || x < 0 || x >= W) return padw;
      return apply(win, load(src + (zs * H + y) * W + x, slope, intercept));
    };
    const float l0 = 1.f - ly;
    const float va = l0 * at(ya, xa) + ly * at(yb, xa);
    const float vb = l0 * at(ya, xb) + ly * at(yb, xb);
    out[i] = (1.f - lx) * va + lx * vb;
  }
}

template <typename T, typename L>
__global__ void __launch_bounds__(kThreads)
    nearest_kernel(const T* __restrict__ src, int64_t S, int64_t H, int64_t W,
                   const int64_t* __restrict__ z, int64_t planes, int64_t y0, int64_t x0,
                   int64_t ch, int64_t cw, int64_t pad, int64_t oh, int64_t ow,
                   L* __restrict__ out) {
  const int64_t total = planes * oh * ow;
  const float sy = __fdiv_rn(static_cast<float>(ch), static_cast<float>(oh));
  const float sx = __fdiv_rn(static_cast<float>(cw), static_cast<float>(ow));
  for (int64_t i = int64_t{blockIdx.x} * kThreads + threadIdx.x; i < total;
       i += int64_t{gridDim.x} * kThreads) {
    const int64_t ox = i % ow, rest = i / ow, oy = rest % oh, p = rest / oh;
    int64_t ty = static_cast<int64_t>(floorf(__fmul_rn(static_cast<float>(oy), sy)));
    int64_t tx = static_cast<int64_t>(floorf(__fmul_rn(static_cast<float>(ox), sx)));
    ty = ty < ch - 1 ? ty : ch - 1;
    tx = tx < cw - 1 ? tx : cw - 1;
    const int64_t zs = z[p], y = y0 + ty, x = x0 + tx;
    const bool in = zs >= 0 && zs < S && y >= 0 && y < H && x >= 0 && x < W;
    out[i] = static_cast<L>(in ? static_cast<int64_t>(src[(zs * H + y) * W + x]) : pad);
  }
}

template <typename T>
__global__ void __launch_bounds__(kThreads)
    window_kernel(const T* __restrict__ src, int64_t outer, int64_t inner, float slope,
                  float intercept, const float* __restrict__ windows, int n,
                  float* __restrict__ out) {
  const int64_t total = outer * inner;
  for (int64_t i = int64_t{blockIdx.x} * kThreads + threadIdx.x; i < total;
       i += int64_t{gridDim.x} * kThreads) {
    const int64_t o = i / inner, k = i % inner;
    const float v = load(src + i, slope, intercept);
    for (int c = 0; c < n; ++c) {
      const float center = windows[2 * c], width = windows[2 * c + 1];
      const Win w{1, center - 0.5f * width, center + 0.5f * width, __frcp_rn(width)};
      out[(o * n + c) * inner + k] = apply(w, v);
    }
  }
}

int blocks_for(int64_t total) {
  const int64_t b = ceil_div(total, kThreads);
  return static_cast<int>(b < 65535 * 32 ? b : 65535 * 32);
}

bool sizes_ok(int64_t S, int64_t H, int64_t W, int64_t planes, int64_t ch, int64_t cw,
              int64_t oh, int64_t ow) {
  return S > 0 && H > 0 && W > 0 && planes > 0 && ch > 0 && cw > 0 && oh > 0 && ow > 0;
}

Win make_window(int window, float center, float width) {
  Win w{window != 0, 0.f, 0.f, 1.f};
  if (w.on) {
    w.lo = center - 0.5f * width;
    w.hi = center + 0.5f * width;
    w.inv = 1.f / width;
  }
  return w;
}

float host_apply(const Win& w, float v) {
  if (!w.on) return v;
  float t = v < w.lo ? w.lo : v;
  t = t > w.hi ? w.hi : t;
  return (t - w.lo) * w.inv;
}

template <typename T>
int launch_resample(const void* src, int64_t S, int64_t H, int64_t W, float slope,
                    float intercept, const int64_t* z, int64_t planes, int64_t y0, int64_t x0,
                    int64_t ch, int64_t cw, float pad, const Win& w, int64_t oh, int64_t ow,
                    float* out, cudaStream_t st) {
  const int64_t total = planes * oh * ow;
  resample_kernel<T><<<blocks_for(total), kThreads, 0, st>>>(
      static_cast<const T*>(src), S, H, W, slope, intercept, z, planes, y0, x0, ch, cw,
      host_apply(w, pad), w, oh, ow, out);
  return launch_status();
}

template <typename T>
int launch_nearest(const void* src, int64_t S, int64_t H, int64_t W, const int64_t* z,
                   int64_t planes, int64_t y0, int64_t x0, int64_t ch, int64_t cw, int64_t pad,
                   int out_dtype, int64_t oh, int64_t ow, void* out, cudaStream_t st) {
  const int64_t total = planes * oh * ow;
  const T* s = static_cast<const T*>(src);
  if (out_dtype == SPINEKIT_LABEL_INT64) {
    nearest_kernel<T, int64_t><<<blocks_for(total), kThreads, 0, st>>>(
        s, S, H, W, z, planes, y0, x0, ch, cw, pad, oh, ow, static_cast<int64_t*>(out));
  } else if (out_dtype == SPINEKIT_LABEL_UINT8) {
    nearest_kernel<T, uint8_t><<<blocks_for(total), kThreads, 0, st>>>(
        s, S, H, W, z, planes, y0, x0, ch, cw, pad, oh, ow, static_cast<uint8_t*>(out));
  } else {
    return SPINEKIT_BAD_ARGUMENT;
  }
  return launch_status();
}

template <typename T>
int launch_window(const void* src, int64_t outer, int64_t inner, float slope, float intercept,
                  const float* windows, int n, float* out, cudaStream_t st) {
  window_kernel<T><<<blocks_for(outer * inner), kThreads, 0, st>>>(
      static_cast<const T*>(src), outer, inner, slope, intercept, windows, n, out);
  return launch_status();
}

}  // namespace
}  // namespace cuda
}  // namespace spinekit

using namespace spinekit::cuda;

extern "C" int spinekit_resample_planes_cuda(const void* src, int src_dtype, int64_t S,
                                             int64_t H, int64_t W, float slope,
                                             float intercept, const int64_t* z, int64_t planes,
                                             int64_t y0, int64_t x0, int64_t crop_h,
                                             int64_t crop_w, float pad, int window,
                                             float center, float width, int64_t out_h,
                                             int64_t out_w, float* out, void* stream) {
  if (!sizes_ok(S, H, W, planes, crop_h, crop_w, out_h, out_w)) return SPINEKIT_BAD_ARGUMENT;
  if (window != 0 && !(width > 0)) return SPINEKIT_BAD_ARGUMENT;
  const Win w = make_window(window, center, width);
  cudaStream_t st = static_cast<cudaStream_t>(stream);
  switch (src_dtype) {
    case SPINEKIT_DTYPE_INT16:
      return launch_resample<int16_t>(src, S, H, W, slope, intercept, z, planes, y0, x0, crop_h,
                                      crop_w, pad, w, out_h, out_w, out, st);
    case SPINEKIT_DTYPE_UINT16:
      return launch_resample<uint16_t>(src, S, H, W, slope, intercept, z, planes, y0, x0,
                                       crop_h, crop_w, pad, w, out_h, out_w, out, st);
    case SPINEKIT_DTYPE_FLOAT32:
      return launch_resample<float>(src, S, H, W, 1.f, 0.f, z, planes, y0, x0, crop_h, crop_w,
                                    pad, w, out_h, out_w, out, st);
    case SPINEKIT_DTYPE_UINT8:
      return launch_resample<uint8_t>(src, S, H, W, slope, intercept, z, planes, y0, x0, crop_h,
                                      crop_w, pad, w, out_h, out_w, out, st);
    default:
      return SPINEKIT_BAD_ARGUMENT;
  }
}

extern "C" int spinekit_resample_planes_nearest_cuda(const void* src, int src_dtype, int64_t S,
                                                     int64_t H, int64_t W, const int64_t* z,
                                                     int64_t planes, int64_t y0, int64_t x0,
                                                     int64_t crop_h, int64_t crop_w,
                                                     int64_t pad, int out_dtype, int64_t out_h,
                                                     int64_t out_w, void* out, void* stream) {
  if (!sizes_ok(S, H, W, planes, crop_h, crop_w, out_h, out_w)) return SPINEKIT_BAD_ARGUMENT;
  cudaStream_t st = static_cast<cudaStream_t>(stream);
  switch (src_dtype) {
    case SPINEKIT_DTYPE_INT16:
      return launch_nearest<int16_t>(src, S, H, W, z, planes, y0, x0, crop_h, crop_w, pad,
                                     out_dtype, out_h, out_w, out, st);
    case SPINEKIT_DTYPE_UINT16:
      return launch_nearest<uint16_t>(src, S, H, W, z, planes, y0, x0, crop_h, crop_w, pad,
                                      out_dtype, out_h, out_w, out, st);
    case SPINEKIT_DTYPE_UINT8:
      return launch_nearest<uint8_t>(src, S, H, W, z, planes, y0, x0, crop_h, crop_w, pad,
                                     out_dtype, out_h, out_w, out, st);
    default:
      return SPINEKIT_BAD_ARGUMENT;
  }
}

extern "C" int spinekit_window_cuda(const void* src, int src_dtype, int64_t outer,
                                    int64_t inner, float slope, float intercept,
                                    const float* windows, int n_windows, float* out,
                                    void* stream) {
  if (outer <= 0 || inner <= 0 || n_windows <= 0) return SPINEKIT_BAD_ARGUMENT;
  cudaStream_t st = static_cast<cudaStream_t>(stream);
  switch (src_dtype) {
    case SPINEKIT_DTYPE_INT16:
      return launch_window<int16_t>(src, outer, inner, slope, intercept, windows, n_windows,
                                    out, st);
    case SPINEKIT_DTYPE_UINT16:
      return launch_window<uint16_t>(src, outer, inner, slope, intercept, windows, n_windows,
                                     out, st);
    case SPINEKIT_DTYPE_FLOAT32:
      return launch_window<float>(src, outer, inner, 1.f, 0.f, windows, n_windows, out, st);
    case SPINEKIT_DTYPE_UINT8:
      return launch_window<uint8_t>(src, outer, inner, slope, intercept, windows, n_windows,
                                    out, st);
    default:
      return SPINEKIT_BAD_ARGUMENT;
  }
}
