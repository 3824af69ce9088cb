// Tests of the warp kernels (spinekit/warp.h) against naive double-precision
// references written from the header text.
//
// Tolerance: bilinear outputs |a - e| <= 2e-6 for source values in [0, 1] (float
// weights and sums against a double reference); nearest outputs and masks exactly;
// the Gaussian blur |a - e| <= 1e-6 against a direct 2D sum with the same mirrored
// border. Threads: 1, 2 and 3 threads must give bitwise identical outputs.
//
// Output: one line per check, "PASS name" or "FAIL name: detail", then
// "N passed, M failed". Exit status 1 when any check failed.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "spinekit/common.h"
#include "spinekit/warp.h"

namespace {

int g_pass = 0, g_fail = 0;

void check(bool ok, const std::string& name, const std::string& detail = "") {
  if (ok) {
    ++g_pass;
    std::printf("PASS %s\n", name.c_str());
  } else {
    ++g_fail;
    std::printf("FAIL %s: %s\n", name.c_str(), detail.c_str());
  }
}

const float kNaNF = std::numeric_limits<float>::quiet_NaN();

double ref_pixel(const std::vector<float>& s, int64_t H, int64_t W, int64_t xi, int64_t yi,
                 int border) {
  if (border == SPINEKIT_BORDER_REPLICATE) {
    xi = std::min<int64_t>(std::max<int64_t>(xi, 0), W - 1);
    yi = std::min<int64_t>(std::max<int64_t>(yi, 0), H - 1);
  } else if (xi < 0 || xi >= W || yi < 0 || yi >= H) {
    return 0.0;
  }
  return s[yi * W + xi];
}

// Header formula in double for one channel plane starting at s[0].
double ref_bilinear(const std::vector<float>& s, int64_t H, int64_t W, double x, double y,
                    int border) {
  if (!std::isfinite(x) || !std::isfinite(y)) return 0.0;
  const double xf = std::floor(x), yf = std::floor(y);
  const double fx = x - xf, fy = y - yf;
  // Far outside, any index beyond the edge reads the same (0, or the edge pixel).
  const int64_t x0 = static_cast<int64_t>(std::min(std::max(xf, -2.0), W + 1.0));
  const int64_t y0 = static_cast<int64_t>(std::min(std::max(yf, -2.0), H + 1.0));
  return (1 - fy) * ((1 - fx) * ref_pixel(s, H, W, x0, y0, border) +
                     fx * ref_pixel(s, H, W, x0 + 1, y0, border)) +
         fy * ((1 - fx) * ref_pixel(s, H, W, x0, y0 + 1, border) +
               fx * ref_pixel(s, H, W, x0 + 1, y0 + 1, border));
}

int32_t ref_nearest(const std::vector<int32_t>& s, int64_t H, int64_t W, double x, double y,
                    int border) {
  if (!std::isfinite(x) || !std::isfinite(y)) return 0;
  int64_t xi = static_cast<int64_t>(std::min(std::max(std::floor(x + 0.5), -1.0), W + 0.0));
  int64_t yi = static_cast<int64_t>(std::min(std::max(std::floor(y + 0.5), -1.0), H + 0.0));
  if (border == SPINEKIT_BORDER_REPLICATE) {
    xi = std::min<int64_t>(std::max<int64_t>(xi, 0), W - 1);
    yi = std::min<int64_t>(std::max<int64_t>(yi, 0), H - 1);
  } else if (xi < 0 || xi >= W || yi < 0 || yi >= H) {
    return 0;
  }
  return s[yi * W + xi];
}

std::vector<float> plane(const std::vector<float>& img, int64_t c, int64_t H, int64_t W) {
  return std::vector<float>(img.begin() + c * H * W, img.begin() + (c + 1) * H * W);
}

// Runs fn on 1, 2 and 3 threads and checks the outputs are bitwise identical.
template <typename T, typename Fn>
bool same_on_threads(Fn fn) {
  std::vector<T> first;
  bool same = true;
  for (int t = 1; t <= 3; ++t) {
    spinekit_set_num_threads(t);
    std::vector<T> out = fn();
    if (t == 1)
      first = out;
    else
      same = same && std::memcmp(first.data(), out.data(), out.size() * sizeof(T)) == 0;
  }
  spinekit_set_num_threads(0);
  return same;
}

void test_remap(int64_t C, int64_t H, int64_t W, int64_t Ho, int64_t Wo, int border,
                unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> unit(0.f, 1.f);
  std::uniform_real_distribution<float> coord(-3.f, static_cast<float>(std::max(H, W)) + 2.f);
  std::vector<float> img(static_cast<size_t>(C * H * W));
  for (float& v : img) v = unit(rng);
  std::vector<int32_t> mask(static_cast<size_t>(H * W));
  for (int32_t& v : mask) v = static_cast<int32_t>(rng() % 7);
  std::vector<float> mx(static_cast<size_t>(Ho * Wo)), my(mx.size());
  for (size_t i = 0; i < mx.size(); ++i) {
    mx[i] = coord(rng);
    my[i] = coord(rng);
  }
  mx[0] = kNaNF;                               // NaN coordinate -> 0
  if (mx.size() > 1) mx[1] = 1e30f;            // far outside
  if (mx.size() > 2) { mx[2] = 0.5f; my[2] = 0.f; }  // tie: takes the higher centre
  const std::string name = "remap C=" + std::to_string(C) + " " + std::to_string(H) + "x" +
                           std::to_string(W) + "->" + std::to_string(Ho) + "x" +
                           std::to_string(Wo) + (border ? " replicate" : " constant");
  auto run_img = [&] {
    std::vector<float> out(static_cast<size_t>(C * Ho * Wo), 7777.f);
    int rc = spinekit_remap_bilinear_cpu(img.data(), C, H, W, mx.data(), my.data(), Ho, Wo,
                                         border, out.data());
    if (rc != SPINEKIT_OK) out.assign(out.size(), kNaNF);
    return out;
  };
  auto run_mask = [&] {
    std::vector<int32_t> out(static_cast<size_t>(Ho * Wo), -99);
    int rc = spinekit_remap_nearest_cpu(mask.data(), 4, H, W, mx.data(), my.data(), Ho, Wo,
                                        border, out.data());
    if (rc != SPINEKIT_OK) out.assign(out.size(), -1);
    return out;
  };
  std::vector<float> out = run_img();
  double worst = 0;
  for (int64_t c = 0; c < C; ++c) {
    std::vector<float> s = plane(img, c, H, W);
    for (int64_t i = 0; i < Ho * Wo; ++i) {
      double e = ref_bilinear(s, H, W, mx[i], my[i], border);
      double d = std::fabs(out[c * Ho * Wo + i] - e);
      if (!(d <= worst)) worst = std::isnan(d) ? 1e9 : d;
    }
  }
  check(worst <= 2e-6, name + " bilinear", "max error " + std::to_string(worst));
  std::vector<int32_t> mo = run_mask();
  int64_t bad = 0;
  for (int64_t i = 0; i < Ho * Wo; ++i)
    if (mo[i] != ref_nearest(mask, H, W, mx[i], my[i], border)) ++bad;
  check(bad == 0, name + " nearest", std::to_string(bad) + " pixels differ");
  if (mx.size() > 2 && H > 0 && W > 1)
    check(mo[2] == mask[1], name + " nearest tie at x = 0.5 takes column 1");
  check(same_on_threads<float>(run_img) && same_on_threads<int32_t>(run_mask),
        name + " same on 1, 2, 3 threads");
}

void test_affine(int64_t C, int64_t H, int64_t W, int64_t Ho, int64_t Wo, int border,
                 double angle_deg, double scale, double tx, double ty) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> unit(0.f, 1.f);
  std::vector<float> img(static_cast<size_t>(C * H * W));
  for (float& v : img) v = unit(rng);
  std::vector<int32_t> mask(static_cast<size_t>(H * W));
  for (int32_t& v : mask) v = static_cast<int32_t>(rng() % 5);
  const double a = angle_deg * M_PI / 180.0;
  const double m[6] = {std::cos(a) / scale, std::sin(a) / scale, tx,
                       -std::sin(a) / scale, std::cos(a) / scale, ty};
  const std::string name = "affine " + std::to_string(H) + "x" + std::to_string(W) + "->" +
                           std::to_string(Ho) + "x" + std::to_string(Wo) + " angle " +
                           std::to_string(angle_deg) + (border ? " replicate" : " constant");
  auto run_img = [&] {
    std::vector<float> out(static_cast<size_t>(C * Ho * Wo), 7777.f);
    if (spinekit_warp_affine_bilinear_cpu(img.data(), C, H, W, m, Ho, Wo, border, out.data()))
      out.assign(out.size(), kNaNF);
    return out;
  };
  auto run_mask = [&] {
    std::vector<int32_t> out(static_cast<size_t>(Ho * Wo), -99);
    if (spinekit_warp_affine_nearest_cpu(mask.data(), 4, H, W, m, Ho, Wo, border, out.data()))
      out.assign(out.size(), -1);
    return out;
  };
  std::vector<float> out = run_img();
  std::vector<int32_t> mo = run_mask();
  double worst = 0;
  int64_t bad = 0;
  for (int64_t v = 0; v < Ho; ++v) {
    for (int64_t u = 0; u < Wo; ++u) {
      const double x = m[0] * u + (m[1] * v + m[2]), y = m[3] * u + (m[4] * v + m[5]);
      for (int64_t c = 0; c < C; ++c) {
        double d = std::fabs(out[(c * Ho + v) * Wo + u] -
                             ref_bilinear(plane(img, c, H, W), H, W, x, y, border));
        if (!(d <= worst)) worst = std::isnan(d) ? 1e9 : d;
      }
      if (mo[v * Wo + u] != ref_nearest(mask, H, W, x, y, border)) ++bad;
    }
  }
  check(worst <= 2e-6, name + " bilinear", "max error " + std::to_string(worst));
  check(bad == 0, name + " nearest", std::to_string(bad) + " pixels differ");
  check(same_on_threads<float>(run_img) && same_on_threads<int32_t>(run_mask),
        name + " same on 1, 2, 3 threads");
}

