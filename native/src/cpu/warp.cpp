// Warps on the CPU: one output row per task. Each row first computes, per output
// pixel, the four neighbour offsets and the bilinear weights (or the nearest
// offset) once, then applies them to every channel.
#include "spinekit/warp.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "cpu/parallel.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

namespace spinekit {
namespace {

// Offsets of the 2x2 footprint (-1 = outside, reads 0) and its weights.
struct Tap {
  int64_t o[4];
  float w[4];
};

inline bool usable(double x) { return std::isfinite(x); }

// Bilinear tap of source coordinate (x, y) in an H x W source.
inline Tap bilinear_tap(double x, double y, int64_t H, int64_t W, int border) {
  Tap t;
  if (!usable(x) || !usable(y)) {
    for (int k = 0; k < 4; ++k) {
      t.o[k] = -1;
      t.w[k] = 0.f;
    }
    return t;
  }
  double xf = std::floor(x), yf = std::floor(y);
  const float fx = static_cast<float>(x - xf), fy = static_cast<float>(y - yf);
  // Far outside: clamp so that the integer conversion is defined; the clamped
  // footprint is still fully outside (constant) or at the edge (replicate).
  if (xf < -2) xf = -2;
  if (xf > static_cast<double>(W) + 1) xf = static_cast<double>(W) + 1;
  if (yf < -2) yf = -2;
  if (yf > static_cast<double>(H) + 1) yf = static_cast<double>(H) + 1;
  const int64_t x0 = static_cast<int64_t>(xf), y0 = static_cast<int64_t>(yf);
  const int64_t xs[2] = {x0, x0 + 1}, ys[2] = {y0, y0 + 1};
  const float wx[2] = {1.f - fx, fx}, wy[2] = {1.f - fy, fy};
  for (int b = 0; b < 2; ++b) {
    for (int a = 0; a < 2; ++a) {
      int64_t xi = xs[a], yi = ys[b];
      const int k = b * 2 + a;
      t.w[k] = wy[b] * wx[a];
      if (border == SPINEKIT_BORDER_REPLICATE) {
        xi = xi < 0 ? 0 : (xi >= W ? W - 1 : xi);
        yi = yi < 0 ? 0 : (yi >= H ? H - 1 : yi);
        t.o[k] = yi * W + xi;
      } else {
        t.o[k] = (xi < 0 || xi >= W || yi < 0 || yi >= H) ? -1 : yi * W + xi;
      }
    }
  }
  return t;
}

bool bad_sizes(int64_t C, int64_t H, int64_t W, int64_t Ho, int64_t Wo, int border) {
  return C <= 0 || H <= 0 || W <= 0 || Ho <= 0 || Wo <= 0 || H * W >= (int64_t{1} << 31) ||
         (border != SPINEKIT_BORDER_CONSTANT && border != SPINEKIT_BORDER_REPLICATE);
}

bool bad_elem(int e) { return e != 1 && e != 2 && e != 4 && e != 8; }

// Per-row scratch of the warps: source coordinates, then the footprint of each pixel.
struct RowScratch {
  std::vector<double> x, y;
  std::vector<int32_t> off;
  std::vector<float> w0, w1, w2, w3;
  std::vector<unsigned char> inside;
  std::vector<Tap> slow;
  std::vector<int64_t> slow_at, zero_at;

