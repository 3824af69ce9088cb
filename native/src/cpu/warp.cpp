// Warps on the CPU: one output row per task. Each row first computes, per output
// pixel, the four neighbour offsets and the bilinear weights (or the nearest
// offset) once, then applies them to every channel.
#include "spinekit/warp.h"

#include <cmath>
#include <cstring>
#include <vector>

#include "cpu/parallel.h"

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
  std::vector<int64_t> slow_at;

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
#pragma omp simd
    for (int64_t u = 0; u < Wo; ++u) {
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
    for (int64_t u = 0; u < Wo; ++u) {
      if (!in[u]) {
        r.slow.push_back(bilinear_tap(xs[u], ys[u], H, W, border));
        r.slow_at.push_back(u);
      }
    }
    for (int64_t c = 0; c < C; ++c) {
      const float* s = src + c * plane;
      float* o = out + c * oplane + v * Wo;
      for (int64_t u = 0; u < (fast ? Wo : 0); ++u) {
        const float* p = s + off[u];  // in the source for every pixel (offset 0 when outside)
        o[u] = w0[u] * p[0] + w1[u] * p[1] + (w2[u] * p[W] + w3[u] * p[W + 1]);
      }
      for (size_t k = 0; k < r.slow.size(); ++k) {
        const Tap& t = r.slow[k];
        float acc[4];
        for (int j = 0; j < 4; ++j) acc[j] = t.o[j] < 0 ? 0.f : s[t.o[j]];
        o[r.slow_at[k]] = t.w[0] * acc[0] + t.w[1] * acc[1] + (t.w[2] * acc[2] + t.w[3] * acc[3]);
      }
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
#pragma omp simd
    for (int64_t u = 0; u < Wo; ++u) {
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
    T* row = o + v * Wo;
    for (int64_t u = 0; u < Wo; ++u) row[u] = in[u] ? s[off[u]] : T(0);
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
#pragma omp simd
    for (int64_t u = 0; u < Wo; ++u) {
      x[u] = m[0] * static_cast<double>(u) + vx;
      y[u] = m[3] * static_cast<double>(u) + vy;
    }
  }
};

inline int64_t reflect(int64_t i, int64_t n) {
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

namespace spinekit {
namespace {

// The 1D filter of size n as a matrix with the mirrored border folded in:
// k[i * n + x] = weight of input i in output x, and for every input i the range
// [lo[i], hi[i]] of outputs it reaches (zeros inside that range are harmless).
struct Folded {
  std::vector<float> k;
  std::vector<int64_t> lo, hi;
};

Folded fold(int64_t n, const std::vector<double>& w, int64_t r) {
  std::vector<double> k(static_cast<size_t>(n * n), 0.0);
  for (int64_t x = 0; x < n; ++x)
    for (int64_t j = -r; j <= r; ++j) k[reflect(x + j, n) * n + x] += w[j + r];
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

}  // namespace
}  // namespace spinekit

extern "C" int spinekit_gaussian_blur_cpu(const float* src, int64_t H, int64_t W, double sigma,
                                          double truncate, float* out) {
  if (!src || !out || H <= 0 || W <= 0 || H > 4096 || W > 4096 || !(sigma > 0) || !(truncate > 0) ||
      !std::isfinite(sigma * truncate) || sigma * truncate > 1e7)
    return SPINEKIT_WARP_BAD_ARGUMENT;
  const int64_t r = static_cast<int64_t>(std::floor(truncate * sigma + 0.5));
  std::vector<double> w(static_cast<size_t>(2 * r + 1));
  double sum = 0;
  for (int64_t k = -r; k <= r; ++k) {
    w[k + r] = std::exp(-0.5 * static_cast<double>(k * k) / (sigma * sigma));
    sum += w[k + r];
  }
  for (double& x : w) x /= sum;
  // Each pass is a product with the folded filter matrix, as axpy lines in the order of
  // the inputs: O(n * min(n, 2r + 1)) per line, and vectorised along the line.
  const Folded fx = fold(W, w, r), fy = fold(H, w, r);
  std::vector<float> tmp(static_cast<size_t>(H * W));
  parallel_for(H, [&](int64_t y) {
    const float* s = src + y * W;
    float* t = tmp.data() + y * W;
    for (int64_t x = 0; x < W; ++x) t[x] = 0.f;
    for (int64_t i = 0; i < W; ++i) {
      const float a = s[i];
      const float* k = fx.k.data() + i * W;
#pragma omp simd
      for (int64_t x = fx.lo[i]; x <= fx.hi[i]; ++x) t[x] += a * k[x];
    }
  });
  parallel_for(H, [&](int64_t y) {
    float* o = out + y * W;
    for (int64_t x = 0; x < W; ++x) o[x] = 0.f;
    for (int64_t j = 0; j < H; ++j) {
      if (y < fy.lo[j] || y > fy.hi[j]) continue;
      const float k = fy.k[j * H + y];
      const float* t = tmp.data() + j * W;
#pragma omp simd
      for (int64_t x = 0; x < W; ++x) o[x] += k * t[x];
    }
  });
  return SPINEKIT_OK;
}
