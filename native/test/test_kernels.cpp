// C++ tests of the CPU kernels against naive double-precision references written
// from the header texts (native/include/spinekit/*.h). Tolerance: float outputs
// against the double reference within 2e-5 * max(1, |ref|) unless stated; the
// kernels use polynomial exp/log with about 1e-7 relative error and float sums.
// Prints "PASS name" / "FAIL name: detail" and a final "N passed, M failed".
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "spinekit/dsnt.h"
#include "spinekit/gaussian.h"
#include "spinekit/head_loss.h"
#include "spinekit/heatmap_pool.h"

namespace {

int g_pass = 0, g_fail = 0;

void report(bool ok, const std::string& name, const std::string& detail = "") {
  if (ok) {
    ++g_pass;
    std::printf("PASS %s\n", name.c_str());
  } else {
    ++g_fail;
    std::printf("FAIL %s: %s\n", name.c_str(), detail.c_str());
  }
}

// max over i of |a - e| / (atol + rtol |e|); NaN must match NaN.
bool close(const std::vector<float>& a, const std::vector<double>& e, double atol, double rtol,
           std::string* why) {
  if (a.size() != e.size()) {
    *why = "size " + std::to_string(a.size()) + " vs " + std::to_string(e.size());
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(e[i]) || std::isnan(a[i])) {
      if (std::isnan(e[i]) != std::isnan(a[i])) {
        *why = "NaN mismatch at " + std::to_string(i);
        return false;
      }
      continue;
    }
    if (std::fabs(a[i] - e[i]) > atol + rtol * std::fabs(e[i])) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "element %zu: %.9g vs reference %.9g", i, a[i], e[i]);
      *why = buf;
      return false;
    }
  }
  return true;
}

void check(const std::string& name, const std::vector<float>& a, const std::vector<double>& e,
           double atol = 2e-5, double rtol = 2e-5) {
  std::string why;
  report(close(a, e, atol, rtol, &why), name, why);
}

std::mt19937 rng(12345);

std::vector<float> randn(size_t n, double scale) {
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(nd(rng) * scale);
  return v;
}

struct Shape {
  int64_t n, k, d, h, w;
  int ndim;
  int64_t s() const { return d * h * w; }
  std::string str() const {
    return "[" + std::to_string(n) + "," + std::to_string(k) + "," +
           (ndim == 3 ? std::to_string(d) + "," : "") + std::to_string(h) + "," +
           std::to_string(w) + "]";
  }
};

// Coordinate j (x = w, y = h, z = d) of flat index s.
double coord(const Shape& sh, int64_t s, int j) {
  int64_t w = s % sh.w, h = (s / sh.w) % sh.h, d = s / (sh.w * sh.h);
  return j == 0 ? w : j == 1 ? h : d;
}

double size_of(const Shape& sh, int j) { return j == 0 ? sh.w : j == 1 ? sh.h : sh.d; }

std::vector<double> softmax_row(const float* x, int64_t n) {
  double m = -INFINITY;
  for (int64_t i = 0; i < n; ++i) m = std::max(m, static_cast<double>(x[i]));
  std::vector<double> p(n);
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += p[i] = std::exp(x[i] - m);
  for (auto& v : p) v /= s;
  return p;
}