  void resize(int64_t n) {
    const size_t m = static_cast<size_t>(n);
    x.resize(m);
    y.resize(m);
    off.resize(m);
    w0.resize(m);
    w1.resize(m);
    w2.resize(m);
    w3.resize(m);
    inside.resize(m);
  }
};

RowScratch& scratch(int64_t n) {
  thread_local RowScratch rs;
  rs.resize(n);
  return rs;
}

// The per-row footprint loops below, four pixels at a time with AVX2: the same double and
// float operations as the scalar statements they replace (which finish each row), so a
// pixel gets the same offset, flag and weights on either path. They return the first
// pixel left to the scalar loop.
#if defined(__AVX2__)
int64_t bilinear_footprint_avx2(const double* xs, const double* ys, int64_t n, double xmax,
                                double ymax, int32_t W32, int32_t* off, float* w0, float* w1,
                                float* w2, float* w3, unsigned char* in) {
  const __m256d zero = _mm256_setzero_pd(), xm = _mm256_set1_pd(xmax), ym = _mm256_set1_pd(ymax);
  const __m128i w = _mm_set1_epi32(W32);
  const __m128 one = _mm_set1_ps(1.f);
  int64_t u = 0;
  for (; u + 4 <= n; u += 4) {
    const __m256d x = _mm256_loadu_pd(xs + u), y = _mm256_loadu_pd(ys + u);
    const __m256d xf = _mm256_floor_pd(x), yf = _mm256_floor_pd(y);
    const __m256d ok = _mm256_and_pd(
        _mm256_and_pd(_mm256_cmp_pd(xf, zero, _CMP_GE_OQ), _mm256_cmp_pd(xf, xm, _CMP_LE_OQ)),
        _mm256_and_pd(_mm256_cmp_pd(yf, zero, _CMP_GE_OQ), _mm256_cmp_pd(yf, ym, _CMP_LE_OQ)));
    const __m128i xi = _mm256_cvttpd_epi32(_mm256_and_pd(xf, ok));
    const __m128i yi = _mm256_cvttpd_epi32(_mm256_and_pd(yf, ok));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(off + u), _mm_add_epi32(_mm_mullo_epi32(yi, w), xi));
    const __m128 fx = _mm256_cvtpd_ps(_mm256_and_pd(_mm256_sub_pd(x, xf), ok));
    const __m128 fy = _mm256_cvtpd_ps(_mm256_and_pd(_mm256_sub_pd(y, yf), ok));
    const __m128 gx = _mm_sub_ps(one, fx), gy = _mm_sub_ps(one, fy);
    _mm_storeu_ps(w0 + u, _mm_mul_ps(gy, gx));
    _mm_storeu_ps(w1 + u, _mm_mul_ps(gy, fx));
    _mm_storeu_ps(w2 + u, _mm_mul_ps(fy, gx));
    _mm_storeu_ps(w3 + u, _mm_mul_ps(fy, fx));
    const int bits = _mm256_movemask_pd(ok);
    for (int k = 0; k < 4; ++k) in[u + k] = static_cast<unsigned char>((bits >> k) & 1);
  }
  return u;
}

// The nearest footprint (offset and flag of each pixel) and the read of nearest_typed in
// one loop, each pixel read (or 0 outside) as soon as its offset is known.
template <typename T>
int64_t nearest_apply_avx2(const T* s, const double* xs, const double* ys, int64_t n,
                           double xmax, double ymax, bool replicate, int32_t W32, T* row) {
  const __m256d zero = _mm256_setzero_pd(), half = _mm256_set1_pd(0.5),
                xm = _mm256_set1_pd(xmax), ym = _mm256_set1_pd(ymax);
  const __m128i w = _mm_set1_epi32(W32);
  int64_t u = 0;
  alignas(16) int32_t off[4];
  for (; u + 4 <= n; u += 4) {
    const __m256d x = _mm256_loadu_pd(xs + u), y = _mm256_loadu_pd(ys + u);
    __m256d xr = _mm256_floor_pd(_mm256_add_pd(x, half)), yr = _mm256_floor_pd(_mm256_add_pd(y, half));
    const __m256d finite = _mm256_and_pd(_mm256_cmp_pd(_mm256_sub_pd(x, x), zero, _CMP_EQ_OQ),
                                         _mm256_cmp_pd(_mm256_sub_pd(y, y), zero, _CMP_EQ_OQ));
    if (replicate) {
      xr = _mm256_blendv_pd(xr, xm, _mm256_cmp_pd(xr, xm, _CMP_GT_OQ));
      xr = _mm256_blendv_pd(xr, zero, _mm256_cmp_pd(xr, zero, _CMP_LT_OQ));
      yr = _mm256_blendv_pd(yr, ym, _mm256_cmp_pd(yr, ym, _CMP_GT_OQ));
      yr = _mm256_blendv_pd(yr, zero, _mm256_cmp_pd(yr, zero, _CMP_LT_OQ));
    }
    const __m256d ok = _mm256_and_pd(
        finite,
        _mm256_and_pd(
            _mm256_and_pd(_mm256_cmp_pd(xr, zero, _CMP_GE_OQ), _mm256_cmp_pd(xr, xm, _CMP_LE_OQ)),
            _mm256_and_pd(_mm256_cmp_pd(yr, zero, _CMP_GE_OQ), _mm256_cmp_pd(yr, ym, _CMP_LE_OQ))));
    const __m128i xi = _mm256_cvttpd_epi32(_mm256_and_pd(xr, ok));
    const __m128i yi = _mm256_cvttpd_epi32(_mm256_and_pd(yr, ok));
    _mm_store_si128(reinterpret_cast<__m128i*>(off), _mm_add_epi32(_mm_mullo_epi32(yi, w), xi));
    const int bits = _mm256_movemask_pd(ok);
    for (int k = 0; k < 4; ++k) {
      const T a = s[off[k]];
      row[u + k] = (bits >> k) & 1 ? a : T(0);
    }
  }
  return u;
}

// The fast-path sum of bilinear_rows, four pixels at a time: each pixel's two source pairs
// (p[0], p[1]) and (p[W], p[W+1]) are loaded as 64-bit halves, multiplied by the
// interleaved weights, and added pairwise (hadd) and then top + bottom: the same products
// and the same additions in the same order as the scalar statement
// w0 p[0] + w1 p[1] + (w2 p[W] + w3 p[W+1]), so the result is bit-identical. Returns the
// first pixel left to the scalar loop.
int64_t bilinear_apply_avx2(const float* s, int64_t W, const int32_t* off, const float* w0,
                            const float* w1, const float* w2, const float* w3, int64_t n,
                            float* o) {
  int64_t u = 0;
  for (; u + 4 <= n; u += 4) {
    const float* p0 = s + off[u];
    const float* p1 = s + off[u + 1];
    const float* p2 = s + off[u + 2];
    const float* p3 = s + off[u + 3];
    const __m128 t01 = _mm_loadh_pi(_mm_castpd_ps(_mm_load_sd(reinterpret_cast<const double*>(p0))),
                                    reinterpret_cast<const __m64*>(p1));
    const __m128 t23 = _mm_loadh_pi(_mm_castpd_ps(_mm_load_sd(reinterpret_cast<const double*>(p2))),
                                    reinterpret_cast<const __m64*>(p3));
    const __m128 b01 =
        _mm_loadh_pi(_mm_castpd_ps(_mm_load_sd(reinterpret_cast<const double*>(p0 + W))),
                     reinterpret_cast<const __m64*>(p1 + W));
    const __m128 b23 =
        _mm_loadh_pi(_mm_castpd_ps(_mm_load_sd(reinterpret_cast<const double*>(p2 + W))),
                     reinterpret_cast<const __m64*>(p3 + W));
    const __m128 a0 = _mm_loadu_ps(w0 + u), a1 = _mm_loadu_ps(w1 + u);
    const __m128 a2 = _mm_loadu_ps(w2 + u), a3 = _mm_loadu_ps(w3 + u);
    // [w0 w1] of pixels 0, 1 | 2, 3 and [w2 w3] likewise.
    const __m256 wt = _mm256_set_m128(_mm_unpackhi_ps(a0, a1), _mm_unpacklo_ps(a0, a1));
    const __m256 wb = _mm256_set_m128(_mm_unpackhi_ps(a2, a3), _mm_unpacklo_ps(a2, a3));
    const __m256 pt = _mm256_mul_ps(_mm256_set_m128(t23, t01), wt);
    const __m256 pb = _mm256_mul_ps(_mm256_set_m128(b23, b01), wb);
    // Lane 0: [T0 T1 B0 B1], lane 1: [T2 T3 B2 B3].
    const __m256 h = _mm256_hadd_ps(pt, pb);
    const __m128 lo = _mm256_castps256_ps128(h), hi = _mm256_extractf128_ps(h, 1);
    const __m128 top = _mm_shuffle_ps(lo, hi, _MM_SHUFFLE(1, 0, 1, 0));
    const __m128 bot = _mm_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 2, 3, 2));
    _mm_storeu_ps(o + u, _mm_add_ps(top, bot));
  }
  return u;
}
#endif

