// DSNT on the CPU: one row (n, k) per task; per row a max pass, an exp pass
// that accumulates the sum and the first moments line by line, and (when the
// probabilities are wanted) a scaling pass over the row, which is in cache.
#include "spinekit/dsnt.h"

#include <cmath>
#include <limits>
#include <vector>

#include "cpu/parallel.h"
#include "cpu/row_stats.h"
#include "cpu/vec_math.h"

namespace spinekit {
namespace {

void write_coords(const double m[3], int ndim, int64_t D, int64_t H, int64_t W, float* px,
                  float* norm) {
  const double size[3] = {static_cast<double>(W), static_cast<double>(H),
                          static_cast<double>(D)};
  for (int j = 0; j < ndim; ++j) {
    if (px) px[j] = static_cast<float>(m[j]);
    if (norm) norm[j] = static_cast<float>((2.0 * m[j] + 1.0) / size[j] - 1.0);
  }
}

}  // namespace
}  // namespace spinekit

using namespace spinekit;

extern "C" int spinekit_dsnt_forward_cpu(const float* logits, int64_t rows, int64_t D,
                                         int64_t H, int64_t W, int ndim, float* probs,
                                         float* coords_px, float* coords_norm, int64_t* info) {
  const int64_t S = D * H * W;
  const int32_t W32 = static_cast<int32_t>(W);  // int32 index: AVX2 converts it to float
  std::vector<char> bad(static_cast<size_t>(rows), 0);
  parallel_for(rows, [&](int64_t r) {
    const float* x = logits + r * S;
    float* p = probs ? probs + r * S : nullptr;
    RowMax rm = row_max(x, S);
    if (!rm.finite()) {
      bad[r] = 1;
      const float nan = std::numeric_limits<float>::quiet_NaN();
      if (p)
        for (int64_t s = 0; s < S; ++s) p[s] = nan;
      for (int j = 0; j < ndim; ++j) {
        if (coords_px) coords_px[r * ndim + j] = nan;
        if (coords_norm) coords_norm[r * ndim + j] = nan;
      }
      return;
    }
    // exp(x - max), summed per line; moments from the line sums.
    const float mx = rm.max;
    double sum = 0, mom[3] = {0, 0, 0};
    for (int64_t line = 0; line < D * H; ++line) {
      const float* xl = x + line * W;
      float ls = 0, lx = 0;
      if (p) {
        float* pl = p + line * W;
#pragma omp simd reduction(+ : ls, lx)
        for (int32_t w = 0; w < W32; ++w) {
          float e = vexp(xl[w] - mx);
          pl[w] = e;
          ls += e;
          lx += e * static_cast<float>(w);
        }
      } else {
#pragma omp simd reduction(+ : ls, lx)
        for (int32_t w = 0; w < W32; ++w) {
          float e = vexp(xl[w] - mx);
          ls += e;
          lx += e * static_cast<float>(w);
        }
      }
      sum += ls;
      mom[0] += lx;
      mom[1] += static_cast<double>(ls) * static_cast<double>(line % H);
      mom[2] += static_cast<double>(ls) * static_cast<double>(line / H);
    }
    const double inv = 1.0 / sum;
    for (double& m : mom) m *= inv;
    write_coords(mom, ndim, D, H, W, coords_px ? coords_px + r * ndim : nullptr,
                 coords_norm ? coords_norm + r * ndim : nullptr);
    if (p) {
      const float finv = static_cast<float>(inv);
#pragma omp simd
      for (int64_t s = 0; s < S; ++s) p[s] *= finv;
    }
  });
  for (int64_t r = 0; r < rows; ++r) {
    if (bad[r]) {
      if (info) *info = r;
      return SPINEKIT_NONFINITE_HEAT;
    }
  }
  return SPINEKIT_OK;
}

extern "C" int spinekit_dsnt_backward_cpu(const float* probs, const float* coords_px,
                                          const float* grad_px, const float* grad_norm,
                                          const float* grad_probs, int64_t rows, int64_t D,
                                          int64_t H, int64_t W, int ndim, float* grad_logits) {
  const int64_t S = D * H * W;
  const int32_t W32 = static_cast<int32_t>(W);  // int32 index: AVX2 converts it to float
  const float size[3] = {static_cast<float>(W), static_cast<float>(H), static_cast<float>(D)};
  parallel_for(rows, [&](int64_t r) {
    const float* p = probs + r * S;
    const float* gp = grad_probs ? grad_probs + r * S : nullptr;
    float* gl = grad_logits + r * S;
    float g[3] = {0, 0, 0};
    for (int j = 0; j < ndim; ++j) {
      if (grad_px) g[j] += grad_px[r * ndim + j];
      if (grad_norm) g[j] += grad_norm[r * ndim + j] * 2.0f / size[j];
    }
    // dot = sum_t p_t u_t = g . coords + sum_t p_t gp_t
    double dot = 0;
    for (int j = 0; j < ndim; ++j) dot += static_cast<double>(g[j]) * coords_px[r * ndim + j];
    if (gp) {
      float acc = 0;
#pragma omp simd reduction(+ : acc)
      for (int64_t s = 0; s < S; ++s) acc += p[s] * gp[s];
      dot += acc;
    }
    for (int64_t line = 0; line < D * H; ++line) {
      // u_s - dot = g_x * w + (g_y * h + g_z * d - dot) [+ gp_s]
      const float base = static_cast<float>(g[1] * static_cast<double>(line % H) +
                                            g[2] * static_cast<double>(line / H) - dot);
      const float gx = g[0];
      const float* pl = p + line * W;
      float* ol = gl + line * W;
      if (gp) {
        const float* gpl = gp + line * W;
#pragma omp simd
        for (int32_t w = 0; w < W32; ++w)
          ol[w] = pl[w] * (gx * static_cast<float>(w) + base + gpl[w]);
      } else {
#pragma omp simd
        for (int32_t w = 0; w < W32; ++w) ol[w] = pl[w] * (gx * static_cast<float>(w) + base);
      }
    }
  });
  return SPINEKIT_OK;
}