void test_mask_elem_sizes() {
  const int64_t H = 5, W = 6;
  const double m[6] = {-1, 0, W - 1, 0, 1, 0};  // horizontal flip
  std::vector<uint8_t> m8(H * W);
  std::vector<int16_t> m16(H * W);
  std::vector<int64_t> m64(H * W);
  for (int64_t i = 0; i < H * W; ++i) {
    m8[i] = static_cast<uint8_t>(i * 7);
    m16[i] = static_cast<int16_t>(-i * 300);
    m64[i] = (int64_t{1} << 40) + i;
  }
  std::vector<uint8_t> o8(H * W);
  std::vector<int16_t> o16(H * W);
  std::vector<int64_t> o64(H * W);
  bool ok = spinekit_warp_affine_nearest_cpu(m8.data(), 1, H, W, m, H, W, 0, o8.data()) == 0 &&
            spinekit_warp_affine_nearest_cpu(m16.data(), 2, H, W, m, H, W, 0, o16.data()) == 0 &&
            spinekit_warp_affine_nearest_cpu(m64.data(), 8, H, W, m, H, W, 0, o64.data()) == 0;
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) {
      const int64_t s = y * W + (W - 1 - x), d = y * W + x;
      ok = ok && o8[d] == m8[s] && o16[d] == m16[s] && o64[d] == m64[s];
    }
  check(ok, "nearest flip of uint8, int16, int64 masks is exact");
}

