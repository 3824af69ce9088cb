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

// Offset of the nearest source pixel, or -1 (outside, constant border).
inline int64_t nearest_offset(double x, double y, int64_t H, int64_t W, int border) {
  if (!usable(x) || !usable(y)) return -1;
  double xr = std::floor(x + 0.5), yr = std::floor(y + 0.5);
  if (border == SPINEKIT_BORDER_REPLICATE) {
    xr = xr < 0 ? 0 : (xr > W - 1 ? static_cast<double>(W - 1) : xr);
    yr = yr < 0 ? 0 : (yr > H - 1 ? static_cast<double>(H - 1) : yr);
  } else if (xr < 0 || xr > W - 1 || yr < 0 || yr > H - 1) {
    return -1;
  }
  return static_cast<int64_t>(yr) * W + static_cast<int64_t>(xr);
}

bool bad_sizes(int64_t C, int64_t H, int64_t W, int64_t Ho, int64_t Wo, int border) {
  return C <= 0 || H <= 0 || W <= 0 || Ho <= 0 || Wo <= 0 ||
         (border != SPINEKIT_BORDER_CONSTANT && border != SPINEKIT_BORDER_REPLICATE);
}

bool bad_elem(int e) { return e != 1 && e != 2 && e != 4 && e != 8; }

// Bilinear warp; coord(u, v, &x, &y) gives the source coordinate of output (u, v).
template <typename Coord>
void bilinear_rows(const float* src, int64_t C, int64_t H, int64_t W, int64_t Ho, int64_t Wo,
                   int border, float* out, Coord coord) {
  const int64_t plane = H * W, oplane = Ho * Wo;
  parallel_for(Ho, [&](int64_t v) {
    std::vector<Tap> taps(static_cast<size_t>(Wo));
    for (int64_t u = 0; u < Wo; ++u) {
      double x, y;
      coord(u, v, &x, &y);
      taps[u] = bilinear_tap(x, y, H, W, border);
    }
    for (int64_t c = 0; c < C; ++c) {
      const float* s = src + c * plane;
      float* o = out + c * oplane + v * Wo;
      for (int64_t u = 0; u < Wo; ++u) {
        const Tap& t = taps[u];
        float acc[4];
        for (int k = 0; k < 4; ++k) acc[k] = t.o[k] < 0 ? 0.f : s[t.o[k]];
        // Same association as the header formula: rows first, then columns.
        o[u] = t.w[0] * acc[0] + t.w[1] * acc[1] + (t.w[2] * acc[2] + t.w[3] * acc[3]);
      }
    }
  });
}

template <typename Coord>
void nearest_rows(const void* src, int elem, int64_t H, int64_t W, int64_t Ho, int64_t Wo,
                  int border, void* out, Coord coord) {
  const char* s = static_cast<const char*>(src);
  char* o = static_cast<char*>(out);
  parallel_for(Ho, [&](int64_t v) {
    for (int64_t u = 0; u < Wo; ++u) {
      double x, y;
      coord(u, v, &x, &y);
      const int64_t off = nearest_offset(x, y, H, W, border);
      char* dst = o + (v * Wo + u) * elem;
      if (off < 0)
        std::memset(dst, 0, static_cast<size_t>(elem));
      else
        std::memcpy(dst, s + off * elem, static_cast<size_t>(elem));
    }
  });
}

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
  bilinear_rows(src, C, H, W, Ho, Wo, border, out, [&](int64_t u, int64_t v, double* x, double* y) {
    *x = map_x[v * Wo + u];
    *y = map_y[v * Wo + u];
  });
  return SPINEKIT_OK;
}

extern "C" int spinekit_remap_nearest_cpu(const void* src, int elem_size, int64_t H, int64_t W,
                                          const float* map_x, const float* map_y, int64_t Ho,
                                          int64_t Wo, int border, void* out) {
  if (!src || !map_x || !map_y || !out || bad_elem(elem_size) ||
      bad_sizes(1, H, W, Ho, Wo, border))
    return SPINEKIT_WARP_BAD_ARGUMENT;
  nearest_rows(src, elem_size, H, W, Ho, Wo, border, out,
               [&](int64_t u, int64_t v, double* x, double* y) {
                 *x = map_x[v * Wo + u];
                 *y = map_y[v * Wo + u];
               });
  return SPINEKIT_OK;
}

extern "C" int spinekit_warp_affine_bilinear_cpu(const float* src, int64_t C, int64_t H,
                                                 int64_t W, const double* m, int64_t Ho,
                                                 int64_t Wo, int border, float* out) {
  if (!src || !m || !out || bad_sizes(C, H, W, Ho, Wo, border)) return SPINEKIT_WARP_BAD_ARGUMENT;
  const double a = m[0], b = m[1], c = m[2], d = m[3], e = m[4], f = m[5];
  bilinear_rows(src, C, H, W, Ho, Wo, border, out, [=](int64_t u, int64_t v, double* x, double* y) {
    *x = a * static_cast<double>(u) + (b * static_cast<double>(v) + c);
    *y = d * static_cast<double>(u) + (e * static_cast<double>(v) + f);
  });
  return SPINEKIT_OK;
}

extern "C" int spinekit_warp_affine_nearest_cpu(const void* src, int elem_size, int64_t H,
                                                int64_t W, const double* m, int64_t Ho,
                                                int64_t Wo, int border, void* out) {
  if (!src || !m || !out || bad_elem(elem_size) || bad_sizes(1, H, W, Ho, Wo, border))
    return SPINEKIT_WARP_BAD_ARGUMENT;
  const double a = m[0], b = m[1], c = m[2], d = m[3], e = m[4], f = m[5];
  nearest_rows(src, elem_size, H, W, Ho, Wo, border, out,
               [=](int64_t u, int64_t v, double* x, double* y) {
                 *x = a * static_cast<double>(u) + (b * static_cast<double>(v) + c);
                 *y = d * static_cast<double>(u) + (e * static_cast<double>(v) + f);
               });
  return SPINEKIT_OK;
}

extern "C" int spinekit_gaussian_blur_cpu(const float* src, int64_t H, int64_t W, double sigma,
                                          double truncate, float* out) {
  if (!src || !out || H <= 0 || W <= 0 || !(sigma > 0) || !(truncate > 0) ||
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
  // Rows (x direction) into a double buffer, then columns into out.
  std::vector<double> tmp(static_cast<size_t>(H * W));
  parallel_for(H, [&](int64_t y) {
    const float* s = src + y * W;
    double* t = tmp.data() + y * W;
    // The row padded by r mirrored pixels on each side, then a straight convolution.
    std::vector<double> pad(static_cast<size_t>(W + 2 * r));
    for (int64_t i = 0; i < W + 2 * r; ++i) pad[i] = s[reflect(i - r, W)];
    for (int64_t x = 0; x < W; ++x) {
      const double* p = pad.data() + x;
      double acc = 0;
      for (int64_t k = 0; k <= 2 * r; ++k) acc += w[k] * p[k];
      t[x] = acc;
    }
  });
  parallel_for(H, [&](int64_t y) {
    std::vector<double> acc(static_cast<size_t>(W), 0.0);
    for (int64_t k = -r; k <= r; ++k) {
      const double wk = w[k + r];
      const double* t = tmp.data() + reflect(y + k, H) * W;
      for (int64_t x = 0; x < W; ++x) acc[x] += wk * t[x];
    }
    float* o = out + y * W;
    for (int64_t x = 0; x < W; ++x) o[x] = static_cast<float>(acc[x]);
  });
  return SPINEKIT_OK;
}
