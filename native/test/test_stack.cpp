// Tests of the slice resampling kernels (spinekit/stack.h) against naive
// double-precision references written from the header text.
//
// Source coordinates are computed in float32 as the header (and torch) specify;
// everything after them in double.
//
// Tolerance: a float output a is compared with its double reference e by
//     |a - e| <= 1e-5 * max(|e|, m)
// where m is the largest magnitude the plane's source values (after window)
// can take: 1 with a window, the largest |modality value| of the volume
// without one (the bilinear weights are float, so the error scales with the
// values blended, not with the result). NaN in the reference must be NaN in
// the output. Nearest-neighbour labels and the thread-count check are exact.
//
// Output: "PASS name" / "FAIL name: detail" lines, then "N passed, M failed";
// exit status 1 when any check failed.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "spinekit/common.h"
#include "spinekit/stack.h"

namespace {

int g_passed = 0, g_failed = 0;
const float kSentinel = 7777.0f;
const double kNaN = std::numeric_limits<double>::quiet_NaN();

void report(const std::string& name, bool ok, const std::string& detail = "") {
  if (ok) {
    ++g_passed;
    std::printf("PASS %s\n", name.c_str());
  } else {
    ++g_failed;
    std::printf("FAIL %s: %s\n", name.c_str(), detail.c_str());
  }
}

struct Vol {
  int dtype;
  int64_t S, H, W;
  double slope, intercept;
  std::vector<int16_t> i16;
  std::vector<uint16_t> u16;
  std::vector<uint8_t> u8;
  std::vector<float> f32;

