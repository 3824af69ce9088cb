// Slice resampling on the CPU: 2.5D stacking, crop-and-sample, windows.
//
// resample_planes: the output planes are grouped by source slice; a task is a
// (group, block of output rows). For one output row the two source rows are
// read, windowed and blended vertically over the crop width in one pass
// (contiguous, vectorised), then the row is gathered horizontally with the
// precomputed column indices and weights (vectorised gathers) and stored to
// every plane of the group with streaming stores. Each output value is
// written by exactly one task, so the result does not depend on the thread
// count.
#include "spinekit/stack.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <vector>

#if defined(__AVX__)
#include <immintrin.h>
#endif

#include "cpu/parallel.h"

using namespace spinekit;

namespace {

constexpr int64_t kRowBlock = 16;

struct Window {
  bool on;
  float lo, hi, inv;
};

inline Window make_window(int window, float center, float width) {
  Window w{window != 0, 0.f, 0.f, 1.f};
  if (w.on) {
    w.lo = center - 0.5f * width;
    w.hi = center + 0.5f * width;
    w.inv = 1.f / width;
  }
  return w;
}

// Comparisons are false for NaN, so NaN passes through.
inline float apply(const Window& w, float v) {
  if (!w.on) return v;
  float t = v < w.lo ? w.lo : v;
  t = t > w.hi ? w.hi : t;
  return (t - w.lo) * w.inv;
}

// Linear source index of one output index (align_corners = false).
struct Tap {
  int64_t i0, i1;
  float l;
};

std::vector<Tap> linear_taps(int64_t out, int64_t in) {
  std::vector<Tap> t(static_cast<size_t>(out));
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  for (int64_t d = 0; d < out; ++d) {
    float s = (static_cast<float>(d) + 0.5f) * scale - 0.5f;
    if (s < 0) s = 0;
    int64_t i0 = static_cast<int64_t>(s);
    if (i0 > in - 1) i0 = in - 1;
    const float l = s - static_cast<float>(i0);
    // A tap of weight 0 reads the same pixel: an exact copy where the grids align, and a
    // NaN voxel reaches only the outputs that weigh it.
    const int64_t i1 = i0 < in - 1 && l > 0 ? i0 + 1 : i0;
    t[d] = {i0, i1, l};
  }
  return t;
}

std::vector<int64_t> nearest_taps(int64_t out, int64_t in) {
  std::vector<int64_t> t(static_cast<size_t>(out));
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  for (int64_t d = 0; d < out; ++d) {
    int64_t s = static_cast<int64_t>(std::floor(static_cast<float>(d) * scale));
    t[d] = std::min(s, in - 1);
  }
  return t;
}

// Planes grouped by source slice, in order of first appearance.
struct Groups {
  std::vector<int64_t> slice;               // source slice of each group
  std::vector<std::vector<int64_t>> planes;  // output planes of each group
};

Groups group_planes(const int64_t* z, int64_t planes) {
  Groups g;
  std::map<int64_t, size_t> at;
  for (int64_t p = 0; p < planes; ++p) {
    auto it = at.find(z[p]);
    if (it == at.end()) {
      at.emplace(z[p], g.slice.size());
      g.slice.push_back(z[p]);
      g.planes.push_back({p});
    } else {
      g.planes[it->second].push_back(p);
    }
  }
  return g;
}

template <typename T>
inline float load(const T* p, float slope, float intercept) {
  return static_cast<float>(*p) * slope + intercept;
}
template <>
inline float load<float>(const float* p, float, float) {
  return *p;
}

// Stores one computed row to a destination row: streaming (non-temporal) stores when the
// destination is 32-byte aligned, so that the write-once output does not evict the source
// rows from the cache nor cost a read for ownership; memcpy otherwise.
inline void store_row(float* dst, const float* row, int64_t n) {
#if defined(__AVX__)
  if ((reinterpret_cast<uintptr_t>(dst) & 31) == 0) {
    int64_t x = 0;
    for (; x + 8 <= n; x += 8) _mm256_stream_ps(dst + x, _mm256_loadu_ps(row + x));
    for (; x < n; ++x) dst[x] = row[x];
    return;
  }
#endif
  std::memcpy(dst, row, static_cast<size_t>(n) * sizeof(float));
}

template <typename T>
void resample(const T* src, int64_t S, int64_t H, int64_t W, float slope, float intercept,
              const int64_t* z, int64_t planes, int64_t y0, int64_t x0, int64_t ch, int64_t cw,
              float pad, const Window& win, int64_t oh, int64_t ow, float* out) {
  const Groups g = group_planes(z, planes);
  const std::vector<Tap> ty = linear_taps(oh, ch), tx = linear_taps(ow, cw);
  // Columns as separate arrays (int32 indices) so the horizontal pass vectorises as gathers.
  std::vector<int32_t> cx0(static_cast<size_t>(ow)), cx1(static_cast<size_t>(ow));
  std::vector<float> cl(static_cast<size_t>(ow));
  for (int64_t ox = 0; ox < ow; ++ox) {
    cx0[ox] = static_cast<int32_t>(tx[ox].i0);
    cx1[ox] = static_cast<int32_t>(tx[ox].i1);
    cl[ox] = tx[ox].l;
  }
  const float padw = apply(win, pad);
  // The crop columns inside the slice: [a, b); the others are padding.
  const int64_t a = std::clamp<int64_t>(-x0, 0, cw);
  const int64_t b = std::clamp<int64_t>(W - x0, a, cw);
  const int64_t blocks = (oh + kRowBlock - 1) / kRowBlock;
  const int64_t ngroups = static_cast<int64_t>(g.slice.size());
  parallel_for(ngroups * blocks, [&](int64_t task) {
    const int64_t gi = task / blocks, r0 = (task % blocks) * kRowBlock;
    const int64_t r1 = std::min(oh, r0 + kRowBlock);
    const int64_t zs = g.slice[gi];
    const std::vector<int64_t>& dst = g.planes[gi];
    std::vector<float> buf(static_cast<size_t>(cw + ow));
    float* v = buf.data();
    float* row = v + cw;
    const int32_t* i0 = cx0.data();
    const int32_t* i1 = cx1.data();
    const float* lx = cl.data();
    const bool slice_in = zs >= 0 && zs < S;
    for (int64_t oy = r0; oy < r1; ++oy) {
      const Tap t = ty[oy];
      const int64_t ya = y0 + t.i0, yb = y0 + t.i1;
      const bool ina = slice_in && ya >= 0 && ya < H, inb = slice_in && yb >= 0 && yb < H;
      const float l1 = t.l, l0 = 1.f - t.l;
      // Vertical blend of the two windowed source rows over the crop width.
      for (int64_t x = 0; x < a; ++x) v[x] = padw;
      for (int64_t x = b; x < cw; ++x) v[x] = padw;
      if (ina && inb) {
        const T* pa = src + (zs * H + ya) * W;
        const T* pb = src + (zs * H + yb) * W;
        if (win.on) {
#pragma omp simd
          for (int64_t x = a; x < b; ++x)
            v[x] = l0 * apply(win, load(pa + (x0 + x), slope, intercept)) +
                   l1 * apply(win, load(pb + (x0 + x), slope, intercept));
        } else {
#pragma omp simd
          for (int64_t x = a; x < b; ++x)
            v[x] = l0 * load(pa + (x0 + x), slope, intercept) +
                   l1 * load(pb + (x0 + x), slope, intercept);
        }
      } else if (ina || inb) {
        const T* p = src + (zs * H + (ina ? ya : yb)) * W;
        const float lin = ina ? l0 : l1, lpad = (ina ? l1 : l0) * padw;
#pragma omp simd
        for (int64_t x = a; x < b; ++x)
          v[x] = lin * apply(win, load(p + (x0 + x), slope, intercept)) + lpad;
      } else {
        for (int64_t x = a; x < b; ++x) v[x] = padw;
      }
      // Horizontal.
#pragma omp simd
      for (int64_t ox = 0; ox < ow; ++ox) row[ox] = (1.f - lx[ox]) * v[i0[ox]] + lx[ox] * v[i1[ox]];
      for (size_t k = 0; k < dst.size(); ++k) store_row(out + (dst[k] * oh + oy) * ow, row, ow);
    }
#if defined(__AVX__)
    _mm_sfence();
#endif
  });
}

template <typename T, typename L>
void resample_nearest(const T* src, int64_t S, int64_t H, int64_t W, const int64_t* z,
                      int64_t planes, int64_t y0, int64_t x0, int64_t ch, int64_t cw,
                      int64_t pad, int64_t oh, int64_t ow, L* out) {
  const Groups g = group_planes(z, planes);
  const std::vector<int64_t> ty = nearest_taps(oh, ch), tx = nearest_taps(ow, cw);
  // Source column of each output column, -1 outside the slice.
  std::vector<int64_t> col(static_cast<size_t>(ow));
  for (int64_t ox = 0; ox < ow; ++ox) {
    const int64_t c = x0 + tx[ox];
    col[ox] = c >= 0 && c < W ? c : -1;
  }
  const L padl = static_cast<L>(pad);
  const int64_t blocks = (oh + kRowBlock - 1) / kRowBlock;
  const int64_t ngroups = static_cast<int64_t>(g.slice.size());
  parallel_for(ngroups * blocks, [&](int64_t task) {
    const int64_t gi = task / blocks, r0 = (task % blocks) * kRowBlock;
    const int64_t r1 = std::min(oh, r0 + kRowBlock);
    const int64_t zs = g.slice[gi];
    const std::vector<int64_t>& dst = g.planes[gi];
    for (int64_t oy = r0; oy < r1; ++oy) {
      L* o = out + (dst[0] * oh + oy) * ow;
      const int64_t row = y0 + ty[oy];
      if (zs < 0 || zs >= S || row < 0 || row >= H) {
        for (int64_t ox = 0; ox < ow; ++ox) o[ox] = padl;
      } else {
        const T* r = src + (zs * H + row) * W;
        for (int64_t ox = 0; ox < ow; ++ox) {
          const int64_t c = col[ox];
          o[ox] = c >= 0 ? static_cast<L>(r[c]) : padl;
        }
      }
      for (size_t k = 1; k < dst.size(); ++k)
        std::memcpy(out + (dst[k] * oh + oy) * ow, o, static_cast<size_t>(ow) * sizeof(L));
    }
  });
}

template <typename T>
void windows(const T* src, int64_t outer, int64_t inner, float slope, float intercept,
             const float* win, int n, float* out) {
  constexpr int64_t kChunk = 16384;
  const int64_t chunks = (inner + kChunk - 1) / kChunk;
  parallel_for(outer * chunks, [&](int64_t task) {
    const int64_t o = task / chunks, i0 = (task % chunks) * kChunk;
    const int64_t len = std::min(kChunk, inner - i0);
    const T* s = src + o * inner + i0;
    for (int c = 0; c < n; ++c) {
      const Window w = make_window(1, win[2 * c], win[2 * c + 1]);
      float* d = out + (o * n + c) * inner + i0;
#pragma omp simd
      for (int64_t i = 0; i < len; ++i) d[i] = apply(w, load(s + i, slope, intercept));
    }
  });
}

bool sizes_ok(int64_t S, int64_t H, int64_t W, int64_t planes, int64_t ch, int64_t cw,
              int64_t oh, int64_t ow) {
  return S > 0 && H > 0 && W > 0 && planes > 0 && ch > 0 && cw > 0 && oh > 0 && ow > 0;
}

}  // namespace