void test_nan_pixels() {
  const int64_t H = 6, W = 6;
  std::vector<float> img(H * W, 1.f);
  img[2 * W + 3] = kNaNF;
  const double shift[6] = {1, 0, 0.25, 0, 1, 0};  // x + 0.25
  std::vector<float> out(H * W);
  spinekit_warp_affine_bilinear_cpu(img.data(), 1, H, W, shift, H, W, 0, out.data());
  // Footprints holding (3, 2): x0 = 2 or 3 and y0 = 1 or 2 (row 1 reads row 2 with
  // weight 0, which still propagates the NaN, as the header says).
  bool ok = true;
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W - 1; ++x) {
      const bool expect_nan = (y == 1 || y == 2) && (x == 2 || x == 3);
      ok = ok && (std::isnan(out[y * W + x]) == expect_nan);
    }
  check(ok, "NaN pixel propagates to the outputs whose footprint holds it, nowhere else");
}

void test_bad_arguments() {
  float f[4] = {0, 0, 0, 0};
  int32_t i4[4] = {0, 0, 0, 0};
  const double m[6] = {1, 0, 0, 0, 1, 0};
  bool ok = spinekit_remap_bilinear_cpu(f, 1, 0, 2, f, f, 2, 2, 0, f) == SPINEKIT_WARP_BAD_ARGUMENT &&
            spinekit_remap_bilinear_cpu(f, 1, 2, 2, f, f, 2, 2, 7, f) == SPINEKIT_WARP_BAD_ARGUMENT &&
            spinekit_remap_nearest_cpu(i4, 3, 2, 2, f, f, 2, 2, 0, i4) == SPINEKIT_WARP_BAD_ARGUMENT &&
            spinekit_warp_affine_bilinear_cpu(f, 1, 2, 2, nullptr, 2, 2, 0, f) == SPINEKIT_WARP_BAD_ARGUMENT &&
            spinekit_warp_affine_nearest_cpu(i4, 4, 2, 2, m, 0, 2, 0, i4) == SPINEKIT_WARP_BAD_ARGUMENT &&
            spinekit_gaussian_blur_cpu(f, 2, 2, 0.0, 4.0, f) == SPINEKIT_WARP_BAD_ARGUMENT &&
            spinekit_gaussian_blur_cpu(f, 2, 2, std::nan(""), 4.0, f) == SPINEKIT_WARP_BAD_ARGUMENT &&
            spinekit_gaussian_blur_cpu(f, 4097, 1, 1.0, 4.0, f) == SPINEKIT_WARP_BAD_ARGUMENT;
  check(ok, "bad sizes, element size, border, matrix and sigma are refused");
}