// ---- DSNT ----
void test_dsnt(const Shape& sh, double scale) {
  const int64_t R = sh.n * sh.k, S = sh.s();
  const int nd = sh.ndim;
  auto x = randn(R * S, scale);
  std::vector<float> p(R * S), px(R * nd), nx(R * nd);
  int64_t info = -1;
  int rc = spinekit_dsnt_forward_cpu(x.data(), R, sh.d, sh.h, sh.w, nd, p.data(), px.data(),
                                     nx.data(), &info);
  report(rc == SPINEKIT_OK, "dsnt forward status " + sh.str());
  std::vector<double> rp(R * S), rpx(R * nd), rnx(R * nd);
  for (int64_t r = 0; r < R; ++r) {
    auto q = softmax_row(x.data() + r * S, S);
    for (int64_t s = 0; s < S; ++s) rp[r * S + s] = q[s];
    for (int j = 0; j < nd; ++j) {
      double c = 0;
      for (int64_t s = 0; s < S; ++s) c += q[s] * coord(sh, s, j);
      rpx[r * nd + j] = c;
      rnx[r * nd + j] = (2 * c + 1) / size_of(sh, j) - 1;
    }
  }
  check("dsnt probs " + sh.str(), p, rp, 1e-7, 2e-5);
  check("dsnt coords " + sh.str(), px, rpx, 1e-4, 2e-5);
  check("dsnt coords norm " + sh.str(), nx, rnx, 2e-6, 2e-5);

  // Backward with each incoming gradient present or absent.
  auto gpx = randn(R * nd, 1.0), gnx = randn(R * nd, 1.0), gp = randn(R * S, 0.1);
  for (int mask = 1; mask < 8; ++mask) {
    const float* a = (mask & 1) ? gpx.data() : nullptr;
    const float* b = (mask & 2) ? gnx.data() : nullptr;
    const float* c = (mask & 4) ? gp.data() : nullptr;
    std::vector<float> gl(R * S);
    spinekit_dsnt_backward_cpu(p.data(), px.data(), a, b, c, R, sh.d, sh.h, sh.w, nd, gl.data());
    std::vector<double> ref(R * S);
    for (int64_t r = 0; r < R; ++r) {
      std::vector<double> u(S, 0.0);
      for (int64_t s = 0; s < S; ++s) {
        for (int j = 0; j < nd; ++j) {
          double g = (a ? a[r * nd + j] : 0.0) + (b ? b[r * nd + j] * 2.0 / size_of(sh, j) : 0.0);
          u[s] += g * coord(sh, s, j);
        }
        if (c) u[s] += c[r * S + s];
      }
      double dot = 0;
      for (int64_t s = 0; s < S; ++s) dot += rp[r * S + s] * u[s];
      for (int64_t s = 0; s < S; ++s) ref[r * S + s] = rp[r * S + s] * (u[s] - dot);
    }
    check("dsnt backward " + sh.str() + " grads mask " + std::to_string(mask), gl, ref, 1e-6, 1e-4);
  }
}

void test_dsnt_nonfinite() {
  Shape sh{1, 4, 1, 3, 5, 2};
  const int64_t S = sh.s();
  auto x = randn(4 * S, 1.0);
  x[1 * S + 2] = NAN;                                             // row 1: NaN
  x[2 * S + 0] = INFINITY;                                        // row 2: +inf
  for (int64_t s = 0; s < S; ++s) x[3 * S + s] = -INFINITY;       // row 3: all -inf
  std::vector<float> p(4 * S), px(8);
  int64_t info = -1;
  int rc = spinekit_dsnt_forward_cpu(x.data(), 4, 1, 3, 5, 2, p.data(), px.data(), nullptr, &info);
  report(rc == SPINEKIT_NONFINITE_HEAT && info == 1, "dsnt non-finite status and first row",
         "rc " + std::to_string(rc) + " info " + std::to_string(info));
  bool rows_ok = std::isfinite(px[0]) && std::isfinite(px[1]);
  for (int r = 1; r < 4; ++r) rows_ok = rows_ok && std::isnan(px[r * 2]) && std::isnan(p[r * S]);
  report(rows_ok, "dsnt non-finite rows are NaN, finite rows are not");
  // -inf inside a finite row is legal and gets probability 0.
  std::vector<float> y = {-INFINITY, 0.0f, 0.0f};
  std::vector<float> q(3), c(2);
  rc = spinekit_dsnt_forward_cpu(y.data(), 1, 1, 1, 3, 2, q.data(), c.data(), nullptr, &info);
  report(rc == SPINEKIT_OK && q[0] == 0.0f && std::fabs(q[1] - 0.5f) < 1e-6 &&
             std::fabs(c[0] - 1.5f) < 1e-6,
         "dsnt -inf entry in a finite row");
}