// Bilinear warp; coords(v, x, y) writes the source coordinates of output row v.
// Pixels whose 2x2 footprint lies inside the source (the common case) are computed in
// branch-free, vectorisable loops; the others (border, NaN) through a full Tap. Both
// use the same weights and order of operations (this file is built without fused
// multiply-adds), so the result does not depend on the path a pixel takes, and the
// CUDA kernels (src/cuda/warp.cu) compute the same values.
template <typename Coords>
void bilinear_rows(const float* src, int64_t C, int64_t H, int64_t W, int64_t Ho, int64_t Wo,
                   int border, float* out, Coords coords) {
  const int64_t plane = H * W, oplane = Ho * Wo;
  const double xmax = static_cast<double>(W - 2), ymax = static_cast<double>(H - 2);
  const bool fast = H >= 2 && W >= 2;  // else every pixel takes the Tap path
  parallel_for(Ho, [&](int64_t v) {
    RowScratch& r = scratch(Wo);
    double* xs = r.x.data();
    double* ys = r.y.data();
    coords(v, xs, ys);
    int32_t* off = r.off.data();
    const int32_t W32 = static_cast<int32_t>(W);
    float *w0 = r.w0.data(), *w1 = r.w1.data(), *w2 = r.w2.data(), *w3 = r.w3.data();
    unsigned char* in = r.inside.data();
#if defined(__AVX2__)
    const int64_t u0 = bilinear_footprint_avx2(xs, ys, Wo, xmax, ymax, W32, off, w0, w1, w2, w3, in);
#else
    const int64_t u0 = 0;
#endif
    for (int64_t u = u0; u < Wo; ++u) {
      const double xf = std::floor(xs[u]), yf = std::floor(ys[u]);
      const bool ok = (xf >= 0) & (xf <= xmax) & (yf >= 0) & (yf <= ymax);  // false for NaN
      const double xc = ok ? xf : 0.0, yc = ok ? yf : 0.0;
      off[u] = static_cast<int32_t>(yc) * W32 + static_cast<int32_t>(xc);
      const float fx = ok ? static_cast<float>(xs[u] - xf) : 0.f;
      const float fy = ok ? static_cast<float>(ys[u] - yf) : 0.f;
      w0[u] = (1.f - fy) * (1.f - fx);
      w1[u] = (1.f - fy) * fx;
      w2[u] = fy * (1.f - fx);
      w3[u] = fy * fx;
      in[u] = ok;
    }
    r.slow.clear();
    r.slow_at.clear();
    r.zero_at.clear();
    const double xlast = static_cast<double>(W - 1), ylast = static_cast<double>(H - 1);
    for (int64_t u = 0; u < Wo; ++u) {
      if (!in[u]) {
        // Constant border, footprint wholly outside (or a non-finite coordinate): every tap
        // reads 0 with a weight >= 0, so the pixel is +0 (no Tap needed).
        const double xf = std::floor(xs[u]), yf = std::floor(ys[u]);
        const bool inside_x = xf >= -1 && xf <= xlast, inside_y = yf >= -1 && yf <= ylast;
        if (border == SPINEKIT_BORDER_CONSTANT && !(inside_x && inside_y)) {
          r.zero_at.push_back(u);
        } else {
          r.slow.push_back(bilinear_tap(xs[u], ys[u], H, W, border));
          r.slow_at.push_back(u);
        }
      }
    }
    for (int64_t c = 0; c < C; ++c) {
      const float* s = src + c * plane;
      float* o = out + c * oplane + v * Wo;
#if defined(__AVX2__)
      const int64_t f0 = fast ? bilinear_apply_avx2(s, W, off, w0, w1, w2, w3, Wo, o) : 0;
#else
      const int64_t f0 = 0;
#endif
      for (int64_t u = f0; u < (fast ? Wo : 0); ++u) {
        const float* p = s + off[u];  // in the source for every pixel (offset 0 when outside)
        o[u] = w0[u] * p[0] + w1[u] * p[1] + (w2[u] * p[W] + w3[u] * p[W + 1]);
      }
      for (size_t k = 0; k < r.slow.size(); ++k) {
        const Tap& t = r.slow[k];
        float acc[4];
        for (int j = 0; j < 4; ++j) acc[j] = t.o[j] < 0 ? 0.f : s[t.o[j]];
        o[r.slow_at[k]] = t.w[0] * acc[0] + t.w[1] * acc[1] + (t.w[2] * acc[2] + t.w[3] * acc[3]);
      }
      for (const int64_t u : r.zero_at) o[u] = 0.f;
    }
  });
}

