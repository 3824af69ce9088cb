// Separable Gaussian tables shared by the target renderer and the head loss.
#ifndef SPINEKIT_CPU_GAUSSIAN_H
#define SPINEKIT_CPU_GAUSSIAN_H

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "cpu/vec_math.h"

namespace spinekit {

// One axis of a normalised Gaussian: val[i] = exp(-(i - c)^2 / (2 sigma^2)) / sum
// and logv[i] = log(val[i]) computed analytically (finite where val underflows).
struct GaussAxis {
  std::vector<float> val, logv;
  double sum = 0;  // sum before normalisation

  void build(int64_t n, double c, double sigma, bool normalise) {
    val.resize(static_cast<size_t>(n));
    logv.resize(static_cast<size_t>(n));
    const double k = 1.0 / (2.0 * sigma * sigma);
    // Normalised tables are computed relative to the grid point nearest to c, as a
    // softmax would be, so a point far outside the map still gives a distribution.
    double shift = 0;
    if (normalise) {
      double nearest = std::min(std::max(std::round(c), 0.0), static_cast<double>(n - 1));
      shift = (nearest - c) * (nearest - c) * k;
    }
    sum = 0;
    for (int64_t i = 0; i < n; ++i) {
      double d = static_cast<double>(i) - c;
      sum += std::exp(shift - d * d * k);
    }
    const double ls = normalise ? std::log(sum) : 0.0;
    const double inv = normalise ? 1.0 / sum : 1.0;
    for (int64_t i = 0; i < n; ++i) {
      double d = static_cast<double>(i) - c;
      logv[i] = static_cast<float>(shift - d * d * k - ls);
      val[i] = static_cast<float>(std::exp(shift - d * d * k) * inv);
    }
  }
};

// The three axes of one point; z is a single 1 when the map is 2D.
struct GaussPoint {
  GaussAxis x, y, z;
  bool present = false;  // finite point (unnormalised: and a Gaussian that does not vanish)

  void build(const float* pt, int ndim, int64_t D, int64_t H, int64_t W, double sigma,
             bool normalise) {
    present = std::isfinite(pt[0]) && std::isfinite(pt[1]) && (ndim < 3 || std::isfinite(pt[2]));
    if (!present) return;
    x.build(W, pt[0], sigma, normalise);
    y.build(H, pt[1], sigma, normalise);
    if (ndim == 3) {
      z.build(D, pt[2], sigma, normalise);
    } else {
      z.val.assign(1, 1.0f);
      z.logv.assign(1, 0.0f);
      z.sum = 1;
    }
    if (!normalise && x.sum * y.sum * z.sum <= 0) present = false;
  }
};

}  // namespace spinekit
#endif