// ---- heatmap pooling ----
void test_pool(int64_t n, int64_t k, int64_t c, int64_t s) {
  std::string name = "[" + std::to_string(n) + "," + std::to_string(k) + "," + std::to_string(c) +
                     "," + std::to_string(s) + "]";
  auto heat = randn(n * k * s, 1.0), grade = randn(n * c * s, 1.0), gp = randn(n * k * c, 1.0);
  std::vector<float> pooled(n * k * c);
  spinekit_heatmap_pool_forward_cpu(heat.data(), grade.data(), n, k, c, s, pooled.data());
  std::vector<double> ref(n * k * c, 0.0), rgh(n * k * s, 0.0), rgg(n * c * s, 0.0);
  for (int64_t b = 0; b < n; ++b)
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < c; ++j)
        for (int64_t t = 0; t < s; ++t) {
          double hv = heat[(b * k + i) * s + t], gv = grade[(b * c + j) * s + t];
          double g = gp[(b * k + i) * c + j];
          ref[(b * k + i) * c + j] += hv * gv;
          rgh[(b * k + i) * s + t] += g * gv;
          rgg[(b * c + j) * s + t] += g * hv;
        }
  check("pool forward " + name, pooled, ref, 1e-4, 1e-4);
  std::vector<float> gh(n * k * s), gg(n * c * s);
  spinekit_heatmap_pool_backward_cpu(heat.data(), grade.data(), gp.data(), n, k, c, s, gh.data(),
                                     gg.data());
  check("pool backward heat " + name, gh, rgh, 1e-5, 1e-5);
  check("pool backward grade " + name, gg, rgg, 1e-5, 1e-5);
  std::vector<float> gh2(n * k * s);
  spinekit_heatmap_pool_backward_cpu(heat.data(), grade.data(), gp.data(), n, k, c, s, gh2.data(),
                                     nullptr);
  report(gh2 == gh, "pool backward with grad_grade NULL " + name);
}

// ---- Gaussian targets ----
std::vector<double> gauss_ref(const Shape& sh, const float* pt, double sigma, bool normalise) {
  const int64_t S = sh.s();
  std::vector<double> out(S, 0.0);
  bool finite = true;
  for (int j = 0; j < sh.ndim; ++j) finite = finite && std::isfinite(pt[j]);
  if (!finite) return out;
  std::vector<double> logit(S);
  double mx = -INFINITY;
  for (int64_t s = 0; s < S; ++s) {
    double d2 = 0;
    for (int j = 0; j < sh.ndim; ++j) d2 += std::pow(coord(sh, s, j) - pt[j], 2);
    logit[s] = -d2 / (2 * sigma * sigma);
    mx = std::max(mx, logit[s]);
  }
  double sum = 0;
  for (int64_t s = 0; s < S; ++s) sum += out[s] = std::exp(logit[s] - (normalise ? mx : 0.0));
  if (normalise)
    for (auto& v : out) v /= sum;
  return out;
}

void test_gaussian(const Shape& sh, double sigma) {
  const int64_t R = sh.n * sh.k, S = sh.s();
  std::vector<float> pts(R * sh.ndim);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (int64_t r = 0; r < R; ++r)
    for (int j = 0; j < sh.ndim; ++j)
      pts[r * sh.ndim + j] = static_cast<float>((size_of(sh, j) - 1) * (0.5 + 0.6 * u(rng)));
  pts[0] = NAN;  // row 0: no target
  for (int norm = 0; norm < 2; ++norm) {
    std::vector<float> out(R * S);
    spinekit_gaussian_render_cpu(pts.data(), R, sh.d, sh.h, sh.w, sh.ndim, static_cast<float>(sigma),
                                 norm, out.data());
    std::vector<double> ref;
    for (int64_t r = 0; r < R; ++r) {
      auto g = gauss_ref(sh, pts.data() + r * sh.ndim, sigma, norm != 0);
      ref.insert(ref.end(), g.begin(), g.end());
    }
    check("gaussian " + sh.str() + (norm ? " normalised" : " raw"), out, ref, 1e-7, 2e-5);
  }
}

// ---- fused head loss ----
struct HeadCase {
  Shape sh;
  int64_t c;
  float sigma, jsw, nllw, scale;
  std::vector<float> heat, grade, pts, cw;
  std::vector<int64_t> tgt;
};