template <typename T, typename Coords>
void nearest_typed(const T* s, int64_t H, int64_t W, int64_t Ho, int64_t Wo, int border, T* o,
                   Coords coords) {
  const double xmax = static_cast<double>(W - 1), ymax = static_cast<double>(H - 1);
  const bool replicate = border == SPINEKIT_BORDER_REPLICATE;
  parallel_for(Ho, [&](int64_t v) {
    RowScratch& r = scratch(Wo);
    double* xs = r.x.data();
    double* ys = r.y.data();
    coords(v, xs, ys);
    int32_t* off = r.off.data();
    const int32_t W32 = static_cast<int32_t>(W);
    unsigned char* in = r.inside.data();
    T* row = o + v * Wo;
#if defined(__AVX2__)
    const int64_t u0 = nearest_apply_avx2(s, xs, ys, Wo, xmax, ymax, replicate, W32, row);
#else
    const int64_t u0 = 0;
#endif
    for (int64_t u = u0; u < Wo; ++u) {
      double xr = std::floor(xs[u] + 0.5), yr = std::floor(ys[u] + 0.5);
      const bool finite = (xs[u] - xs[u] == 0) & (ys[u] - ys[u] == 0);  // false for NaN, inf
      const double xq = xr < 0 ? 0 : (xr > xmax ? xmax : xr);
      const double yq = yr < 0 ? 0 : (yr > ymax ? ymax : yr);
      xr = replicate ? xq : xr;
      yr = replicate ? yq : yr;
      const bool ok = finite & (xr >= 0) & (xr <= xmax) & (yr >= 0) & (yr <= ymax);
      off[u] = static_cast<int32_t>(ok ? yr : 0.0) * W32 + static_cast<int32_t>(ok ? xr : 0.0);
      in[u] = ok;
    }
    for (int64_t u = u0; u < Wo; ++u) {
      const T a = s[off[u]];  // in the source for every pixel (offset 0 when outside)
      row[u] = in[u] ? a : T(0);
    }
  });
}

template <typename Coords>
void nearest_rows(const void* src, int elem, int64_t H, int64_t W, int64_t Ho, int64_t Wo,
                  int border, void* out, Coords coords) {
  switch (elem) {
    case 1:
      nearest_typed(static_cast<const uint8_t*>(src), H, W, Ho, Wo, border,
                    static_cast<uint8_t*>(out), coords);
      break;
    case 2:
      nearest_typed(static_cast<const uint16_t*>(src), H, W, Ho, Wo, border,
                    static_cast<uint16_t*>(out), coords);
      break;
    case 4:
      nearest_typed(static_cast<const uint32_t*>(src), H, W, Ho, Wo, border,
                    static_cast<uint32_t*>(out), coords);
      break;
    default:
      nearest_typed(static_cast<const uint64_t*>(src), H, W, Ho, Wo, border,
                    static_cast<uint64_t*>(out), coords);
      break;
  }
}

// Coordinates of a row: from the maps, or from the inverse affine matrix.
struct MapCoords {
  const float* mx;
  const float* my;
  int64_t Wo;
  void operator()(int64_t v, double* x, double* y) const {
    const float* a = mx + v * Wo;
    const float* b = my + v * Wo;
#pragma omp simd
    for (int64_t u = 0; u < Wo; ++u) {
      x[u] = a[u];
      y[u] = b[u];
    }
  }
};

struct AffineCoords {
  double m[6];
  int64_t Wo;
  void operator()(int64_t v, double* x, double* y) const {
    const double vx = m[1] * static_cast<double>(v) + m[2];
    const double vy = m[4] * static_cast<double>(v) + m[5];
    const double m0 = m[0], m3 = m[3];  // locals: the stores below cannot alias them
    const int64_t n = Wo;
#pragma omp simd
    for (int64_t u = 0; u < n; ++u) {
      x[u] = m0 * static_cast<double>(u) + vx;
      y[u] = m3 * static_cast<double>(u) + vy;
    }
  }
};

// Mirror index i into [0, n) (d c b a | a b c d | d c b a, repeated, period 2n); the
// division only for indices beyond one mirror image.
inline int64_t reflect(int64_t i, int64_t n) {
  if (i >= 0 && i < n) return i;
  if (i < 0 && i >= -n) return -i - 1;
  if (i >= n && i < 2 * n) return 2 * n - 1 - i;
  const int64_t period = 2 * n;
  int64_t m = i % period;
  if (m < 0) m += period;
  return m < n ? m : period - 1 - m;
}

}  // namespace
}  // namespace spinekit

using namespace spinekit;

extern "C" int spinekit_remap_bilinear_cpu(const float* src, int64_t C, int64_t H, int64_t W,
                                           const float* map_x, const float* map_y, int64_t Ho,
                                           int64_t Wo, int border, float* out) {
  if (!src || !map_x || !map_y || !out || bad_sizes(C, H, W, Ho, Wo, border))
    return SPINEKIT_WARP_BAD_ARGUMENT;
  bilinear_rows(src, C, H, W, Ho, Wo, border, out, MapCoords{map_x, map_y, Wo});
  return SPINEKIT_OK;
}