extern "C" int spinekit_resample_planes_cpu(const void* src, int src_dtype, int64_t S,
                                            int64_t H, int64_t W, float slope, float intercept,
                                            const int64_t* z, int64_t planes, int64_t y0,
                                            int64_t x0, int64_t crop_h, int64_t crop_w,
                                            float pad, int window, float center, float width,
                                            int64_t out_h, int64_t out_w, float* out) {
  if (!sizes_ok(S, H, W, planes, crop_h, crop_w, out_h, out_w)) return SPINEKIT_BAD_ARGUMENT;
  if (window != 0 && !(width > 0)) return SPINEKIT_BAD_ARGUMENT;
  const Window w = make_window(window, center, width);
  switch (src_dtype) {
    case SPINEKIT_DTYPE_INT16:
      resample(static_cast<const int16_t*>(src), S, H, W, slope, intercept, z, planes, y0, x0,
               crop_h, crop_w, pad, w, out_h, out_w, out);
      return SPINEKIT_OK;
    case SPINEKIT_DTYPE_UINT16:
      resample(static_cast<const uint16_t*>(src), S, H, W, slope, intercept, z, planes, y0, x0,
               crop_h, crop_w, pad, w, out_h, out_w, out);
      return SPINEKIT_OK;
    case SPINEKIT_DTYPE_FLOAT32:
      resample(static_cast<const float*>(src), S, H, W, 1.f, 0.f, z, planes, y0, x0, crop_h,
               crop_w, pad, w, out_h, out_w, out);
      return SPINEKIT_OK;
    case SPINEKIT_DTYPE_UINT8:
      resample(static_cast<const uint8_t*>(src), S, H, W, slope, intercept, z, planes, y0, x0,
               crop_h, crop_w, pad, w, out_h, out_w, out);
      return SPINEKIT_OK;
    default:
      return SPINEKIT_BAD_ARGUMENT;
  }
}