int64_t reflect_ref(int64_t i, int64_t n) {
  // Mirror about the edges until inside (d c b a | a b c d | d c b a).
  while (i < 0 || i >= n) i = i < 0 ? -i - 1 : 2 * n - 1 - i;
  return i;
}

// A NaN reaches exactly the outputs whose window holds it (radius 4: columns 3..11 of a
// 3 x 40 field with the NaN at (1, 7)); the others stay finite, in every row.
void test_blur_nan() {
  bool ok = true;
  for (int64_t H : {3, 4}) {  // odd: the direct products; even: the halved ones (fall back)
    std::vector<float> src(H * 40, 0.25f), out(H * 40, 7777.f);
    src[1 * 40 + 7] = kNaNF;
    ok = ok && spinekit_gaussian_blur_cpu(src.data(), H, 40, 1.0, 4.0, out.data()) == SPINEKIT_OK;
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < 40; ++x)
        ok = ok && (std::isnan(out[y * 40 + x]) == (x >= 3 && x <= 11));
  }
  check(ok, "gaussian blur: a NaN spreads over its window only");
}

void test_blur(int64_t H, int64_t W, double sigma, double truncate) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> sym(-1.f, 1.f);
  std::vector<float> src(H * W);
  for (float& v : src) v = sym(rng);
  auto run = [&] {
    std::vector<float> out(H * W, 7777.f);
    if (spinekit_gaussian_blur_cpu(src.data(), H, W, sigma, truncate, out.data()))
      out.assign(out.size(), kNaNF);
    return out;
  };
  std::vector<float> out = run();
  const int64_t r = static_cast<int64_t>(std::floor(truncate * sigma + 0.5));
  std::vector<double> w(2 * r + 1);
  double sum = 0;
  for (int64_t k = -r; k <= r; ++k) sum += (w[k + r] = std::exp(-0.5 * k * k / (sigma * sigma)));
  double worst = 0;
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) {
      double e = 0;
      for (int64_t j = -r; j <= r; ++j)
        for (int64_t i = -r; i <= r; ++i)
          e += w[j + r] * w[i + r] / (sum * sum) * src[reflect_ref(y + j, H) * W + reflect_ref(x + i, W)];
      double d = std::fabs(out[y * W + x] - e);
      if (!(d <= worst)) worst = std::isnan(d) ? 1e9 : d;
    }
  const std::string name = "gaussian blur " + std::to_string(H) + "x" + std::to_string(W) +
                           " sigma " + std::to_string(sigma);
  check(worst <= 1e-6, name, "max error " + std::to_string(worst));
  check(same_on_threads<float>(run), name + " same on 1, 2, 3 threads");
}

// Large sizes against the separable sum in double (the 2D reference above costs (2r+1)^2
// per pixel): rows, then columns, both with the mirrored border.
void test_blur_separable(int64_t H, int64_t W, double sigma, double truncate) {
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> sym(-1.f, 1.f);
  std::vector<float> src(H * W), out(H * W, 7777.f);
  for (float& v : src) v = sym(rng);
  bool ok = spinekit_gaussian_blur_cpu(src.data(), H, W, sigma, truncate, out.data()) == SPINEKIT_OK;
  const int64_t r = static_cast<int64_t>(std::floor(truncate * sigma + 0.5));
  std::vector<double> w(2 * r + 1);
  double sum = 0;
  for (int64_t k = -r; k <= r; ++k) sum += (w[k + r] = std::exp(-0.5 * k * k / (sigma * sigma)));
  for (double& v : w) v /= sum;
  std::vector<double> t(H * W, 0.0);
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x)
      for (int64_t i = -r; i <= r; ++i) t[y * W + x] += w[i + r] * src[y * W + reflect_ref(x + i, W)];
  double worst = 0;
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) {
      double e = 0;
      for (int64_t j = -r; j <= r; ++j) e += w[j + r] * t[reflect_ref(y + j, H) * W + x];
      const double d = std::fabs(out[y * W + x] - e);
      if (!(d <= worst)) worst = std::isnan(d) ? 1e9 : d;
    }
  const std::string name = "gaussian blur " + std::to_string(H) + "x" + std::to_string(W) +
                           " sigma " + std::to_string(sigma) + " (separable reference)";
  check(ok && worst <= 1e-6, name, "max error " + std::to_string(worst));
}