extern "C" int spinekit_remap_nearest_cpu(const void* src, int elem_size, int64_t H, int64_t W,
                                          const float* map_x, const float* map_y, int64_t Ho,
                                          int64_t Wo, int border, void* out) {
  if (!src || !map_x || !map_y || !out || bad_elem(elem_size) ||
      bad_sizes(1, H, W, Ho, Wo, border))
    return SPINEKIT_WARP_BAD_ARGUMENT;
  nearest_rows(src, elem_size, H, W, Ho, Wo, border, out, MapCoords{map_x, map_y, Wo});
  return SPINEKIT_OK;
}

extern "C" int spinekit_warp_affine_bilinear_cpu(const float* src, int64_t C, int64_t H,
                                                 int64_t W, const double* m, int64_t Ho,
                                                 int64_t Wo, int border, float* out) {
  if (!src || !m || !out || bad_sizes(C, H, W, Ho, Wo, border)) return SPINEKIT_WARP_BAD_ARGUMENT;
  bilinear_rows(src, C, H, W, Ho, Wo, border, out,
                AffineCoords{{m[0], m[1], m[2], m[3], m[4], m[5]}, Wo});
  return SPINEKIT_OK;
}

extern "C" int spinekit_warp_affine_nearest_cpu(const void* src, int elem_size, int64_t H,
                                                int64_t W, const double* m, int64_t Ho,
                                                int64_t Wo, int border, void* out) {
  if (!src || !m || !out || bad_elem(elem_size) || bad_sizes(1, H, W, Ho, Wo, border))
    return SPINEKIT_WARP_BAD_ARGUMENT;
  nearest_rows(src, elem_size, H, W, Ho, Wo, border, out,
               AffineCoords{{m[0], m[1], m[2], m[3], m[4], m[5]}, Wo});
  return SPINEKIT_OK;
}

extern "C" int spinekit_elastic_maps_cpu(const float* dx, const float* dy, int64_t H, int64_t W,
                                         const double* m, float* map_x, float* map_y) {
  if (!dx || !dy || !m || !map_x || !map_y || bad_sizes(1, H, W, H, W, SPINEKIT_BORDER_CONSTANT) ||
      W >= (int64_t{1} << 24) || H >= (int64_t{1} << 24))
    return SPINEKIT_WARP_BAD_ARGUMENT;
  const double m0 = m[0], m1 = m[1], m2 = m[2], m3 = m[3], m4 = m[4], m5 = m[5];
  parallel_for(H, [&](int64_t v) {
    const float* ax = dx + v * W;
    const float* ay = dy + v * W;
    float* ox = map_x + v * W;
    float* oy = map_y + v * W;
    const float fv = static_cast<float>(v);
#pragma omp simd
    for (int64_t u = 0; u < W; ++u) {
      const double qx = static_cast<float>(u) + ax[u], qy = fv + ay[u];  // float sums
      ox[u] = static_cast<float>(m0 * qx + m1 * qy + m2);
      oy[u] = static_cast<float>(m3 * qx + m4 * qy + m5);
    }
  });
  return SPINEKIT_OK;
}

namespace spinekit {
namespace {

// The 1D filter of size n as a matrix with the mirrored border folded in:
// k[i * n + x] = weight of input i in output x, and for every input i the range
// [lo[i], hi[i]] of outputs it reaches (zeros inside that range are harmless).
struct Folded {
  std::vector<float> k;
  std::vector<int64_t> lo, hi;
};

// The folded filter in double: k[i * n + x].
std::vector<double> fold_matrix(int64_t n, const std::vector<double>& w, int64_t r) {
  std::vector<double> k(static_cast<size_t>(n * n), 0.0);
  for (int64_t x = 0; x < n; ++x)
    for (int64_t j = -r; j <= r; ++j) k[reflect(x + j, n) * n + x] += w[j + r];
  return k;
}

Folded fold(int64_t n, const std::vector<double>& w, int64_t r) {
  const std::vector<double> k = fold_matrix(n, w, r);
  Folded f;
  f.k.resize(k.size());
  f.lo.assign(static_cast<size_t>(n), n);
  f.hi.assign(static_cast<size_t>(n), -1);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t x = 0; x < n; ++x) {
      const double v = k[i * n + x];
      f.k[i * n + x] = static_cast<float>(v);
      if (v != 0.0) {
        if (x < f.lo[i]) f.lo[i] = x;
        f.hi[i] = x;
      }
    }
  }
  return f;
}