namespace {
template <typename T>
int nearest_out(const T* src, int64_t S, int64_t H, int64_t W, const int64_t* z, int64_t planes,
                int64_t y0, int64_t x0, int64_t ch, int64_t cw, int64_t pad, int out_dtype,
                int64_t oh, int64_t ow, void* out) {
  if (out_dtype == SPINEKIT_LABEL_INT64) {
    resample_nearest(src, S, H, W, z, planes, y0, x0, ch, cw, pad, oh, ow,
                     static_cast<int64_t*>(out));
  } else if (out_dtype == SPINEKIT_LABEL_UINT8) {
    resample_nearest(src, S, H, W, z, planes, y0, x0, ch, cw, pad, oh, ow,
                     static_cast<uint8_t*>(out));
  } else {
    return SPINEKIT_BAD_ARGUMENT;
  }
  return SPINEKIT_OK;
}
}  // namespace

extern "C" int spinekit_resample_planes_nearest_cpu(const void* src, int src_dtype, int64_t S,
                                                    int64_t H, int64_t W, const int64_t* z,
                                                    int64_t planes, int64_t y0, int64_t x0,
                                                    int64_t crop_h, int64_t crop_w, int64_t pad,
                                                    int out_dtype, int64_t out_h, int64_t out_w,
                                                    void* out) {
  if (!sizes_ok(S, H, W, planes, crop_h, crop_w, out_h, out_w)) return SPINEKIT_BAD_ARGUMENT;
  switch (src_dtype) {
    case SPINEKIT_DTYPE_INT16:
      return nearest_out(static_cast<const int16_t*>(src), S, H, W, z, planes, y0, x0, crop_h,
                         crop_w, pad, out_dtype, out_h, out_w, out);
    case SPINEKIT_DTYPE_UINT16:
      return nearest_out(static_cast<const uint16_t*>(src), S, H, W, z, planes, y0, x0, crop_h,
                         crop_w, pad, out_dtype, out_h, out_w, out);
    case SPINEKIT_DTYPE_UINT8:
      return nearest_out(static_cast<const uint8_t*>(src), S, H, W, z, planes, y0, x0, crop_h,
                         crop_w, pad, out_dtype, out_h, out_w, out);
    default:
      return SPINEKIT_BAD_ARGUMENT;
  }
}