HeadCase make_case(const Shape& sh, int64_t c, float sigma, double logit_scale) {
  HeadCase hc{sh, c, sigma, 0.7f, 1.3f, 1.5f, {}, {}, {}, {}, {}};
  const int64_t R = sh.n * sh.k;
  hc.heat = randn(R * sh.s(), logit_scale);
  hc.grade = randn(sh.n * c * sh.s(), logit_scale);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  for (int64_t r = 0; r < R; ++r)
    for (int j = 0; j < sh.ndim; ++j)
      hc.pts.push_back(r % 4 == 3 ? NAN : static_cast<float>(u(rng) * (size_of(sh, j) - 1)));
  for (int64_t r = 0; r < R; ++r) hc.tgt.push_back(r % 5 == 4 ? -1 : static_cast<int64_t>(r % c));
  for (int64_t i = 0; i < c; ++i) hc.cw.push_back(static_cast<float>(1 << i));
  return hc;
}

// The loss of head_loss.h in double from (possibly perturbed) logits.
struct HeadRef {
  double loss, js, nll;
  std::vector<double> coords, pooled;
};

HeadRef head_ref(const HeadCase& hc, const std::vector<double>& heat,
                 const std::vector<double>& grade) {
  const Shape& sh = hc.sh;
  const int64_t S = sh.s(), R = sh.n * sh.k, C = hc.c;
  HeadRef out{0, 0, 0, std::vector<double>(R * sh.ndim, 0.0), std::vector<double>(R * C, 0.0)};
  auto lclamp = [](double v, double e) { return std::log(std::max(v, e)); };
  int64_t npts = 0;
  double js = 0, nll = 0, wsum = 0;
  for (int64_t n = 0; n < sh.n; ++n) {
    std::vector<double> q(C * S);
    for (int64_t s = 0; s < S; ++s) {
      double m = -INFINITY, z = 0;
      for (int64_t c = 0; c < C; ++c) m = std::max(m, grade[(n * C + c) * S + s]);
      for (int64_t c = 0; c < C; ++c) z += q[c * S + s] = std::exp(grade[(n * C + c) * S + s] - m);
      for (int64_t c = 0; c < C; ++c) q[c * S + s] /= z;
    }
    for (int64_t k = 0; k < sh.k; ++k) {
      const int64_t r = n * sh.k + k;
      double m = -INFINITY, z = 0;
      for (int64_t s = 0; s < S; ++s) m = std::max(m, heat[r * S + s]);
      std::vector<double> p(S);
      for (int64_t s = 0; s < S; ++s) z += p[s] = std::exp(heat[r * S + s] - m);
      for (auto& v : p) v /= z;
      for (int j = 0; j < sh.ndim; ++j)
        for (int64_t s = 0; s < S; ++s) out.coords[r * sh.ndim + j] += p[s] * coord(sh, s, j);
      for (int64_t c = 0; c < C; ++c)
        for (int64_t s = 0; s < S; ++s) out.pooled[r * C + c] += p[s] * q[c * S + s];
      const float* pt = hc.pts.data() + r * sh.ndim;
      if (std::isfinite(pt[0])) {
        ++npts;
        auto t = gauss_ref(sh, pt, hc.sigma, true);
        for (int64_t s = 0; s < S; ++s) {
          double mm = 0.5 * (p[s] + t[s]);
          js += 0.5 * p[s] * (lclamp(p[s], 1e-8) - lclamp(mm, 1e-8)) +
                0.5 * t[s] * (lclamp(t[s], 1e-8) - lclamp(mm, 1e-8));
        }
      }
      const int64_t y = hc.tgt[r];
      if (y >= 0) {
        wsum += hc.cw[y];
        nll -= hc.cw[y] * lclamp(out.pooled[r * C + y], 1e-5);
      }
    }
  }
  out.js = npts ? js / npts : 0.0;
  out.nll = wsum > 0 ? nll / wsum : 0.0;
  out.loss = hc.jsw * out.js + hc.nllw * out.nll;
  return out;
}