// C[M, ldc] = A[M, K] B[K, ldc] over the column range [0, ncol), ncol a multiple of 16:
// C[y, x] = sum over k in increasing order of A[y, k] B[k, x], one fused multiply-add per
// term, in tiles of 4 rows x 16 columns held in registers. A tile runs over the terms from
// the first to the last k whose nonzero range reaches it ([blo[k], bhi[k]] in columns,
// [alo[k], ahi[k]] in rows); the others are zero. M is a multiple of 4.
void gemm_tiles(const float* A, int64_t M, int64_t K, const float* B, int64_t ldb,
                const int64_t* alo, const int64_t* ahi, const int64_t* blo,
                const int64_t* bhi, int64_t ncol, float* C, int64_t ldc) {
  const int64_t ct = ncol / 16, rt = M / 4;
  // The terms of a tile: from the first to the last that reaches its columns and rows
  // (those in between that do not are zero).
  std::vector<int64_t> cb(static_cast<size_t>(ct), K), ce(static_cast<size_t>(ct), 0),
      rb(static_cast<size_t>(rt), K), re(static_cast<size_t>(rt), 0);
  for (int64_t k = 0; k < K; ++k) {
    for (int64_t c = 0; c < ct; ++c)
      if (bhi[k] >= c * 16 && blo[k] <= c * 16 + 15) {
        cb[c] = std::min(cb[c], k);
        ce[c] = k + 1;
      }
    for (int64_t q = 0; q < rt; ++q)
      if (ahi[k] >= q * 4 && alo[k] <= q * 4 + 3) {
        rb[q] = std::min(rb[q], k);
        re[q] = k + 1;
      }
  }
  parallel_for(rt * ct, [&](int64_t t) {
    const int64_t y = (t / ct) * 4, x = (t % ct) * 16;
    const int64_t kb = std::max(rb[t / ct], cb[t % ct]), ke = std::min(re[t / ct], ce[t % ct]);
    const float* a = A + y * K;
#if defined(__AVX2__) && defined(__FMA__)
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
           c30 = c00, c31 = c00;
    for (int64_t k = kb; k < ke; ++k) {
      const float* b = B + k * ldb + x;
      const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
      __m256 s = _mm256_broadcast_ss(a + k);
      c00 = _mm256_fmadd_ps(s, b0, c00);
      c01 = _mm256_fmadd_ps(s, b1, c01);
      s = _mm256_broadcast_ss(a + K + k);
      c10 = _mm256_fmadd_ps(s, b0, c10);
      c11 = _mm256_fmadd_ps(s, b1, c11);
      s = _mm256_broadcast_ss(a + 2 * K + k);
      c20 = _mm256_fmadd_ps(s, b0, c20);
      c21 = _mm256_fmadd_ps(s, b1, c21);
      s = _mm256_broadcast_ss(a + 3 * K + k);
      c30 = _mm256_fmadd_ps(s, b0, c30);
      c31 = _mm256_fmadd_ps(s, b1, c31);
    }
    float* c = C + y * ldc + x;
    _mm256_storeu_ps(c, c00);
    _mm256_storeu_ps(c + 8, c01);
    _mm256_storeu_ps(c + ldc, c10);
    _mm256_storeu_ps(c + ldc + 8, c11);
    _mm256_storeu_ps(c + 2 * ldc, c20);
    _mm256_storeu_ps(c + 2 * ldc + 8, c21);
    _mm256_storeu_ps(c + 3 * ldc, c30);
    _mm256_storeu_ps(c + 3 * ldc + 8, c31);
#else
    float acc[4][16] = {};
    for (int64_t k = kb; k < ke; ++k) {
      const float* b = B + k * ldb + x;
      for (int r = 0; r < 4; ++r)
        for (int j = 0; j < 16; ++j) acc[r][j] = std::fmaf(a[r * K + k], b[j], acc[r][j]);
    }
    for (int r = 0; r < 4; ++r)
      for (int j = 0; j < 16; ++j) C[(y + r) * ldc + x + j] = acc[r][j];
#endif
  });
}

bool all_finite(const float* p, int64_t n) {
  bool ok = true;
#pragma omp simd reduction(& : ok)
  for (int64_t i = 0; i < n; ++i) ok &= (p[i] - p[i] == 0.f);
  return ok;
}

// Everything of a blur that depends only on its sizes and filter: the folded matrices,
// Kx with its rows padded to Wp columns, Ky transposed with its rows padded to Hp.
struct BlurPlan {
  int64_t H = 0, W = 0, Hp = 0, Wp = 0;
  double sigma = 0, truncate = 0;
  Folded fx, fy;
  std::vector<float> kx, kyt;
  std::vector<int64_t> all_lo, all_hi;  // "every row / column": no term skipped
  // Even H and W: the halved products (see halves()). Pass 1 over columns: P1, M1 [hw, hwp]
  // with the column range of each row; pass 2 over rows: P2, M2 transposed [hhp, hh] with
  // the row range of each column. Scratch of both passes, padding kept zero.
  bool halved = false;
  int64_t hw = 0, hwp = 0, hh = 0, hhp = 0;
  std::vector<float> p1, m1, p2t, m2t;
  std::vector<int64_t> p1lo, p1hi, m1lo, m1hi, p2lo, p2hi, m2lo, m2hi;
  std::vector<float> e1, o1, a1, b1, t, e2, o2, a2, b2;
};

// The folded matrix k of a mirrored border is centrosymmetric: k[n-1-i][n-1-x] = k[i][x]
// (reflect(n-1-z) = n-1-reflect(z), the weights are even). For even n and h = n/2 a row
// product t = s k then splits into two products of half the size: with e_i = s_i +
// s_{n-1-i}, o_i = s_i - s_{n-1-i} (i < h), P[i][x] = (k[i][x] + k[i][n-1-x]) / 2 and
// M[i][x] = (k[i][x] - k[i][n-1-x]) / 2 (x < h),
//   t_x = sum_i e_i P[i][x] + o_i M[i][x],   t_{n-1-x} = sum_i e_i P[i][x] - o_i M[i][x].
// half(k, n, sign) is P (sign +1) or M (sign -1) as [h, ld] floats (columns past h zero),
// with the range [lo[i], hi[i]] of its nonzero columns in each row i.
void half_matrix(const std::vector<double>& k, int64_t n, double sign, int64_t ld,
                 std::vector<float>& m, std::vector<int64_t>& lo, std::vector<int64_t>& hi) {
  const int64_t h = n / 2;
  m.assign(static_cast<size_t>(h * ld), 0.f);
  lo.assign(static_cast<size_t>(h), h);
  hi.assign(static_cast<size_t>(h), -1);
  for (int64_t i = 0; i < h; ++i)
    for (int64_t x = 0; x < h; ++x) {
      const float v = static_cast<float>(0.5 * (k[i * n + x] + sign * k[i * n + n - 1 - x]));
      m[i * ld + x] = v;
      if (v != 0.f) {
        if (x < lo[i]) lo[i] = x;
        hi[i] = x;
      }
    }
}