extern "C" int spinekit_window_cpu(const void* src, int src_dtype, int64_t outer, int64_t inner,
                                   float slope, float intercept, const float* win,
                                   int n_windows, float* out) {
  if (outer <= 0 || inner <= 0 || n_windows <= 0) return SPINEKIT_BAD_ARGUMENT;
  for (int c = 0; c < n_windows; ++c)
    if (!(win[2 * c + 1] > 0)) return SPINEKIT_BAD_ARGUMENT;
  switch (src_dtype) {
    case SPINEKIT_DTYPE_INT16:
      windows(static_cast<const int16_t*>(src), outer, inner, slope, intercept, win, n_windows,
              out);
      return SPINEKIT_OK;
    case SPINEKIT_DTYPE_UINT16:
      windows(static_cast<const uint16_t*>(src), outer, inner, slope, intercept, win, n_windows,
              out);
      return SPINEKIT_OK;
    case SPINEKIT_DTYPE_FLOAT32:
      windows(static_cast<const float*>(src), outer, inner, 1.f, 0.f, win, n_windows, out);
      return SPINEKIT_OK;
    case SPINEKIT_DTYPE_UINT8:
      windows(static_cast<const uint8_t*>(src), outer, inner, slope, intercept, win, n_windows,
              out);
      return SPINEKIT_OK;
    default:
      return SPINEKIT_BAD_ARGUMENT;
  }
}