// The elastic maps against the same formula one pixel at a time (volatile steps: no
// contraction into fused multiply-adds), bit for bit.
void test_elastic_maps() {
  const int64_t H = 37, W = 53;
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> d(-3.f, 3.f);
  std::vector<float> dx(H * W), dy(H * W), mx(H * W), my(H * W);
  for (int64_t i = 0; i < H * W; ++i) {
    dx[i] = d(rng);
    dy[i] = d(rng);
  }
  const double m[6] = {0.97, -0.21, 3.25, 0.18, 1.03, -7.5};
  bool ok = spinekit_elastic_maps_cpu(dx.data(), dy.data(), H, W, m, mx.data(), my.data()) ==
            SPINEKIT_OK;
  for (int64_t v = 0; v < H; ++v)
    for (int64_t u = 0; u < W; ++u) {
      const int64_t i = v * W + u;
      volatile float sx = static_cast<float>(u) + dx[i], sy = static_cast<float>(v) + dy[i];
      volatile double a = m[0] * static_cast<double>(sx), b = m[1] * static_cast<double>(sy);
      volatile double ex = a + b;
      ex = ex + m[2];
      volatile double c = m[3] * static_cast<double>(sx), e = m[4] * static_cast<double>(sy);
      volatile double ey = c + e;
      ey = ey + m[5];
      ok = ok && mx[i] == static_cast<float>(ex) && my[i] == static_cast<float>(ey);
    }
  ok = ok && spinekit_elastic_maps_cpu(nullptr, dy.data(), H, W, m, mx.data(), my.data()) ==
                 SPINEKIT_WARP_BAD_ARGUMENT;
  ok = ok && spinekit_elastic_maps_cpu(dx.data(), dy.data(), 0, W, m, mx.data(), my.data()) ==
                 SPINEKIT_WARP_BAD_ARGUMENT;
  check(ok, "elastic maps: the formula bit for bit; bad arguments refused");
}

}  // namespace

int main() {
  test_remap(3, 17, 23, 19, 21, SPINEKIT_BORDER_CONSTANT, 1);
  test_remap(3, 17, 23, 19, 21, SPINEKIT_BORDER_REPLICATE, 2);
  test_remap(1, 1, 1, 4, 5, SPINEKIT_BORDER_CONSTANT, 3);
  test_remap(2, 64, 48, 64, 48, SPINEKIT_BORDER_CONSTANT, 4);
  test_affine(3, 40, 50, 40, 50, SPINEKIT_BORDER_CONSTANT, 10.0, 1.05, 3.2, -2.7);
  test_affine(3, 40, 50, 33, 61, SPINEKIT_BORDER_REPLICATE, -7.0, 0.6, -4.0, 5.5);
  test_affine(1, 9, 7, 9, 7, SPINEKIT_BORDER_CONSTANT, 0.0, 1.0, 0.0, 0.0);
  test_mask_elem_sizes();
  test_nan_pixels();
  test_bad_arguments();
  test_blur(12, 15, 1.5, 4.0);
  test_blur(20, 30, 50.0, 4.0);  // radius 200, far beyond the size
  test_blur(1, 9, 0.8, 4.0);
  test_blur(40, 37, 2.0, 4.0);  // narrow filter: banded ranges
  test_blur(37, 300, 5.0, 4.0);  // columns not a multiple of the 16-wide tiles
  // Even sizes take the halved products (centrosymmetric filter matrices).
  test_blur(40, 36, 2.0, 4.0);  // banded halves
  test_blur(2, 34, 3.0, 4.0);
  test_blur(26, 2, 1.0, 4.0);
  test_blur_separable(320, 320, 50.0, 4.0);  // the elastic transform's fields
  test_blur_separable(96, 250, 12.0, 4.0);
  test_blur_nan();
  test_elastic_maps();
  std::printf("%d passed, %d failed\n", g_pass, g_fail);
  return g_fail ? 1 : 0;
}