// [rows, cols] row major -> [cols_p, rows] (rows past cols zero).
std::vector<float> transposed(const std::vector<float>& m, int64_t rows, int64_t cols,
                              int64_t ld, int64_t cols_p) {
  std::vector<float> t(static_cast<size_t>(cols_p * rows), 0.f);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t x = 0; x < cols; ++x) t[x * rows + i] = m[i * ld + x];
  return t;
}

BlurPlan blur_plan(int64_t H, int64_t W, double sigma, double truncate) {
  const int64_t r = static_cast<int64_t>(std::floor(truncate * sigma + 0.5));
  std::vector<double> w(static_cast<size_t>(2 * r + 1));
  double sum = 0;
  for (int64_t k = -r; k <= r; ++k) {
    w[k + r] = std::exp(-0.5 * static_cast<double>(k * k) / (sigma * sigma));
    sum += w[k + r];
  }
  for (double& x : w) x /= sum;
  BlurPlan p;
  p.H = H;
  p.W = W;
  p.sigma = sigma;
  p.truncate = truncate;
  p.Hp = (H + 15) / 16 * 16;
  p.Wp = (W + 15) / 16 * 16;
  p.fx = fold(W, w, r);
  p.fy = fold(H, w, r);
  p.kx.assign(static_cast<size_t>(W * p.Wp), 0.f);
  for (int64_t i = 0; i < W; ++i)
    std::memcpy(p.kx.data() + i * p.Wp, p.fx.k.data() + i * W, static_cast<size_t>(W) * sizeof(float));
  p.kyt.assign(static_cast<size_t>(p.Hp * H), 0.f);
  for (int64_t j = 0; j < H; ++j)
    for (int64_t y = 0; y < H; ++y) p.kyt[y * H + j] = p.fy.k[j * H + y];
  p.all_lo.assign(static_cast<size_t>(std::max(H, W)), 0);
  p.all_hi.assign(static_cast<size_t>(std::max(H, W)), std::max(p.Hp, p.Wp));
  p.halved = H % 2 == 0 && W % 2 == 0;
  if (p.halved) {
    p.hw = W / 2;
    p.hwp = (p.hw + 15) / 16 * 16;
    p.hh = H / 2;
    p.hhp = (p.hh + 3) / 4 * 4;
    const std::vector<double> kx = fold_matrix(W, w, r), ky = fold_matrix(H, w, r);
    half_matrix(kx, W, 1.0, p.hwp, p.p1, p.p1lo, p.p1hi);
    half_matrix(kx, W, -1.0, p.hwp, p.m1, p.m1lo, p.m1hi);
    std::vector<float> py, my;
    half_matrix(ky, H, 1.0, p.hh, py, p.p2lo, p.p2hi);
    half_matrix(ky, H, -1.0, p.hh, my, p.m2lo, p.m2hi);
    p.p2t = transposed(py, p.hh, p.hh, p.hh, p.hhp);
    p.m2t = transposed(my, p.hh, p.hh, p.hh, p.hhp);
    const size_t n1 = static_cast<size_t>(p.Hp * p.hw), q1 = static_cast<size_t>(p.Hp * p.hwp);
    p.e1.assign(n1, 0.f);
    p.o1.assign(n1, 0.f);
    p.a1.assign(q1, 0.f);
    p.b1.assign(q1, 0.f);
    p.t.assign(static_cast<size_t>(H * p.Wp), 0.f);
    p.e2.assign(static_cast<size_t>(p.hh * p.Wp), 0.f);
    p.o2.assign(p.e2.size(), 0.f);
    p.a2.assign(static_cast<size_t>(p.hhp * p.Wp), 0.f);
    p.b2.assign(p.a2.size(), 0.f);
  }
  return p;
}

// The blur of finite src through the halved products (plan.halved); false when an
// intermediate overflowed (the caller then takes the line-by-line passes).
bool blur_halved(BlurPlan& p, const float* src, float* out) {
  const int64_t H = p.H, W = p.W, hw = p.hw, hwp = p.hwp, hh = p.hh, hhp = p.hhp, Wp = p.Wp;
  const int64_t* lo = p.all_lo.data();
  const int64_t* hi = p.all_hi.data();
  // Pass 1 (rows): e, o of every row, then t = e P1 + o M1 | e P1 - o M1 mirrored.
  for (int64_t y = 0; y < H; ++y) {
    const float* s = src + y * W;
    float* e = p.e1.data() + y * hw;
    float* o = p.o1.data() + y * hw;
    for (int64_t i = 0; i < hw; ++i) {
      e[i] = s[i] + s[W - 1 - i];
      o[i] = s[i] - s[W - 1 - i];
    }
  }
  gemm_tiles(p.e1.data(), p.Hp, hw, p.p1.data(), hwp, lo, hi, p.p1lo.data(), p.p1hi.data(), hwp,
             p.a1.data(), hwp);
  gemm_tiles(p.o1.data(), p.Hp, hw, p.m1.data(), hwp, lo, hi, p.m1lo.data(), p.m1hi.data(), hwp,
             p.b1.data(), hwp);
  for (int64_t y = 0; y < H; ++y) {
    const float* a = p.a1.data() + y * hwp;
    const float* b = p.b1.data() + y * hwp;
    float* t = p.t.data() + y * Wp;
    for (int64_t x = 0; x < hw; ++x) {
      t[x] = a[x] + b[x];
      t[W - 1 - x] = a[x] - b[x];
    }
  }
  if (!all_finite(p.t.data(), H * Wp)) return false;
  // Pass 2 (columns): the same on rows, out = P2^T e + M2^T o | mirrored.
  for (int64_t j = 0; j < hh; ++j) {
    const float* t0 = p.t.data() + j * Wp;
    const float* t1 = p.t.data() + (H - 1 - j) * Wp;
    float* e = p.e2.data() + j * Wp;
    float* o = p.o2.data() + j * Wp;
    for (int64_t x = 0; x < W; ++x) {
      e[x] = t0[x] + t1[x];
      o[x] = t0[x] - t1[x];
    }
  }
  gemm_tiles(p.p2t.data(), hhp, hh, p.e2.data(), Wp, p.p2lo.data(), p.p2hi.data(), lo, hi, Wp,
             p.a2.data(), Wp);
  gemm_tiles(p.m2t.data(), hhp, hh, p.o2.data(), Wp, p.m2lo.data(), p.m2hi.data(), lo, hi, Wp,
             p.b2.data(), Wp);
  for (int64_t y = 0; y < hh; ++y) {
    const float* a = p.a2.data() + y * Wp;
    const float* b = p.b2.data() + y * Wp;
    float* o0 = out + y * W;
    float* o1 = out + (H - 1 - y) * W;
    for (int64_t x = 0; x < W; ++x) {
      o0[x] = a[x] + b[x];
      o1[x] = a[x] - b[x];
    }
  }
  return true;
}

}  // namespace
}  // namespace spinekit

