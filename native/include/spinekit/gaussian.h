/*
 * Gaussian target heatmaps rendered from points.
 *
 * For row r with point (x, y[, z]) in pixel units:
 *   g[r, s] = exp(-((w - x)^2 + (h - y)^2 [+ (d - z)^2]) / (2 sigma^2))
 * normalize = 0: written as is (peak 1 at an integer point);
 * normalize = 1: divided by its sum over s, so the row is a distribution
 * (computed like a softmax, relative to the nearest grid point, so a point
 * outside the map still gives a distribution, peaked at the border).
 * A point with any non-finite coordinate means "no target": its row is
 * written as zeros.
 * sigma must be > 0.
 */
#ifndef SPINEKIT_GAUSSIAN_H
#define SPINEKIT_GAUSSIAN_H

#include "spinekit/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* points [rows, ndim]; out [rows, D*H*W]. */
int spinekit_gaussian_render_cpu(const float* points, int64_t rows, int64_t D, int64_t H,
                                 int64_t W, int ndim, float sigma, int normalize,
                                 float* out);

int spinekit_gaussian_render_cuda(const float* points, int64_t rows, int64_t D, int64_t H,
                                  int64_t W, int ndim, float sigma, int normalize, float* out,
                                  void* stream);

#ifdef __cplusplus
}
#endif
#endif