  const void* data() const {
    switch (dtype) {
      case SPINEKIT_DTYPE_INT16: return i16.data();
      case SPINEKIT_DTYPE_UINT16: return u16.data();
      case SPINEKIT_DTYPE_UINT8: return u8.data();
      default: return f32.data();
    }
  }
  // Modality value of voxel i.
  double value(int64_t i) const {
    switch (dtype) {
      case SPINEKIT_DTYPE_INT16: return i16[i] * slope + intercept;
      case SPINEKIT_DTYPE_UINT16: return u16[i] * slope + intercept;
      case SPINEKIT_DTYPE_UINT8: return u8[i] * slope + intercept;
      default: return f32[i];
    }
  }
  int64_t label(int64_t i) const {
    switch (dtype) {
      case SPINEKIT_DTYPE_INT16: return i16[i];
      case SPINEKIT_DTYPE_UINT16: return u16[i];
      default: return u8[i];
    }
  }
};

Vol make_vol(int dtype, int64_t S, int64_t H, int64_t W, std::mt19937& rng, int64_t max_label = 0) {
  Vol v{dtype, S, H, W, 1, 0, {}, {}, {}, {}};
  const int64_t n = S * H * W;
  if (dtype == SPINEKIT_DTYPE_INT16) {
    v.slope = 1.0;
    v.intercept = -1024;
    std::uniform_int_distribution<int> d(max_label ? 0 : -1000, max_label ? max_label : 3000);
    v.i16.resize(n);
    for (auto& x : v.i16) x = static_cast<int16_t>(d(rng));
  } else if (dtype == SPINEKIT_DTYPE_UINT16) {
    v.slope = 0.5;
    v.intercept = -100;
    std::uniform_int_distribution<int> d(0, max_label ? max_label : 60000);
    v.u16.resize(n);
    for (auto& x : v.u16) x = static_cast<uint16_t>(d(rng));
  } else if (dtype == SPINEKIT_DTYPE_UINT8) {
    v.slope = 2;
    v.intercept = 5;
    std::uniform_int_distribution<int> d(0, max_label ? max_label : 255);
    v.u8.resize(n);
    for (auto& x : v.u8) x = static_cast<uint8_t>(d(rng));
  } else {
    std::normal_distribution<float> d(40.f, 300.f);
    v.f32.resize(n);
    for (auto& x : v.f32) x = d(rng);
  }
  return v;
}

struct Crop {
  int64_t y0, x0, ch, cw;
};

struct Win {
  bool on;
  double c, w;
  double apply(double v) const {
    if (!on || std::isnan(v)) return v;
    const double lo = c - w / 2, hi = c + w / 2;
    return (std::min(std::max(v, lo), hi) - lo) / w;
  }
};

// Naive bilinear reference of one plane.
std::vector<double> ref_plane(const Vol& v, int64_t z, const Crop& c, double pad, const Win& win,
                              int64_t oh, int64_t ow) {
  auto at = [&](int64_t cy, int64_t cx) {
    const int64_t y = c.y0 + cy, x = c.x0 + cx;
    if (z < 0 || z >= v.S || y < 0 || y >= v.H || x < 0 || x >= v.W) return win.apply(pad);
    return win.apply(v.value((z * v.H + y) * v.W + x));
  };
  auto tap = [](int64_t d, int64_t out, int64_t in, int64_t& i0, int64_t& i1, double& l) {
    // The source coordinate in float32, as torch computes it (header); the blend in double.
    float s = (static_cast<float>(d) + 0.5f) * (static_cast<float>(in) / static_cast<float>(out)) - 0.5f;
    if (s < 0) s = 0;
    i0 = std::min<int64_t>(static_cast<int64_t>(std::floor(s)), in - 1);
    l = s - i0;
    i1 = l > 0 ? std::min<int64_t>(i0 + 1, in - 1) : i0;
  };
  std::vector<double> r(oh * ow);
  for (int64_t oy = 0; oy < oh; ++oy) {
    int64_t y0, y1;
    double ly;
    tap(oy, oh, c.ch, y0, y1, ly);
    for (int64_t ox = 0; ox < ow; ++ox) {
      int64_t x0, x1;
      double lx;
      tap(ox, ow, c.cw, x0, x1, lx);
      r[oy * ow + ox] = (1 - ly) * ((1 - lx) * at(y0, x0) + lx * at(y0, x1)) +
                        ly * ((1 - lx) * at(y1, x0) + lx * at(y1, x1));
    }
  }
  return r;
}

std::vector<int64_t> stack_z(int64_t S, int64_t k, int64_t stride) {
  std::vector<int64_t> z;
  for (int64_t i = 0; i < S; ++i)
    for (int64_t j = 0; j < 2 * k + 1; ++j)
      z.push_back(std::clamp<int64_t>(i + (j - k) * stride, 0, S - 1));
  return z;
}

double max_abs(const Vol& v) {
  double m = 0;
  for (int64_t i = 0; i < v.S * v.H * v.W; ++i)
    if (!std::isnan(v.value(i))) m = std::max(m, std::fabs(v.value(i)));
  return m;
}

void check_planes(const std::string& name, const Vol& v, const std::vector<int64_t>& z,
                  const Crop& c, double pad, const Win& win, int64_t oh, int64_t ow) {
  const int64_t planes = static_cast<int64_t>(z.size());
  std::vector<float> out(planes * oh * ow, kSentinel);
  int rc = spinekit_resample_planes_cpu(v.data(), v.dtype, v.S, v.H, v.W,
                                        static_cast<float>(v.slope),
                                        static_cast<float>(v.intercept), z.data(), planes, c.y0,
                                        c.x0, c.ch, c.cw, static_cast<float>(pad), win.on ? 1 : 0,
                                        static_cast<float>(win.c), static_cast<float>(win.w), oh,
                                        ow, out.data());
  if (rc != SPINEKIT_OK) {
    report(name, false, "returned " + std::to_string(rc));
    return;
  }
  const double m = win.on ? 1.0 : std::max(max_abs(v), std::fabs(pad));
  double worst = 0;
  std::string detail;
  for (int64_t p = 0; p < planes; ++p) {
    std::vector<double> e = ref_plane(v, z[p], c, pad, win, oh, ow);
    for (int64_t i = 0; i < oh * ow; ++i) {
      const float a = out[p * oh * ow + i];
      if (std::isnan(e[i]) || std::isnan(a)) {
        if (std::isnan(e[i]) != std::isnan(a) && detail.empty())
          detail = "plane " + std::to_string(p) + " pixel " + std::to_string(i) + ": got " +
                   std::to_string(a) + ", expected " + std::to_string(e[i]);
        continue;
      }
      const double err = std::fabs(a - e[i]) / std::max(std::fabs(e[i]), m);
      if (err > worst) worst = err;
      if (err > 1e-5 && detail.empty())
        detail = "plane " + std::to_string(p) + " pixel " + std::to_string(i) + ": got " +
                 std::to_string(a) + ", expected " + std::to_string(e[i]);
    }
  }
  report(name, detail.empty(), detail);
}

template <typename L>
void check_nearest(const std::string& name, const Vol& v, const std::vector<int64_t>& z,
                   const Crop& c, int64_t pad, int out_dtype, int64_t oh, int64_t ow) {
  const int64_t planes = static_cast<int64_t>(z.size());
  std::vector<L> out(planes * oh * ow, static_cast<L>(77));
  int rc = spinekit_resample_planes_nearest_cpu(v.data(), v.dtype, v.S, v.H, v.W, z.data(),
                                                planes, c.y0, c.x0, c.ch, c.cw, pad, out_dtype,
                                                oh, ow, out.data());
  if (rc != SPINEKIT_OK) {
    report(name, false, "returned " + std::to_string(rc));
    return;
  }
  std::string detail;
  for (int64_t p = 0; p < planes && detail.empty(); ++p)
    for (int64_t oy = 0; oy < oh && detail.empty(); ++oy)
      for (int64_t ox = 0; ox < ow; ++ox) {
        const int64_t sy = std::min<int64_t>(
            static_cast<int64_t>(std::floor(oy * (static_cast<double>(c.ch) / oh))), c.ch - 1);
        const int64_t sx = std::min<int64_t>(
            static_cast<int64_t>(std::floor(ox * (static_cast<double>(c.cw) / ow))), c.cw - 1);
        const int64_t y = c.y0 + sy, x = c.x0 + sx;
        const bool inside = z[p] >= 0 && z[p] < v.S && y >= 0 && y < v.H && x >= 0 && x < v.W;
        const L e = static_cast<L>(inside ? v.label((z[p] * v.H + y) * v.W + x) : pad);
        const L a = out[(p * oh + oy) * ow + ox];
        if (a != e) {
          detail = "plane " + std::to_string(p) + " (" + std::to_string(oy) + ", " +
                   std::to_string(ox) + "): got " + std::to_string(a) + ", expected " +
                   std::to_string(e);
          break;
        }
      }
  report(name, detail.empty(), detail);
}

void test_stack(std::mt19937& rng) {
  const int dtypes[] = {SPINEKIT_DTYPE_INT16, SPINEKIT_DTYPE_UINT16, SPINEKIT_DTYPE_FLOAT32,
                        SPINEKIT_DTYPE_UINT8};
  const char* names[] = {"int16", "uint16", "float32", "uint8"};
  for (int d = 0; d < 4; ++d) {
    Vol v = make_vol(dtypes[d], 7, 23, 31, rng);
    const Crop full{0, 0, v.H, v.W};
    for (int64_t k : {0, 1, 2})
      for (int64_t stride : {1, 2}) {
        const std::vector<int64_t> z = stack_z(v.S, k, stride);
        const std::string tag = std::string("stack25d ") + names[d] + " k=" +
                                std::to_string(k) + " stride=" + std::to_string(stride);
        check_planes(tag + " window down 16x20", v, z, full, 0, {true, 40, 400}, 16, 20);
        check_planes(tag + " window up 40x47", v, z, full, 0, {true, 400, 1800}, 40, 47);
        check_planes(tag + " no window 23x31", v, z, full, 0, {false, 0, 0}, 23, 31);
        check_planes(tag + " no window 9x64", v, z, full, 0, {false, 0, 0}, 9, 64);
      }
  }
  Vol one = make_vol(SPINEKIT_DTYPE_INT16, 1, 1, 1, rng);
  check_planes("stack25d 1x1x1 -> 5x3", one, stack_z(1, 1, 1), {0, 0, 1, 1}, 0,
               {true, 40, 400}, 5, 3);
  Vol big = make_vol(SPINEKIT_DTYPE_INT16, 4, 512, 512, rng);
  check_planes("stack25d 4x512x512 -> 320x320 window", big, stack_z(4, 1, 1),
               {0, 0, 512, 512}, 0, {true, 40, 400}, 320, 320);
}

void test_crop(std::mt19937& rng) {
  Vol v = make_vol(SPINEKIT_DTYPE_INT16, 9, 30, 26, rng);
  // Sampled slices inside, outside below and above; boxes inside, over every edge, and
  // wholly outside.
  const std::vector<int64_t> z = {-3, -1, 0, 2, 2, 4, 8, 9, 15};
  const Crop crops[] = {{5, 4, 12, 10}, {-4, -6, 20, 40}, {25, 20, 11, 13}, {40, 50, 6, 7},
                        {-20, -20, 5, 5}, {0, 0, 30, 26}};
  int n = 0;
  for (const Crop& c : crops) {
    const std::string tag = "crop " + std::to_string(n++);
    check_planes(tag + " window pad -1024 24x24", v, z, c, -1024, {true, 400, 1800}, 24, 24);
    check_planes(tag + " no window pad 7 5x19", v, z, c, 7, {false, 0, 0}, 5, 19);
    check_nearest<int64_t>(tag + " nearest int64", v, z, c, -1, SPINEKIT_LABEL_INT64, 17, 13);
  }
}

void test_nan(std::mt19937& rng) {
  Vol v = make_vol(SPINEKIT_DTYPE_FLOAT32, 3, 12, 14, rng);
  v.f32[(1 * 12 + 5) * 14 + 6] = std::numeric_limits<float>::quiet_NaN();
  v.f32[(2 * 12 + 0) * 14 + 13] = std::numeric_limits<float>::quiet_NaN();
  const std::vector<int64_t> z = stack_z(3, 1, 1);
  check_planes("nan propagates, window, down", v, z, {0, 0, 12, 14}, 0, {true, 40, 400}, 7, 9);
  check_planes("nan propagates, no window, up", v, z, {0, 0, 12, 14}, 0, {false, 0, 0}, 25, 30);
  check_planes("nan propagates, crop", v, z, {-2, 3, 9, 14}, kNaN, {false, 0, 0}, 8, 8);
}

void test_nearest(std::mt19937& rng) {
  const int dtypes[] = {SPINEKIT_DTYPE_INT16, SPINEKIT_DTYPE_UINT16, SPINEKIT_DTYPE_UINT8};
  const char* names[] = {"int16", "uint16", "uint8"};
  for (int d = 0; d < 3; ++d) {
    Vol v = make_vol(dtypes[d], 6, 21, 17, rng, 19);
    const Crop full{0, 0, v.H, v.W};
    for (int64_t k : {0, 1}) {
      const std::vector<int64_t> z = stack_z(v.S, k, 1);
      const std::string tag = std::string("nearest ") + names[d] + " k=" + std::to_string(k);
      check_nearest<int64_t>(tag + " int64 down", v, z, full, 0, SPINEKIT_LABEL_INT64, 10, 8);
      check_nearest<int64_t>(tag + " int64 up", v, z, full, 0, SPINEKIT_LABEL_INT64, 50, 33);
      check_nearest<uint8_t>(tag + " uint8 down", v, z, full, 0, SPINEKIT_LABEL_UINT8, 10, 8);
      check_nearest<uint8_t>(tag + " uint8 same", v, z, full, 0, SPINEKIT_LABEL_UINT8, 21, 17);
    }
  }
}

void test_window(std::mt19937& rng) {
  const int dtypes[] = {SPINEKIT_DTYPE_INT16, SPINEKIT_DTYPE_UINT16, SPINEKIT_DTYPE_FLOAT32,
                        SPINEKIT_DTYPE_UINT8};
  const char* names[] = {"int16", "uint16", "float32", "uint8"};
  const float wins[] = {40, 400, 400, 1800, -600, 1500};
  for (int d = 0; d < 4; ++d) {
    Vol v = make_vol(dtypes[d], 3, 70, 300, rng);  // inner 21000 > one chunk
    if (dtypes[d] == SPINEKIT_DTYPE_FLOAT32) v.f32[5] = std::numeric_limits<float>::quiet_NaN();
    const int64_t outer = 3, inner = 70 * 300;
    std::vector<float> out(outer * 3 * inner, kSentinel);
    int rc = spinekit_window_cpu(v.data(), v.dtype, outer, inner, static_cast<float>(v.slope),
                                 static_cast<float>(v.intercept), wins, 3, out.data());
    std::string detail = rc == SPINEKIT_OK ? "" : "returned " + std::to_string(rc);
    for (int64_t o = 0; o < outer && detail.empty(); ++o)
      for (int c = 0; c < 3 && detail.empty(); ++c)
        for (int64_t i = 0; i < inner; ++i) {
          const double e = Win{true, wins[2 * c], wins[2 * c + 1]}.apply(v.value(o * inner + i));
          const float a = out[(o * 3 + c) * inner + i];
          const bool bad = std::isnan(e) ? !std::isnan(a) : !(std::fabs(a - e) <= 1e-5);
          if (bad) {
            detail = "(" + std::to_string(o) + ", " + std::to_string(c) + ", " +
                     std::to_string(i) + "): got " + std::to_string(a) + ", expected " +
                     std::to_string(e);
            break;
          }
        }
    report(std::string("window 3 channels ") + names[d], detail.empty(), detail);
  }
}

void test_threads(std::mt19937& rng) {
  Vol v = make_vol(SPINEKIT_DTYPE_INT16, 11, 100, 90, rng);
  const std::vector<int64_t> z = stack_z(v.S, 1, 1);
  const int64_t planes = static_cast<int64_t>(z.size()), oh = 64, ow = 70;
  std::vector<float> first;
  bool same = true;
  for (int t : {1, 2, 3}) {
    spinekit_set_num_threads(t);
    std::vector<float> out(planes * oh * ow, kSentinel);
    spinekit_resample_planes_cpu(v.data(), v.dtype, v.S, v.H, v.W, 1.f, -1024.f, z.data(), planes,
                                 -3, 2, 95, 90, -1024.f, 1, 40.f, 400.f, oh, ow, out.data());
    if (first.empty())
      first = out;
    else
      same = same && std::memcmp(first.data(), out.data(), out.size() * sizeof(float)) == 0;
  }
  spinekit_set_num_threads(0);
  report("bitwise identical on 1, 2 and 3 threads", same);
}

void test_errors() {
  const int16_t v[4] = {1, 2, 3, 4};
  const int64_t z[1] = {0};
  const float bad_win[2] = {40, 0};
  float out[4];
  int64_t lab[4];
  report("bad src dtype",
         spinekit_resample_planes_cpu(v, 9, 1, 2, 2, 1, 0, z, 1, 0, 0, 2, 2, 0, 0, 0, 0, 2, 2,
                                      out) == SPINEKIT_BAD_ARGUMENT);
  report("zero out size",
         spinekit_resample_planes_cpu(v, 0, 1, 2, 2, 1, 0, z, 1, 0, 0, 2, 2, 0, 0, 0, 0, 0, 2,
                                      out) == SPINEKIT_BAD_ARGUMENT);
  report("zero window width",
         spinekit_resample_planes_cpu(v, 0, 1, 2, 2, 1, 0, z, 1, 0, 0, 2, 2, 0, 1, 40, 0, 2, 2,
                                      out) == SPINEKIT_BAD_ARGUMENT);
  report("nearest float32 source",
         spinekit_resample_planes_nearest_cpu(v, SPINEKIT_DTYPE_FLOAT32, 1, 2, 2, z, 1, 0, 0, 2,
                                              2, 0, 0, 2, 2, lab) == SPINEKIT_BAD_ARGUMENT);
  report("nearest bad label dtype",
         spinekit_resample_planes_nearest_cpu(v, 0, 1, 2, 2, z, 1, 0, 0, 2, 2, 0, 7, 2, 2,
                                              lab) == SPINEKIT_BAD_ARGUMENT);
  report("window width 0",
         spinekit_window_cpu(v, 0, 1, 4, 1, 0, bad_win, 1, out) == SPINEKIT_BAD_ARGUMENT);
}

}  // namespace

int main() {
  std::mt19937 rng(4242);
  test_stack(rng);
  test_crop(rng);
  test_nan(rng);
  test_nearest(rng);
  test_window(rng);
  test_threads(rng);
  test_errors();
  std::printf("%d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}