extern "C" int spinekit_gaussian_blur_cpu(const float* src, int64_t H, int64_t W, double sigma,
                                          double truncate, float* out) {
  if (!src || !out || H <= 0 || W <= 0 || H > 4096 || W > 4096 || !(sigma > 0) || !(truncate > 0) ||
      !std::isfinite(sigma * truncate) || sigma * truncate > 1e7)
    return SPINEKIT_WARP_BAD_ARGUMENT;
  // The folded filters depend only on (H, W, sigma, truncate): kept per thread, as the
  // elastic transform blurs fields of one size with one sigma, sample after sample.
  thread_local BlurPlan plan;
  if (plan.H != H || plan.W != W || plan.sigma != sigma || plan.truncate != truncate)
    plan = blur_plan(H, W, sigma, truncate);
  const Folded& fx = plan.fx;
  const Folded& fy = plan.fy;
  const int64_t Hp = plan.Hp, Wp = plan.Wp;
  // Both passes are matrix products with the folded filter matrices, T = S Kx and
  // O = Ky^T T, in register tiles (gemm_tiles) on zero-padded copies: rows to a multiple
  // of 4, columns to a multiple of 16. Every output is one thread's fused multiply-add
  // chain over the inputs in increasing order, so the result does not depend on the
  // thread count. Skipped (zero) terms would change nothing for finite values; a
  // non-finite input takes the line-by-line passes below, which skip exactly the terms
  // outside each window, so that a NaN spreads only as far as its window.
  if (plan.halved && all_finite(src, H * W) && blur_halved(plan, src, out)) return SPINEKIT_OK;
  if (!plan.halved && all_finite(src, H * W)) {
    std::vector<float> s(static_cast<size_t>(Hp * W), 0.f), o(static_cast<size_t>(Hp * Wp));
    std::memcpy(s.data(), src, static_cast<size_t>(H * W) * sizeof(float));
    const std::vector<int64_t>& all_lo = plan.all_lo;
    const std::vector<int64_t>& all_hi = plan.all_hi;
    // T: the product over the Hp rows of S; its first H rows enter the second pass.
    std::vector<float> tp(static_cast<size_t>(Hp * Wp));
    gemm_tiles(s.data(), Hp, W, plan.kx.data(), Wp, all_lo.data(), all_hi.data(), fx.lo.data(),
               fx.hi.data(), Wp, tp.data(), Wp);
    if (all_finite(tp.data(), H * Wp)) {
      gemm_tiles(plan.kyt.data(), Hp, H, tp.data(), Wp, fy.lo.data(), fy.hi.data(), all_lo.data(),
                 all_hi.data(), Wp, o.data(), Wp);
      for (int64_t y = 0; y < H; ++y)
        std::memcpy(out + y * W, o.data() + y * Wp, static_cast<size_t>(W) * sizeof(float));
      return SPINEKIT_OK;
    }
  }
  std::vector<float> tmp(static_cast<size_t>(H * W));
  parallel_for(H, [&](int64_t y) {
    const float* s = src + y * W;
    float* t = tmp.data() + y * W;
    for (int64_t x = 0; x < W; ++x) t[x] = 0.f;
    for (int64_t i = 0; i < W; ++i) {
      const float a = s[i];
      const float* k = fx.k.data() + i * W;
      for (int64_t x = fx.lo[i]; x <= fx.hi[i]; ++x) t[x] = std::fmaf(a, k[x], t[x]);
    }
  });
  parallel_for(H, [&](int64_t y) {
    float* o = out + y * W;
    for (int64_t x = 0; x < W; ++x) o[x] = 0.f;
    for (int64_t j = 0; j < H; ++j) {
      if (y < fy.lo[j] || y > fy.hi[j]) continue;
      const float k = fy.k[j * H + y];
      const float* t = tmp.data() + j * W;
      for (int64_t x = 0; x < W; ++x) o[x] = std::fmaf(k, t[x], o[x]);
    }
  });
  return SPINEKIT_OK;
}