void test_head_loss(const Shape& sh, int64_t c, float sigma, double logit_scale) {
  HeadCase hc = make_case(sh, c, sigma, logit_scale);
  const int64_t S = sh.s(), R = sh.n * sh.k;
  std::vector<float> losses(3), coords(R * sh.ndim), pooled(R * c), probs(R * S), gh(R * S),
      gg(sh.n * c * S);
  int64_t info = -1;
  int rc = spinekit_head_loss_cpu(hc.heat.data(), hc.grade.data(), hc.pts.data(), hc.tgt.data(),
                                  hc.cw.data(), sh.n, sh.k, c, sh.d, sh.h, sh.w, sh.ndim, sigma,
                                  hc.jsw, hc.nllw, hc.scale, losses.data(), coords.data(),
                                  pooled.data(), probs.data(), gh.data(), gg.data(), &info);
  const std::string name = "head loss " + sh.str() + " C=" + std::to_string(c);
  report(rc == SPINEKIT_OK, name + " status");
  std::vector<double> hd(hc.heat.begin(), hc.heat.end()), gd(hc.grade.begin(), hc.grade.end());
  HeadRef ref = head_ref(hc, hd, gd);
  check(name + " losses", losses, {ref.loss, ref.js, ref.nll}, 1e-5, 1e-4);
  check(name + " coords", coords, ref.coords, 1e-4, 2e-5);
  check(name + " pooled", pooled, ref.pooled, 1e-6, 1e-4);
  // Gradients: central differences of the double reference on a sample of entries.
  bool ok = true;
  std::string why;
  auto fd = [&](std::vector<double>& v, int64_t i) {
    const double h = 1e-5 * std::max(1.0, std::fabs(v[i]));
    const double keep = v[i];
    v[i] = keep + h;
    double lp = head_ref(hc, hd, gd).loss;
    v[i] = keep - h;
    double lm = head_ref(hc, hd, gd).loss;
    v[i] = keep;
    return hc.scale * (lp - lm) / (2 * h);
  };
  std::uniform_int_distribution<int64_t> pick_h(0, R * S - 1), pick_g(0, sh.n * c * S - 1);
  for (int t = 0; t < 12 && ok; ++t) {
    int64_t i = pick_h(rng), j = pick_g(rng);
    double eh = fd(hd, i), eg = fd(gd, j);
    if (std::fabs(gh[i] - eh) > 2e-5 + 2e-3 * std::fabs(eh)) {
      ok = false;
      why = "grad_heat[" + std::to_string(i) + "] " + std::to_string(gh[i]) + " vs " +
            std::to_string(eh);
    } else if (std::fabs(gg[j] - eg) > 2e-5 + 2e-3 * std::fabs(eg)) {
      ok = false;
      why = "grad_grade[" + std::to_string(j) + "] " + std::to_string(gg[j]) + " vs " +
            std::to_string(eg);
    }
  }
  report(ok, name + " gradients vs central differences", why);
  // Optional outputs absent: same gradients.
  std::vector<float> gh2(R * S);
  spinekit_head_loss_cpu(hc.heat.data(), hc.grade.data(), hc.pts.data(), hc.tgt.data(),
                         hc.cw.data(), sh.n, sh.k, c, sh.d, sh.h, sh.w, sh.ndim, sigma, hc.jsw,
                         hc.nllw, hc.scale, losses.data(), nullptr, nullptr, nullptr, gh2.data(),
                         nullptr, &info);
  report(gh2 == gh, name + " grad_heat unchanged without the other outputs");
}

