// Gaussian target rendering on the CPU: the 2D/3D Gaussian is separable, so a
// row is the outer product of three 1D tables (one exp per axis sample, not
// per voxel).
#include "spinekit/gaussian.h"

#include <algorithm>

#include "cpu/gaussian.h"
#include "cpu/parallel.h"

using namespace spinekit;

extern "C" int spinekit_gaussian_render_cpu(const float* points, int64_t rows, int64_t D,
                                            int64_t H, int64_t W, int ndim, float sigma,
                                            int normalize, float* out) {
  const int64_t S = D * H * W;
  parallel_for(rows, [&](int64_t r) {
    GaussPoint g;
    g.build(points + r * ndim, ndim, D, H, W, sigma, normalize != 0);
    float* o = out + r * S;
    if (!g.present) {
      std::fill(o, o + S, 0.0f);
      return;
    }
    for (int64_t d = 0; d < D; ++d) {
      const float zd = ndim == 3 ? g.z.val[d] : 1.0f;
      for (int64_t h = 0; h < H; ++h) {
        const float yz = zd * g.y.val[h];
        float* ol = o + (d * H + h) * W;
        const float* gx = g.x.val.data();
#pragma omp simd
        for (int64_t w = 0; w < W; ++w) ol[w] = gx[w] * yz;
      }
    }
  });
  return SPINEKIT_OK;
}