void test_head_loss_errors() {
  Shape sh{2, 3, 1, 4, 5, 2};
  HeadCase hc = make_case(sh, 3, 1.0f, 1.0);
  const int64_t S = sh.s();
  std::vector<float> losses(3);
  int64_t info = -1;
  auto run = [&](HeadCase& h) {
    return spinekit_head_loss_cpu(h.heat.data(), h.grade.data(), h.pts.data(), h.tgt.data(),
                                  h.cw.data(), sh.n, sh.k, 3, sh.d, sh.h, sh.w, 2, 1.0f, 1, 1, 1,
                                  losses.data(), nullptr, nullptr, nullptr, nullptr, nullptr,
                                  &info);
  };
  HeadCase a = hc;
  a.heat[4 * S + 7] = NAN;
  int rc = run(a);
  report(rc == SPINEKIT_NONFINITE_HEAT && info == 4, "head loss NaN heat row",
         std::to_string(rc) + "/" + std::to_string(info));
  HeadCase b = hc;
  b.grade[(1 * 3 + 2) * S + 6] = INFINITY;
  rc = run(b);
  report(rc == SPINEKIT_NONFINITE_GRADE && info == 1 * S + 6, "head loss +inf grade pixel",
         std::to_string(rc) + "/" + std::to_string(info));
  HeadCase c = hc;
  c.tgt[5] = 3;
  rc = run(c);
  report(rc == SPINEKIT_BAD_TARGET && info == 5, "head loss target out of range",
         std::to_string(rc) + "/" + std::to_string(info));
}

void test_thread_independence() {
  Shape sh{3, 5, 1, 40, 48, 2};
  HeadCase hc = make_case(sh, 3, 2.0f, 2.0);
  const int64_t S = sh.s(), R = sh.n * sh.k;
  std::vector<std::vector<float>> res;
  for (int threads : {1, 2, 3}) {
    spinekit_set_num_threads(threads);
    std::vector<float> losses(3), gh(R * S), gg(sh.n * 3 * S), pooled(R * 3);
    int64_t info;
    spinekit_head_loss_cpu(hc.heat.data(), hc.grade.data(), hc.pts.data(), hc.tgt.data(),
                           hc.cw.data(), sh.n, sh.k, 3, 1, sh.h, sh.w, 2, 2.0f, 1, 1, 1,
                           losses.data(), nullptr, nullptr, nullptr, gh.data(), gg.data(), &info);
    spinekit_heatmap_pool_forward_cpu(hc.heat.data(), hc.grade.data(), sh.n, sh.k, 3, S,
                                      pooled.data());
    std::vector<float> all = losses;
    all.insert(all.end(), gh.begin(), gh.end());
    all.insert(all.end(), gg.begin(), gg.end());
    all.insert(all.end(), pooled.begin(), pooled.end());
    res.push_back(all);
  }
  spinekit_set_num_threads(0);
  report(res[0] == res[1] && res[1] == res[2], "same bits on 1, 2 and 3 threads");
}

}  // namespace

int main() {
  const std::vector<std::pair<Shape, double>> shapes = {
      {{2, 5, 1, 16, 16, 2}, 1.0}, {{1, 1, 1, 7, 13, 2}, 1.0}, {{3, 2, 1, 1, 1, 2}, 1.0},
      {{2, 3, 1, 9, 11, 2}, 80.0}, {{1, 3, 5, 6, 7, 3}, 1.0},  {{2, 2, 1, 5, 4, 3}, 1.0},
      {{1, 2, 4, 9, 10, 3}, 40.0}};
  for (const auto& [sh, scale] : shapes) test_dsnt(sh, scale);
  test_dsnt_nonfinite();
  test_pool(2, 5, 3, 256);
  test_pool(1, 1, 1, 1);
  test_pool(2, 3, 4, 20000);  // spans several chunks
  test_gaussian({2, 3, 1, 7, 13, 2}, 1.7);
  test_gaussian({1, 2, 5, 6, 7, 3}, 1.2);
  test_head_loss({2, 5, 1, 8, 9, 2}, 3, 1.5f, 1.0);
  test_head_loss({1, 1, 1, 7, 13, 2}, 1, 2.0f, 1.0);
  test_head_loss({2, 2, 1, 1, 1, 2}, 3, 1.0f, 1.0);
  test_head_loss({1, 3, 3, 5, 6, 3}, 3, 1.2f, 1.0);
  test_head_loss({2, 3, 1, 6, 7, 2}, 3, 1.5f, 25.0);
  test_head_loss_errors();
  test_thread_independence();
  std::printf("%d passed, %d failed\n", g_pass, g_fail);
  return g_fail == 0 ? 0 : 1;
}
