// Tests of the SpineKit CPU kernels (spinekit_*_cpu) against naive double-precision
// references written from the header texts in native/include/spinekit/.
//
// Tolerance. A float output a is compared with its double reference e by
//     |a - e| <= 2e-5 * max(|e|, floor)
// i.e. a relative error of 2e-5 above the floor and an absolute one below it.
// The floor is 1 for values of order one (coordinates, losses, pooled values,
// normalised coordinates), 1e-3 for probabilities and Gaussian targets, for the
// gradients through a softmax the largest term p_s * dL/dp_s of the tensor (an
// entry is a difference of such terms, so it can be far smaller than they are),
// and sum |terms| for the dot products of the pooling kernel. The kernels
// use polynomial exp/log with about 1e-7 relative error and float partial sums,
// which stay well inside this bound. NaN in the reference must be NaN in the output.
// Checks that state another tolerance (1e-6 for quantities that must not change,
// exact zeros where every term is zero) say so where they are made.
//
// Gradients of the fused head loss are checked three ways: kernel against an
// analytic double reference on every entry, that reference against central
// differences of the double forward, and the kernel against those central
// differences on randomly chosen entries.
//
// Threads: the same inputs on 1, 2 and 3 threads must give bitwise identical
// outputs (every kernel partitions its work by shape, not by thread count).
//
// Output: one line per check, "PASS name" or "FAIL name: detail", then
// "N passed, M failed". Exit status 1 when any check failed.
#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "spinekit/common.h"
#include "spinekit/dsnt.h"
#include "spinekit/gaussian.h"
#include "spinekit/head_loss.h"
#include "spinekit/heatmap_pool.h"

namespace {

using Vec = std::vector<float>;
using DVec = std::vector<double>;

constexpr double kTol = 2e-5;
constexpr double kProbFloor = 1e-3;
constexpr double kEps = 1e-8;      // log clamp of the JS divergence (head_loss.h)
constexpr double kPoolEps = 1e-5;  // clamp of the pooled probability in the NLL
const double kInf = std::numeric_limits<double>::infinity();
const double kNaN = std::numeric_limits<double>::quiet_NaN();
const float kInfF = std::numeric_limits<float>::infinity();
const float kNaNF = std::numeric_limits<float>::quiet_NaN();
// Written into output buffers before a call, so that an unwritten or accumulated
// output shows up as a mismatch.
const float kSentinel = 7777.0f;

// ---------------------------------------------------------------- reporting

int g_passed = 0;
int g_failed = 0;

std::string strf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string strf(const char* fmt, ...) {
  char buf[512];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, args);
  va_end(args);
  return buf;
}

void report(const std::string& name, bool ok, const std::string& detail = "") {
  if (ok) {
    ++g_passed;
    std::printf("PASS %s\n", name.c_str());
  } else {
    ++g_failed;
    std::printf("FAIL %s: %s\n", name.c_str(), detail.c_str());
  }
}

// Empty when |a - e| <= tol * max(|e|, floor[i]) everywhere (NaN matching NaN);
// otherwise a description of the worst element.
std::string compare(const Vec& a, const DVec& e, const DVec& floor, double tol = kTol) {
  if (a.size() != e.size()) return strf("size %zu, expected %zu", a.size(), e.size());
  size_t bad = 0, worst = 0;
  double worst_ratio = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    double ratio;
    if (std::isnan(e[i]) || std::isnan(a[i])) {
      ratio = std::isnan(e[i]) == std::isnan(a[i]) ? 0.0 : kInf;
    } else {
      const double limit = tol * std::max(std::fabs(e[i]), floor[i]);
      ratio = std::fabs(a[i] - e[i]) / limit;
      if (std::isnan(ratio)) ratio = a[i] == e[i] ? 0.0 : kInf;  // inf vs inf, 0 / 0
    }
    if (ratio > 1.0) ++bad;
    if (ratio > worst_ratio) {
      worst_ratio = ratio;
      worst = i;
    }
  }
  if (bad == 0) return "";
  return strf("%zu of %zu elements off; worst [%zu] = %.9g, reference %.9g "
              "(error %.3g x tolerance)",
              bad, a.size(), worst, a[worst], e[worst], worst_ratio);
}

std::string compare(const Vec& a, const DVec& e, double floor, double tol = kTol) {
  return compare(a, e, DVec(e.size(), floor), tol);
}

// "label: why; " when a comparison failed, "" otherwise (to join several).
std::string labelled(const std::string& label, const std::string& why) {
  return why.empty() ? "" : label + ": " + why + "; ";
}

void expect_close(const std::string& name, const Vec& a, const DVec& e, double floor,
                  double tol = kTol) {
  std::string why = compare(a, e, floor, tol);
  report(name, why.empty(), why);
}

void expect_close(const std::string& name, const Vec& a, const DVec& e, const DVec& floor) {
  std::string why = compare(a, e, floor);
  report(name, why.empty(), why);
}

double max_abs(const DVec& v) {
  double m = 0;
  for (double x : v)
    if (std::isfinite(x)) m = std::max(m, std::fabs(x));
  return m;
}

// A reference gradient and the largest term its entries are differences of
// (p_s * dL/dp_s and p_s * sum_t p_t dL/dp_t through a softmax): float rounding of
// those terms is the kernel's error, even where the difference is (near) zero.
struct Gradient {
  DVec value;
  double terms = 0;

  void note(double term) { terms = std::max(terms, std::fabs(term)); }
  double floor() const { return std::max({max_abs(value), terms, 1e-30}); }
};

void expect_status(const std::string& name, int rc, int64_t info, int want_rc,
                   int64_t want_info) {
  report(name, rc == want_rc && info == want_info,
         strf("returned %d with info %lld, expected %d with info %lld", rc,
              static_cast<long long>(info), want_rc, static_cast<long long>(want_info)));
}

bool bits_equal(const Vec& a, const Vec& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

DVec to_double(const Vec& v) { return DVec(v.begin(), v.end()); }

// ---------------------------------------------------------------- inputs

std::mt19937 g_rng(20240611);

Vec random_normal(size_t n, double sd) {
  std::normal_distribution<double> dist(0.0, sd);
  Vec v(n);
  for (float& x : v) x = static_cast<float>(dist(g_rng));
  return v;
}

Vec random_uniform(size_t n, double lo, double hi) {
  std::uniform_real_distribution<double> dist(lo, hi);
  Vec v(n);
  for (float& x : v) x = static_cast<float>(dist(g_rng));
  return v;
}

int64_t random_index(int64_t n) {
  return std::uniform_int_distribution<int64_t>(0, n - 1)(g_rng);
}

// Unit: N(0, 1.5^2). Large: uniform in [-90, 90], where a naive float exp overflows.
enum class Scale { kUnit, kLarge };

Vec random_logits(size_t n, Scale scale) {
  return scale == Scale::kUnit ? random_normal(n, 1.5) : random_uniform(n, -90.0, 90.0);
}

const char* scale_name(Scale s) { return s == Scale::kUnit ? "" : " logits+-90"; }

// NaN, +inf, -inf for i = 0, 1, 2 (mod 3).
float nonfinite(int64_t i) { return i % 3 == 0 ? kNaNF : i % 3 == 1 ? kInfF : -kInfF; }

// Sets about a quarter of every row to -inf, always keeping one entry finite.
void sprinkle_neg_inf(Vec& x, int64_t rows, int64_t len) {
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t keep = random_index(len);
    for (int64_t i = 0; i < len; ++i)
      if (i != keep && random_index(4) == 0) x[r * len + i] = -kInfF;
  }
}

// Spatial map of D x H x W voxels; ndim 2 (D = 1) or 3.
struct Map {
  int64_t D, H, W;
  int ndim;

  int64_t S() const { return D * H * W; }
  double size(int j) const { return static_cast<double>(j == 0 ? W : j == 1 ? H : D); }
  // Coordinate j (x = w, y = h, z = d) of flat index s.
  double coord(int64_t s, int j) const {
    return static_cast<double>(j == 0 ? s % W : j == 1 ? (s / W) % H : s / (W * H));
  }
  std::string str() const {
    return ndim == 2 ? strf("%lldx%lld", static_cast<long long>(H), static_cast<long long>(W))
                     : strf("%lldx%lldx%lld 3d", static_cast<long long>(D),
                            static_cast<long long>(H), static_cast<long long>(W));
  }
};

// ---------------------------------------------------------------- references

// Softmax in double; all NaN when undefined (a NaN or +inf entry, or all -inf).
DVec ref_softmax(const DVec& x) {
  double mx = -kInf;
  bool nan = false;
  for (double v : x) {
    if (std::isnan(v)) nan = true;
    mx = std::max(mx, v);
  }
  DVec p(x.size(), kNaN);
  if (nan || !std::isfinite(mx)) return p;
  double sum = 0;
  for (size_t i = 0; i < x.size(); ++i) sum += p[i] = std::exp(x[i] - mx);
  for (double& v : p) v /= sum;
  return p;
}

DVec row_of(const DVec& x, int64_t r, int64_t len) {
  return DVec(x.begin() + r * len, x.begin() + (r + 1) * len);
}

struct DsntRef {
  DVec probs, px, norm;
};

DsntRef ref_dsnt_forward(const Vec& logits, int64_t rows, const Map& m) {
  const int64_t S = m.S();
  const int nd = m.ndim;
  DsntRef out{DVec(rows * S), DVec(rows * nd), DVec(rows * nd)};
  const DVec x = to_double(logits);
  for (int64_t r = 0; r < rows; ++r) {
    const DVec p = ref_softmax(row_of(x, r, S));
    std::copy(p.begin(), p.end(), out.probs.begin() + r * S);
    for (int j = 0; j < nd; ++j) {
      double c = 0;
      for (int64_t s = 0; s < S; ++s) c += p[s] * m.coord(s, j);
      out.px[r * nd + j] = c;
      out.norm[r * nd + j] = (2 * c + 1) / m.size(j) - 1;
    }
  }
  return out;
}

// dsnt.h: grad_logits = p_s (u_s - sum_t p_t u_t), u_s = sum_j g_j c_j(s) + grad_probs_s,
// g_j = grad_px_j + grad_norm_j * 2 / size_j. NULL gradients are zero.
Gradient ref_dsnt_backward(const Vec& probs, const float* grad_px, const float* grad_norm,
                           const float* grad_probs, int64_t rows, const Map& m) {
  const int64_t S = m.S();
  const int nd = m.ndim;
  Gradient out{DVec(rows * S)};
  for (int64_t r = 0; r < rows; ++r) {
    double g[3] = {0, 0, 0};
    for (int j = 0; j < nd; ++j) {
      if (grad_px) g[j] += grad_px[r * nd + j];
      if (grad_norm) g[j] += grad_norm[r * nd + j] * 2.0 / m.size(j);
    }
    DVec u(S, 0.0);
    double dot = 0;
    for (int64_t s = 0; s < S; ++s) {
      for (int j = 0; j < nd; ++j) u[s] += g[j] * m.coord(s, j);
      if (grad_probs) u[s] += grad_probs[r * S + s];
      dot += probs[r * S + s] * u[s];
    }
    for (int64_t s = 0; s < S; ++s) {
      out.value[r * S + s] = probs[r * S + s] * (u[s] - dot);
      out.note(probs[r * S + s] * u[s]);
      out.note(probs[r * S + s] * dot);
    }
  }
  return out;
}

// A sum and the sum of the absolute values of its terms (the scale of its rounding error).
struct Sums {
  DVec value, scale;
  explicit Sums(size_t n) : value(n, 0.0), scale(n, 0.0) {}
  void add(size_t i, double term) {
    value[i] += term;
    scale[i] += std::fabs(term);
  }
};

struct PoolRef {
  Sums pooled, grad_heat, grad_grade;
};

PoolRef ref_pool(const Vec& heat, const Vec& grade, const Vec& grad_pooled, int64_t N, int64_t K,
                 int64_t C, int64_t S) {
  PoolRef out{Sums(N * K * C), Sums(N * K * S), Sums(N * C * S)};
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k)
      for (int64_t c = 0; c < C; ++c) {
        const double gp = grad_pooled[(n * K + k) * C + c];
        for (int64_t s = 0; s < S; ++s) {
          const double h = heat[(n * K + k) * S + s], g = grade[(n * C + c) * S + s];
          out.pooled.add((n * K + k) * C + c, h * g);
          out.grad_heat.add((n * K + k) * S + s, gp * g);
          out.grad_grade.add((n * C + c) * S + s, gp * h);
        }
      }
  return out;
}

// gaussian.h: exp(-|c(s) - point|^2 / (2 sigma^2)), divided by its sum when normalised;
// zeros for a point with a non-finite coordinate.
DVec ref_gaussian(const float* point, const Map& m, double sigma, bool normalize) {
  const int64_t S = m.S();
  DVec out(S, 0.0);
  for (int j = 0; j < m.ndim; ++j)
    if (!std::isfinite(point[j])) return out;
  DVec logit(S);
  for (int64_t s = 0; s < S; ++s) {
    double d2 = 0;
    for (int j = 0; j < m.ndim; ++j) d2 += std::pow(m.coord(s, j) - point[j], 2);
    logit[s] = -d2 / (2 * sigma * sigma);
  }
  if (normalize) return ref_softmax(logit);
  for (int64_t s = 0; s < S; ++s) out[s] = std::exp(logit[s]);
  return out;
}

// ---------------------------------------------------------------- head loss reference

struct HeadProblem {
  int64_t N, K, C;
  Map m;
  float sigma, js_weight, nll_weight, grad_scale;
  Vec heat, grade, points, class_weight;
  std::vector<int64_t> target;

  int64_t rows() const { return N * K; }
  bool has_point(int64_t r) const {
    for (int j = 0; j < m.ndim; ++j)
      if (!std::isfinite(points[r * m.ndim + j])) return false;
    return true;
  }
  std::string str() const {
    return strf("[%lld,%lld] C=%lld %s", static_cast<long long>(N), static_cast<long long>(K),
                static_cast<long long>(C), m.str().c_str());
  }
};

struct HeadRef {
  double loss = 0, js = 0, nll = 0;
  DVec coords, pooled, probs;
};

// Softmax over the C classes of every pixel of sample n: q[c * S + s].
DVec ref_grade_softmax(const HeadProblem& hp, const DVec& grade, int64_t n) {
  const int64_t S = hp.m.S(), C = hp.C;
  DVec q(C * S);
  for (int64_t s = 0; s < S; ++s) {
    DVec x(C);
    for (int64_t c = 0; c < C; ++c) x[c] = grade[(n * C + c) * S + s];
    const DVec qs = ref_softmax(x);
    for (int64_t c = 0; c < C; ++c) q[c * S + s] = qs[c];
  }
  return q;
}

// The forward of head_loss.h in double.
HeadRef ref_head_forward(const HeadProblem& hp, const DVec& heat, const DVec& grade) {
  const int64_t S = hp.m.S(), C = hp.C, R = hp.rows();
  const int nd = hp.m.ndim;
  HeadRef out;
  out.coords.assign(R * nd, 0.0);
  out.pooled.assign(R * C, 0.0);
  out.probs.assign(R * S, 0.0);
  double js_sum = 0, nll_sum = 0, w_sum = 0;
  int64_t n_points = 0, n_labels = 0;
  for (int64_t n = 0; n < hp.N; ++n) {
    const DVec q = ref_grade_softmax(hp, grade, n);
    for (int64_t k = 0; k < hp.K; ++k) {
      const int64_t r = n * hp.K + k;
      const DVec p = ref_softmax(row_of(heat, r, S));
      std::copy(p.begin(), p.end(), out.probs.begin() + r * S);
      for (int64_t s = 0; s < S; ++s) {
        for (int j = 0; j < nd; ++j) out.coords[r * nd + j] += p[s] * hp.m.coord(s, j);
        for (int64_t c = 0; c < C; ++c) out.pooled[r * C + c] += p[s] * q[c * S + s];
      }
      if (hp.has_point(r)) {
        const DVec t = ref_gaussian(&hp.points[r * nd], hp.m, hp.sigma, true);
        double js = 0;
        for (int64_t s = 0; s < S; ++s) {
          const double lp = std::log(std::max(p[s], kEps));
          const double lt = std::log(std::max(t[s], kEps));
          const double lm = std::log(std::max(0.5 * (p[s] + t[s]), kEps));
          js += 0.5 * p[s] * (lp - lm) + 0.5 * t[s] * (lt - lm);
        }
        js_sum += js;
        ++n_points;
      }
      const int64_t y = hp.target[r];
      if (y >= 0) {
        const double w = hp.class_weight[y];
        w_sum += w;
        nll_sum += -w * std::log(std::max(out.pooled[r * C + y], kPoolEps));
        ++n_labels;
      }
    }
  }
  out.js = n_points ? js_sum / static_cast<double>(n_points) : 0.0;
  out.nll = n_labels ? nll_sum / w_sum : 0.0;
  out.loss = hp.js_weight * out.js + hp.nll_weight * out.nll;
  return out;
}

struct HeadGrad {
  Gradient heat, grade;
};

// Analytic gradient of grad_scale * loss, with torch.clamp's subgradients:
//   dJS_r/dp_s = 0.5 (lp - lm + [p >= eps] - [m >= eps])
//   dNLL/dpooled[r, y] = -w_y / (sum w * pooled) where pooled >= 1e-5, else 0
// then through the two softmaxes: dx_s = p_s (dp_s - sum_t p_t dp_t).
HeadGrad ref_head_grad(const HeadProblem& hp, const DVec& heat, const DVec& grade) {
  const int64_t S = hp.m.S(), C = hp.C, R = hp.rows();
  const int nd = hp.m.ndim;
  const HeadRef f = ref_head_forward(hp, heat, grade);
  int64_t n_points = 0;
  double w_sum = 0;
  for (int64_t r = 0; r < R; ++r) {
    n_points += hp.has_point(r) ? 1 : 0;
    if (hp.target[r] >= 0) w_sum += hp.class_weight[hp.target[r]];
  }
  const double gs = hp.grad_scale;
  HeadGrad g{{DVec(R * S, 0.0)}, {DVec(hp.N * C * S, 0.0)}};
  for (int64_t n = 0; n < hp.N; ++n) {
    const DVec q = ref_grade_softmax(hp, grade, n);
    DVec dq(C * S, 0.0);  // d loss / d q
    for (int64_t k = 0; k < hp.K; ++k) {
      const int64_t r = n * hp.K + k;
      const double* p = &f.probs[r * S];
      DVec dp(S, 0.0);  // d loss / d p
      if (hp.has_point(r)) {
        const DVec t = ref_gaussian(&hp.points[r * nd], hp.m, hp.sigma, true);
        const double c = hp.js_weight / static_cast<double>(n_points);
        for (int64_t s = 0; s < S; ++s) {
          const double m = 0.5 * (p[s] + t[s]);
          const double lp = std::log(std::max(p[s], kEps)), lm = std::log(std::max(m, kEps));
          dp[s] += c * 0.5 * (lp - lm + (p[s] >= kEps ? 1 : 0) - (m >= kEps ? 1 : 0));
        }
      }
      const int64_t y = hp.target[r];
      if (y >= 0 && f.pooled[r * C + y] >= kPoolEps) {
        const double a = -hp.nll_weight * hp.class_weight[y] / (w_sum * f.pooled[r * C + y]);
        for (int64_t s = 0; s < S; ++s) {
          dp[s] += a * q[y * S + s];
          dq[y * S + s] += a * p[s];
        }
      }
      double dot = 0;
      for (int64_t s = 0; s < S; ++s) dot += p[s] * dp[s];
      for (int64_t s = 0; s < S; ++s) {
        g.heat.value[r * S + s] = gs * p[s] * (dp[s] - dot);
        g.heat.note(gs * p[s] * dp[s]);
        g.heat.note(gs * p[s] * dot);
      }
    }
    for (int64_t s = 0; s < S; ++s) {
      double dot = 0;
      for (int64_t c = 0; c < C; ++c) dot += q[c * S + s] * dq[c * S + s];
      for (int64_t c = 0; c < C; ++c) {
        g.grade.value[(n * C + c) * S + s] = gs * q[c * S + s] * (dq[c * S + s] - dot);
        g.grade.note(gs * q[c * S + s] * dq[c * S + s]);
        g.grade.note(gs * q[c * S + s] * dot);
      }
    }
  }
  return g;
}

// grad_scale * d loss / d (one logit) by central differences of the double forward;
// NaN when steps h and 2h disagree, i.e. a clamp's kink lies within the step.
double central_difference(const HeadProblem& hp, DVec heat, DVec grade, bool wrt_heat, int64_t i,
                          double scale) {
  DVec& v = wrt_heat ? heat : grade;
  const double x0 = v[i];
  auto diff = [&](double h) {
    v[i] = x0 + h;
    const double up = ref_head_forward(hp, heat, grade).loss;
    v[i] = x0 - h;
    const double down = ref_head_forward(hp, heat, grade).loss;
    v[i] = x0;
    return hp.grad_scale * (up - down) / (2 * h);
  };
  const double d1 = diff(1e-4), d2 = diff(2e-4);
  return std::fabs(d1 - d2) > 1e-3 * scale + 1e-3 * std::fabs(d1) ? kNaN : d1;
}

// ---------------------------------------------------------------- kernel calls

struct DsntOut {
  int rc = -1;
  int64_t info = -1;
  Vec probs, px, norm;
};

DsntOut run_dsnt_forward(const Vec& logits, int64_t rows, const Map& m, bool want_probs = true,
                         bool want_px = true, bool want_norm = true) {
  DsntOut o;
  if (want_probs) o.probs.assign(rows * m.S(), kSentinel);
  if (want_px) o.px.assign(rows * m.ndim, kSentinel);
  if (want_norm) o.norm.assign(rows * m.ndim, kSentinel);
  o.rc = spinekit_dsnt_forward_cpu(logits.data(), rows, m.D, m.H, m.W, m.ndim,
                                   want_probs ? o.probs.data() : nullptr,
                                   want_px ? o.px.data() : nullptr,
                                   want_norm ? o.norm.data() : nullptr, &o.info);
  return o;
}

Vec run_dsnt_backward(const Vec& probs, const Vec& px, const float* grad_px,
                      const float* grad_norm, const float* grad_probs, int64_t rows,
                      const Map& m) {
  Vec out(rows * m.S(), kSentinel);
  spinekit_dsnt_backward_cpu(probs.data(), px.data(), grad_px, grad_norm, grad_probs, rows, m.D,
                             m.H, m.W, m.ndim, out.data());
  return out;
}

// Which optional outputs of the head loss to ask for (losses always).
struct HeadWant {
  bool coords = true, pooled = true, probs = true, grad_heat = true, grad_grade = true;
};

struct HeadOut {
  int rc = -1;
  int64_t info = -1;
  Vec losses, coords, pooled, probs, grad_heat, grad_grade;
};

float* data_or_null(Vec& v) { return v.empty() ? nullptr : v.data(); }

// offset > 0 runs the kernel on copies of the inputs and outputs that start that
// many floats past an aligned address (exercising unaligned loads and stores).
HeadOut run_head(const HeadProblem& hp, HeadWant want = {}, int offset = 0) {
  const int64_t R = hp.rows(), S = hp.m.S();
  HeadOut o;
  o.losses.assign(3, kSentinel);
  if (want.coords) o.coords.assign(R * hp.m.ndim, kSentinel);
  if (want.pooled) o.pooled.assign(R * hp.C, kSentinel);
  if (want.probs) o.probs.assign(R * S, kSentinel);
  if (want.grad_heat) o.grad_heat.assign(R * S, kSentinel);
  if (want.grad_grade) o.grad_grade.assign(hp.N * hp.C * S, kSentinel);
  if (offset == 0) {
    o.rc = spinekit_head_loss_cpu(
        hp.heat.data(), hp.grade.data(), hp.points.data(), hp.target.data(),
        hp.class_weight.data(), hp.N, hp.K, hp.C, hp.m.D, hp.m.H, hp.m.W, hp.m.ndim, hp.sigma,
        hp.js_weight, hp.nll_weight, hp.grad_scale, o.losses.data(), data_or_null(o.coords),
        data_or_null(o.pooled), data_or_null(o.probs), data_or_null(o.grad_heat),
        data_or_null(o.grad_grade), &o.info);
    return o;
  }
  auto shifted = [offset](const Vec& v) {
    Vec s(v.size() + offset, 0.0f);
    std::copy(v.begin(), v.end(), s.begin() + offset);
    return s;
  };
  auto shifted_out = [offset](Vec& v) { return v.empty() ? Vec() : Vec(v.size() + offset); };
  const Vec heat = shifted(hp.heat), grade = shifted(hp.grade);
  Vec probs = shifted_out(o.probs), gh = shifted_out(o.grad_heat), gg = shifted_out(o.grad_grade);
  auto ptr = [offset](Vec& v) { return v.empty() ? nullptr : v.data() + offset; };
  o.rc = spinekit_head_loss_cpu(
      heat.data() + offset, grade.data() + offset, hp.points.data(), hp.target.data(),
      hp.class_weight.data(), hp.N, hp.K, hp.C, hp.m.D, hp.m.H, hp.m.W, hp.m.ndim, hp.sigma,
      hp.js_weight, hp.nll_weight, hp.grad_scale, o.losses.data(), data_or_null(o.coords),
      data_or_null(o.pooled), ptr(probs), ptr(gh), ptr(gg), &o.info);
  auto unshift = [offset](const Vec& s, Vec& v) {
    if (!v.empty()) std::copy(s.begin() + offset, s.end(), v.begin());
  };
  unshift(probs, o.probs);
  unshift(gh, o.grad_heat);
  unshift(gg, o.grad_grade);
  return o;
}

// ---------------------------------------------------------------- DSNT

void test_dsnt(int64_t rows, const Map& m, Scale scale, bool neg_inf) {
  const int64_t S = m.S();
  const int nd = m.ndim;
  const std::string name = strf("dsnt rows=%lld %s%s%s", static_cast<long long>(rows),
                                m.str().c_str(), scale_name(scale), neg_inf ? " -inf" : "");
  Vec logits = random_logits(rows * S, scale);
  if (neg_inf) sprinkle_neg_inf(logits, rows, S);
  const DsntRef ref = ref_dsnt_forward(logits, rows, m);

  DsntOut f = run_dsnt_forward(logits, rows, m);
  report(name + " forward status", f.rc == SPINEKIT_OK, strf("returned %d", f.rc));
  expect_close(name + " probs", f.probs, ref.probs, kProbFloor);
  expect_close(name + " coords_px", f.px, ref.px, 1.0);
  expect_close(name + " coords_norm", f.norm, ref.norm, 1.0);
  if (neg_inf) {
    bool zero = true;
    for (int64_t i = 0; i < rows * S; ++i)
      if (logits[i] == -kInfF && f.probs[i] != 0.0f) zero = false;
    report(name + " -inf entries get probability 0", zero);
  }
  // Subsets of the outputs (the kernel has separate paths with and without probs).
  DsntOut coords_only = run_dsnt_forward(logits, rows, m, false, true, true);
  DsntOut norm_only = run_dsnt_forward(logits, rows, m, false, false, true);
  DsntOut probs_only = run_dsnt_forward(logits, rows, m, true, false, false);
  const std::string why =
      labelled("px without probs", compare(coords_only.px, ref.px, 1.0)) +
      labelled("norm without probs", compare(coords_only.norm, ref.norm, 1.0)) +
      labelled("norm alone", compare(norm_only.norm, ref.norm, 1.0)) +
      labelled("probs alone", compare(probs_only.probs, ref.probs, kProbFloor));
  report(name + " forward with NULL outputs", why.empty(), why);

  // Backward: each incoming gradient present or NULL (mask 0 = all NULL = zeros).
  const Vec gpx = random_normal(rows * nd, 1.0), gnorm = random_normal(rows * nd, 1.0),
            gprobs = random_normal(rows * S, 1.0);
  for (int mask = 0; mask < 8; ++mask) {
    const float* a = (mask & 1) ? gpx.data() : nullptr;
    const float* b = (mask & 2) ? gnorm.data() : nullptr;
    const float* c = (mask & 4) ? gprobs.data() : nullptr;
    const Vec got = run_dsnt_backward(f.probs, f.px, a, b, c, rows, m);
    const Gradient want = ref_dsnt_backward(f.probs, a, b, c, rows, m);
    expect_close(name + strf(" backward grad_px %s grad_norm %s grad_probs %s", a ? "set" : "NULL",
                             b ? "set" : "NULL", c ? "set" : "NULL"),
                 got, want.value, want.floor());
  }
}

void test_dsnt_nonfinite() {
  // Rows 1 (NaN), 3 (+inf) and 4 (all -inf) are bad; 0, 2, 5 must stay correct.
  const Map m{1, 4, 5, 2};
  const int64_t rows = 6, S = m.S();
  Vec logits = random_logits(rows * S, Scale::kUnit);
  logits[1 * S + 7] = kNaNF;
  logits[3 * S + 0] = kInfF;
  for (int64_t s = 0; s < S; ++s) logits[4 * S + s] = -kInfF;
  logits[5 * S + 2] = -kInfF;  // legal
  DsntOut f = run_dsnt_forward(logits, rows, m);
  expect_status("dsnt NaN/+inf/all -inf rows: status, info = first bad row", f.rc, f.info,
                SPINEKIT_NONFINITE_HEAT, 1);
  const DsntRef ref = ref_dsnt_forward(logits, rows, m);  // NaN on the bad rows
  expect_close("dsnt bad rows: probs NaN there, others correct", f.probs, ref.probs, kProbFloor);
  expect_close("dsnt bad rows: coords_px NaN there, others correct", f.px, ref.px, 1.0);
  expect_close("dsnt bad rows: coords_norm NaN there, others correct", f.norm, ref.norm, 1.0);

  struct Case {
    const char* what;
    int64_t row;
    Map m;
  };
  const Case cases[] = {{"NaN", 2, {1, 3, 4, 2}},
                        {"+inf", 0, {1, 3, 4, 2}},
                        {"all -inf", 4, {1, 3, 4, 2}},
                        {"NaN", 3, {2, 3, 4, 3}},
                        {"+inf", 1, {1, 1, 1, 2}}};
  for (const Case& c : cases) {
    const int64_t n = c.m.S(), R = 5;
    Vec x = random_logits(R * n, Scale::kUnit);
    const std::string what = c.what;
    if (what == "NaN") x[c.row * n + n / 2] = kNaNF;
    if (what == "+inf") x[c.row * n + n - 1] = kInfF;
    if (what == "all -inf")
      for (int64_t s = 0; s < n; ++s) x[c.row * n + s] = -kInfF;
    DsntOut o = run_dsnt_forward(x, R, c.m);
    const std::string name = strf("dsnt %s in row %lld of %s", c.what,
                                  static_cast<long long>(c.row), c.m.str().c_str());
    expect_status(name + ": status", o.rc, o.info, SPINEKIT_NONFINITE_HEAT, c.row);
    const DsntRef r = ref_dsnt_forward(x, R, c.m);
    const std::string why = labelled("probs", compare(o.probs, r.probs, kProbFloor)) +
                            labelled("px", compare(o.px, r.px, 1.0)) +
                            labelled("norm", compare(o.norm, r.norm, 1.0));
    report(name + ": outputs NaN in that row only", why.empty(), why);
  }
}

// ---------------------------------------------------------------- heatmap pooling

// Probability-like inputs (softmax rows) or signed random values.
void test_pool(int64_t N, int64_t K, int64_t C, int64_t S, bool probabilities, bool with_nan) {
  const std::string name = strf("pool [%lld,%lld,%lld,S=%lld]%s%s", static_cast<long long>(N),
                                static_cast<long long>(K), static_cast<long long>(C),
                                static_cast<long long>(S), probabilities ? "" : " signed",
                                with_nan ? " NaN in heat" : "");
  Vec heat = random_normal(N * K * S, 1.0), grade = random_normal(N * C * S, 1.0);
  if (probabilities) {
    auto soften = [S](Vec& v) {
      const DVec x = to_double(v);
      for (size_t r = 0; r < v.size() / S; ++r) {
        const DVec p = ref_softmax(row_of(x, r, S));
        for (int64_t s = 0; s < S; ++s) v[r * S + s] = static_cast<float>(p[s]);
      }
    };
    soften(heat);
    soften(grade);
  }
  if (with_nan) heat[(0 * K + K - 1) * S + S / 2] = kNaNF;  // pooled[0, K-1, :] is NaN
  const Vec gp = random_normal(N * K * C, 1.0);
  const PoolRef ref = ref_pool(heat, grade, gp, N, K, C, S);

  Vec pooled(N * K * C, kSentinel);
  int rc = spinekit_heatmap_pool_forward_cpu(heat.data(), grade.data(), N, K, C, S, pooled.data());
  report(name + " forward status", rc == SPINEKIT_OK, strf("returned %d", rc));
  expect_close(name + " forward", pooled, ref.pooled.value, ref.pooled.scale);

  for (int mask = 0; mask < 4; ++mask) {
    Vec gh = (mask & 1) ? Vec(N * K * S, kSentinel) : Vec();
    Vec gg = (mask & 2) ? Vec(N * C * S, kSentinel) : Vec();
    rc = spinekit_heatmap_pool_backward_cpu(heat.data(), grade.data(), gp.data(), N, K, C, S,
                                            data_or_null(gh), data_or_null(gg));
    std::string why = rc == SPINEKIT_OK ? "" : strf("returned %d; ", rc);
    if (mask & 1)
      why += labelled("grad_heat", compare(gh, ref.grad_heat.value, ref.grad_heat.scale));
    if (mask & 2)
      why += labelled("grad_grade", compare(gg, ref.grad_grade.value, ref.grad_grade.scale));
    report(name + strf(" backward grad_heat %s grad_grade %s", (mask & 1) ? "set" : "NULL",
                       (mask & 2) ? "set" : "NULL"),
           why.empty(), why);
  }
}

// ---------------------------------------------------------------- Gaussian targets

void test_gaussian(const Map& m, int64_t rows, double sigma) {
  const int nd = m.ndim;
  Vec pts = random_uniform(rows * nd, -0.5, 1.0);
  for (int64_t r = 0; r < rows; ++r)
    for (int j = 0; j < nd; ++j) pts[r * nd + j] *= static_cast<float>(m.size(j));
  // Special rows: an integer point, points outside the map, non-finite coordinates.
  std::vector<int64_t> nonfinite_rows;
  for (int64_t r = 0; r < rows; ++r) {
    float* p = &pts[r * nd];
    switch (r % 6) {
      case 1:  // on the grid: the raw peak is exactly 1
        for (int j = 0; j < nd; ++j) p[j] = static_cast<float>(std::floor(m.size(j) / 2));
        break;
      case 2:  // just outside
        p[0] = -2.3f;
        p[1] = static_cast<float>(m.size(1)) + 1.6f;
        break;
      case 3:  // far outside: the normalised row is one-hot at the border
        p[0] = 1.0e4f;
        break;
      case 4:  // non-finite in one coordinate (which one varies)
        p[(r / 6) % nd] = nonfinite(r / 6);
        nonfinite_rows.push_back(r);
        break;
      default:
        break;
    }
  }
  for (int normalize = 0; normalize < 2; ++normalize) {
    const std::string name = strf("gaussian rows=%lld %s sigma=%g %s", static_cast<long long>(rows),
                                  m.str().c_str(), sigma, normalize ? "normalised" : "raw");
    Vec out(rows * m.S(), kSentinel);
    int rc = spinekit_gaussian_render_cpu(pts.data(), rows, m.D, m.H, m.W, nd,
                                          static_cast<float>(sigma), normalize, out.data());
    report(name + " status", rc == SPINEKIT_OK, strf("returned %d", rc));
    DVec ref;
    for (int64_t r = 0; r < rows; ++r) {
      const DVec g = ref_gaussian(&pts[r * nd], m, sigma, normalize != 0);
      ref.insert(ref.end(), g.begin(), g.end());
    }
    expect_close(name, out, ref, kProbFloor);
    bool zeros = true;
    for (int64_t r : nonfinite_rows)
      for (int64_t s = 0; s < m.S(); ++s) zeros = zeros && out[r * m.S() + s] == 0.0f;
    report(name + strf(" non-finite points give zero rows (%zu rows)", nonfinite_rows.size()),
           zeros);
  }
}

// ---------------------------------------------------------------- head loss

HeadProblem make_head_problem(int64_t N, int64_t K, int64_t C, const Map& m, Scale scale,
                              bool neg_inf, float sigma = 1.5f) {
  HeadProblem hp{N, K, C, m, sigma, 0.7f, 1.3f, 1.5f, {}, {}, {}, {}, {}};
  const int64_t R = hp.rows(), S = m.S();
  const int nd = m.ndim;
  hp.heat = random_logits(R * S, scale);
  hp.grade = random_logits(N * C * S, scale);
  if (neg_inf) {
    sprinkle_neg_inf(hp.heat, R, S);
    // -inf in one class (never all) of some pixels.
    if (C > 1)
      for (int64_t n = 0; n < N; ++n)
        for (int64_t s = 0; s < S; ++s)
          if (random_index(3) == 0) hp.grade[(n * C + random_index(C)) * S + s] = -kInfF;
  }
  hp.points = random_uniform(R * nd, 0.0, 1.0);
  for (int64_t r = 0; r < R; ++r) {
    for (int j = 0; j < nd; ++j) hp.points[r * nd + j] *= static_cast<float>(m.size(j) - 1);
    if (r % 4 == 3)  // no target point: NaN, +inf or -inf in one coordinate
      hp.points[r * nd + (r / 4) % nd] = nonfinite(r / 4);
    if (r % 7 == 5) hp.points[r * nd] = -1.7f;  // outside the map
  }
  for (int64_t r = 0; r < R; ++r) hp.target.push_back(r % 5 == 4 ? -1 : random_index(C));
  for (int64_t c = 0; c < C; ++c) hp.class_weight.push_back(static_cast<float>(1 << c));
  if (C == 1) hp.class_weight[0] = 2.5f;
  return hp;
}

// Kernel outputs against the references; gradients also against central differences.
void check_head(const std::string& name, const HeadOut& o, const HeadRef& ref,
                const HeadGrad& grad) {
  const std::string why_status = o.rc == SPINEKIT_OK ? "" : strf("returned %d", o.rc);
  report(name + " status", o.rc == SPINEKIT_OK, why_status);
  expect_close(name + " losses (loss, JS, NLL)", o.losses, {ref.loss, ref.js, ref.nll}, 1.0);
  if (!o.coords.empty()) expect_close(name + " coords", o.coords, ref.coords, 1.0);
  if (!o.pooled.empty()) expect_close(name + " pooled", o.pooled, ref.pooled, 1.0);
  if (!o.probs.empty()) expect_close(name + " probs", o.probs, ref.probs, kProbFloor);
  if (!o.grad_heat.empty())
    expect_close(name + " grad_heat", o.grad_heat, grad.heat.value, grad.heat.floor());
  if (!o.grad_grade.empty())
    expect_close(name + " grad_grade", o.grad_grade, grad.grade.value, grad.grade.floor());
}

void check_head_central_differences(const std::string& name, const HeadProblem& hp,
                                    const HeadOut& o, const HeadGrad& grad, int entries) {
  const DVec heat = to_double(hp.heat), grade = to_double(hp.grade);
  for (int which = 0; which < 2; ++which) {
    const bool wrt_heat = which == 0;
    const Vec& logits = wrt_heat ? hp.heat : hp.grade;
    const Vec& got = wrt_heat ? o.grad_heat : o.grad_grade;
    const DVec& analytic = wrt_heat ? grad.heat.value : grad.grade.value;
    const double scale = wrt_heat ? grad.heat.floor() : grad.grade.floor();
    std::string why_kernel, why_ref;
    int checked = 0, skipped = 0;
    for (int attempt = 0; checked < entries && attempt < 10 * entries; ++attempt) {
      const int64_t i = random_index(static_cast<int64_t>(logits.size()));
      if (!std::isfinite(logits[i])) continue;  // -inf: no derivative
      const double fd = central_difference(hp, heat, grade, wrt_heat, i, scale);
      if (std::isnan(fd)) {
        ++skipped;
        continue;
      }
      ++checked;
      const double tol = kTol * std::max(std::fabs(fd), scale);
      if (why_kernel.empty() && !(std::fabs(got[i] - fd) <= tol))
        why_kernel = strf("[%lld] kernel %.9g, central difference %.9g (tolerance %.3g)",
                          static_cast<long long>(i), got[i], fd, tol);
      if (why_ref.empty() && !(std::fabs(analytic[i] - fd) <= 1e-6 * scale + 1e-5 * std::fabs(fd)))
        why_ref = strf("[%lld] reference %.9g, central difference %.9g", static_cast<long long>(i),
                       analytic[i], fd);
    }
    const char* wrt = wrt_heat ? "grad_heat" : "grad_grade";
    if (checked < entries / 2) {
      why_kernel += strf(" only %d entries usable (%d near a clamp kink)", checked, skipped);
      why_ref += " too few usable entries";
    }
    report(name + strf(" %s vs central differences (%d entries)", wrt, checked),
           why_kernel.empty(), why_kernel);
    report(name + strf(" reference %s vs central differences (test self-check)", wrt),
           why_ref.empty(), why_ref);
  }
}

void test_head_loss(int64_t N, int64_t K, int64_t C, const Map& m, Scale scale, bool neg_inf,
                    float sigma = 1.5f) {
  const HeadProblem hp = make_head_problem(N, K, C, m, scale, neg_inf, sigma);
  const std::string name = "head loss " + hp.str() + scale_name(scale) + (neg_inf ? " -inf" : "");
  const DVec heat = to_double(hp.heat), grade = to_double(hp.grade);
  const HeadRef ref = ref_head_forward(hp, heat, grade);
  const HeadGrad grad = ref_head_grad(hp, heat, grade);
  const HeadOut o = run_head(hp);
  check_head(name, o, ref, grad);
  if (o.rc == SPINEKIT_OK) check_head_central_differences(name, hp, o, grad, 8);
  if (neg_inf) {
    bool zero = true;
    for (size_t i = 0; i < hp.heat.size(); ++i)
      if (hp.heat[i] == -kInfF) zero = zero && o.probs[i] == 0.0f && o.grad_heat[i] == 0.0f;
    report(name + " -inf heat entries: probability and gradient 0", zero);
  }
}

// Optional outputs NULL in several combinations; unaligned buffers.
void test_head_loss_outputs() {
  const HeadProblem hp = make_head_problem(2, 3, 3, {1, 9, 11, 2}, Scale::kUnit, false);
  const DVec heat = to_double(hp.heat), grade = to_double(hp.grade);
  const HeadRef ref = ref_head_forward(hp, heat, grade);
  const HeadGrad grad = ref_head_grad(hp, heat, grade);
  struct Case {
    const char* what;
    HeadWant want;
  };
  const Case cases[] = {
      {"losses only", {false, false, false, false, false}},
      {"coords+pooled only", {true, true, false, false, false}},
      {"probs only", {false, false, true, false, false}},
      {"grad_heat only", {false, false, false, true, false}},
      {"grad_grade only", {false, false, false, false, true}},
      {"both gradients, no probs", {false, false, false, true, true}},
      {"probs+grad_grade", {false, false, true, false, true}},
  };
  for (const Case& c : cases)
    check_head("head loss " + hp.str() + " " + c.what, run_head(hp, c.want), ref, grad);
  check_head("head loss " + hp.str() + " unaligned buffers", run_head(hp, {}, 1), ref, grad);
}

// Rows without a point and without a grade label contribute nothing; classes weigh the NLL;
// js_weight, nll_weight and grad_scale scale what head_loss.h says they scale.
void test_head_loss_semantics() {
  const Map m{1, 6, 7, 2};
  HeadProblem hp = make_head_problem(2, 4, 3, m, Scale::kUnit, false);
  const int64_t S = m.S(), R = hp.rows();
  // Rows 1 and 6: no point (NaN / +inf in y) and no label.
  hp.points[1 * 2 + 0] = kNaNF;
  hp.points[6 * 2 + 1] = kInfF;
  hp.target[1] = hp.target[6] = -1;
  // Row 2 has a point but no label; row 3 a label but no point.
  hp.target[2] = -1;
  hp.points[3 * 2 + 1] = kNaNF;
  hp.target[3] = 2;
  hp.points[2 * 2 + 0] = 2.5f;
  const HeadOut base = run_head(hp);
  // Gradient floors of this problem (weights 0.7, 1.3, grad_scale 1.5).
  const HeadGrad ref_mixed = ref_head_grad(hp, to_double(hp.heat), to_double(hp.grade));
  const double floor_h = ref_mixed.heat.floor(), floor_g = ref_mixed.grade.floor();
  {
    const DVec heat = to_double(hp.heat), grade = to_double(hp.grade);
    check_head("head loss excluded rows " + hp.str(), base, ref_head_forward(hp, heat, grade),
               ref_head_grad(hp, heat, grade));
  }
  bool zero = true;
  for (int64_t r : {1, 6})
    for (int64_t s = 0; s < S; ++s) zero = zero && base.grad_heat[r * S + s] == 0.0f;
  report("head loss: rows with no point and target -1 get zero grad_heat", zero);
  HeadProblem changed = hp;
  for (int64_t r : {1, 6})
    for (int64_t s = 0; s < S; ++s)
      changed.heat[r * S + s] = static_cast<float>(3 * std::sin(s + r));
  const HeadOut o2 = run_head(changed);
  expect_close("head loss: their logits do not change the losses", o2.losses,
               to_double(base.losses), 1.0, 1e-6);

  // No points and no labels anywhere: all zero.
  HeadProblem empty = hp;
  for (float& p : empty.points) p = kNaNF;
  for (int64_t& t : empty.target) t = -1;
  const HeadOut e = run_head(empty);
  report("head loss: no points, no labels: status", e.rc == SPINEKIT_OK, strf("returned %d", e.rc));
  expect_close("head loss: no points, no labels: losses 0", e.losses, {0, 0, 0}, 1e-30);
  expect_close("head loss: no points, no labels: grad_heat 0", e.grad_heat, DVec(R * S, 0.0),
               1e-30);
  expect_close("head loss: no points, no labels: grad_grade 0", e.grad_grade,
               DVec(hp.N * hp.C * S, 0.0), 1e-30);
  HeadProblem no_points = hp;
  for (float& p : no_points.points) p = kNaNF;
  {
    const DVec heat = to_double(hp.heat), grade = to_double(hp.grade);
    const HeadOut o = run_head(no_points);
    check_head("head loss no points (JS = 0) " + hp.str(), o,
               ref_head_forward(no_points, heat, grade), ref_head_grad(no_points, heat, grade));
    report("head loss no points: JS exactly 0", o.losses[1] == 0.0f, strf("JS = %g", o.losses[1]));
    HeadProblem no_labels = hp;
    for (int64_t& t : no_labels.target) t = -1;
    const HeadOut o3 = run_head(no_labels);
    check_head("head loss no labels (NLL = 0) " + hp.str(), o3,
               ref_head_forward(no_labels, heat, grade), ref_head_grad(no_labels, heat, grade));
    report("head loss no labels: NLL exactly 0", o3.losses[2] == 0.0f,
           strf("NLL = %g", o3.losses[2]));
  }

  // Class weights: NLL is a weighted mean, so scaling all weights changes nothing,
  // but changing their ratios does (and must match the reference).
  HeadProblem scaled = hp, uniform = hp;
  for (float& w : scaled.class_weight) w *= 3.0f;
  for (float& w : uniform.class_weight) w = 1.0f;
  const HeadOut os = run_head(scaled), ou = run_head(uniform);
  expect_close("head loss: class weights x3 leave the losses unchanged", os.losses,
               to_double(base.losses), 1.0);
  expect_close("head loss: class weights x3 leave grad_grade unchanged", os.grad_grade,
               to_double(base.grad_grade), floor_g);
  {
    const DVec heat = to_double(hp.heat), grade = to_double(hp.grade);
    const HeadRef ru = ref_head_forward(uniform, heat, grade);
    const HeadRef rb = ref_head_forward(hp, heat, grade);
    report("head loss: weights (1,2,4) and (1,1,1) give different NLL (test premise)",
           std::fabs(ru.nll - rb.nll) > 1e-3, strf("%g vs %g", ru.nll, rb.nll));
    check_head("head loss uniform class weights " + hp.str(), ou, ru,
               ref_head_grad(uniform, heat, grade));
  }

  // Loss weights and grad_scale: gradients are linear in (js_weight, nll_weight) and
  // proportional to grad_scale; JS and NLL do not depend on any of them.
  auto with = [&hp](float jsw, float nllw, float gs) {
    HeadProblem p = hp;
    p.js_weight = jsw, p.nll_weight = nllw, p.grad_scale = gs;
    return run_head(p);
  };
  const HeadOut js_only = with(1, 0, 1), nll_only = with(0, 1, 1), mixed = with(0.7f, 1.3f, 1.5f),
                flipped = with(0.7f, 1.3f, -2.0f), none = with(0.7f, 1.3f, 0.0f);
  DVec want_h(R * S), want_g(hp.N * hp.C * S);
  for (size_t i = 0; i < want_h.size(); ++i)
    want_h[i] = 1.5 * (0.7 * js_only.grad_heat[i] + 1.3 * nll_only.grad_heat[i]);
  for (size_t i = 0; i < want_g.size(); ++i)
    want_g[i] = 1.5 * (0.7 * js_only.grad_grade[i] + 1.3 * nll_only.grad_grade[i]);
  expect_close("head loss: grad_heat = grad_scale (js_w dJS + nll_w dNLL)", mixed.grad_heat, want_h,
               floor_h);
  expect_close("head loss: grad_grade = grad_scale (js_w dJS + nll_w dNLL)", mixed.grad_grade,
               want_g, floor_g);
  expect_close("head loss: grad_grade of the JS term alone is 0", js_only.grad_grade,
               DVec(want_g.size(), 0.0), 1e-30);
  const double js = js_only.losses[1], nll = js_only.losses[2];
  expect_close("head loss: loss = js_w JS + nll_w NLL; JS, NLL independent of the weights",
               mixed.losses, {0.7f * js + 1.3f * nll, js, nll}, 1.0);
  expect_close("head loss: losses independent of grad_scale", flipped.losses,
               to_double(mixed.losses), 1.0, 1e-6);
  DVec flip_h(R * S);
  for (size_t i = 0; i < flip_h.size(); ++i) flip_h[i] = -2.0 / 1.5 * mixed.grad_heat[i];
  expect_close("head loss: grad_scale -2 vs 1.5 scales grad_heat", flipped.grad_heat, flip_h,
               floor_h * 2.0 / 1.5);
  const std::string why =
      labelled("grad_heat", compare(none.grad_heat, DVec(R * S, 0.0), 1e-30)) +
      labelled("grad_grade", compare(none.grad_grade, DVec(want_g.size(), 0.0), 1e-30));
  report("head loss: grad_scale 0 gives zero gradients", why.empty(), why);
}

void test_head_loss_errors() {
  const Map m{1, 4, 5, 2};
  const HeadProblem base = make_head_problem(2, 3, 3, m, Scale::kUnit, false);
  const int64_t S = m.S();
  auto status = [](const std::string& name, HeadProblem p, int want_rc, int64_t want_info) {
    const HeadOut o = run_head(p);
    expect_status("head loss error: " + name, o.rc, o.info, want_rc, want_info);
  };
  {
    HeadProblem p = base;
    p.heat[4 * S + 7] = kNaNF;
    status("NaN in heat row 4", p, SPINEKIT_NONFINITE_HEAT, 4);
  }
  {
    HeadProblem p = base;
    p.heat[2 * S + S - 1] = kInfF;
    status("+inf in heat row 2", p, SPINEKIT_NONFINITE_HEAT, 2);
  }
  {
    HeadProblem p = base;
    for (int64_t s = 0; s < S; ++s) p.heat[5 * S + s] = -kInfF;
    status("heat row 5 all -inf", p, SPINEKIT_NONFINITE_HEAT, 5);
  }
  {
    HeadProblem p = base;  // a row that enters neither loss still needs a softmax
    p.points[3 * 2] = kNaNF;
    p.target[3] = -1;
    p.heat[3 * S] = kNaNF;
    status("NaN in heat row 3 (no point, no label)", p, SPINEKIT_NONFINITE_HEAT, 3);
  }
  {
    HeadProblem p = base;
    p.grade[(1 * 3 + 2) * S + 6] = kNaNF;
    status("NaN in grade (n=1, c=2, s=6)", p, SPINEKIT_NONFINITE_GRADE, 1 * S + 6);
  }
  {
    HeadProblem p = base;
    p.grade[(0 * 3 + 0) * S + 11] = kInfF;
    status("+inf in grade (n=0, c=0, s=11)", p, SPINEKIT_NONFINITE_GRADE, 11);
  }
  {
    HeadProblem p = base;
    for (int64_t c = 0; c < 3; ++c) p.grade[(1 * 3 + c) * S + 3] = -kInfF;
    status("grade (n=1, s=3) -inf in every class", p, SPINEKIT_NONFINITE_GRADE, 1 * S + 3);
  }
  {
    HeadProblem p = base;  // legal: -inf in some classes of a pixel
    p.grade[(1 * 3 + 0) * S + 3] = p.grade[(1 * 3 + 2) * S + 3] = -kInfF;
    const HeadOut o = run_head(p);
    const DVec heat = to_double(p.heat), grade = to_double(p.grade);
    check_head("head loss: -inf in two of three classes of a pixel", o,
               ref_head_forward(p, heat, grade), ref_head_grad(p, heat, grade));
  }
  {
    HeadProblem p = base;
    p.target[5] = 3;
    status("target = C in row 5", p, SPINEKIT_BAD_TARGET, 5);
  }
  {
    HeadProblem p = base;
    p.target[0] = -2;
    status("target = -2 in row 0", p, SPINEKIT_BAD_TARGET, 0);
  }
  {
    HeadProblem p = base;
    p.target[3] = 1000;
    status("target = 1000 in row 3", p, SPINEKIT_BAD_TARGET, 3);
  }
}

// ---------------------------------------------------------------- threads

// Every kernel on 1, 2 and 3 threads: outputs must be bitwise identical.
void test_threads() {
  const Map m{1, 70, 60, 2};  // several tiles / chunks per sample
  const HeadProblem hp = make_head_problem(3, 5, 3, m, Scale::kUnit, false);
  const int64_t S = m.S(), R = hp.rows();
  const Vec gpx = random_normal(R * 2, 1.0), gprobs = random_normal(R * S, 1.0);
  const int64_t pool_s = 20000;
  const Vec pool_heat = random_uniform(2 * 5 * pool_s, 0, 1e-4);
  const Vec pool_grade = random_uniform(2 * 3 * pool_s, 0, 1);
  const Vec pool_gp = random_normal(2 * 5 * 3, 1.0);
  const Vec pts = random_uniform(R * 2, 0, 60);

  std::vector<std::vector<Vec>> results;
  std::string why;
  for (int threads : {1, 2, 3}) {
    spinekit_set_num_threads(threads);
    if (spinekit_get_num_threads() != threads)
      why += strf("get_num_threads() = %d after set_num_threads(%d); ", spinekit_get_num_threads(),
                  threads);
    std::vector<Vec> out;
    const HeadOut h = run_head(hp);
    for (const Vec* v : {&h.losses, &h.coords, &h.pooled, &h.probs, &h.grad_heat, &h.grad_grade})
      out.push_back(*v);
    const DsntOut d = run_dsnt_forward(hp.heat, R, m);
    out.push_back(d.probs);
    out.push_back(d.px);
    out.push_back(run_dsnt_backward(d.probs, d.px, gpx.data(), nullptr, gprobs.data(), R, m));
    Vec pooled(2 * 5 * 3), gh(pool_heat.size()), gg(pool_grade.size());
    spinekit_heatmap_pool_forward_cpu(pool_heat.data(), pool_grade.data(), 2, 5, 3, pool_s,
                                      pooled.data());
    spinekit_heatmap_pool_backward_cpu(pool_heat.data(), pool_grade.data(), pool_gp.data(), 2, 5,
                                       3, pool_s, gh.data(), gg.data());
    out.push_back(pooled);
    out.push_back(gh);
    out.push_back(gg);
    Vec gauss(R * S);
    spinekit_gaussian_render_cpu(pts.data(), R, 1, m.H, m.W, 2, 2.0f, 1, gauss.data());
    out.push_back(gauss);
    results.push_back(out);
  }
  spinekit_set_num_threads(0);
  const char* names[] = {"head losses", "head coords", "head pooled", "head probs",
                         "head grad_heat", "head grad_grade", "dsnt probs", "dsnt coords",
                         "dsnt backward", "pool forward", "pool grad_heat", "pool grad_grade",
                         "gaussian"};
  for (size_t i = 0; i < results[0].size(); ++i)
    for (size_t t = 1; t < results.size(); ++t)
      if (!bits_equal(results[0][i], results[t][i]))
        why += strf("%s differs between 1 and %zu threads; ", names[i], t + 1);
  report("1, 2 and 3 threads give bitwise identical outputs", why.empty(), why);
}

}  // namespace

int main() {
  // DSNT: K = 1, odd sizes, 1x1 maps, D = 1 with ndim = 3, 2D and 3D, large logits, -inf.
  test_dsnt(10, {1, 16, 16, 2}, Scale::kUnit, false);  // [2, 5, 16, 16]
  test_dsnt(1, {1, 7, 13, 2}, Scale::kUnit, false);    // K = 1, odd sizes
  test_dsnt(3, {1, 1, 1, 2}, Scale::kUnit, false);     // 1x1
  test_dsnt(2, {1, 1, 1, 3}, Scale::kUnit, false);     // 1x1x1
  test_dsnt(6, {1, 6, 7, 3}, Scale::kUnit, false);     // D = 1, ndim = 3
  test_dsnt(3, {5, 6, 7, 3}, Scale::kUnit, false);     // [1, 3, 5, 6, 7]
  test_dsnt(6, {1, 9, 11, 2}, Scale::kLarge, false);
  test_dsnt(2, {4, 9, 10, 3}, Scale::kLarge, false);
  test_dsnt(6, {1, 8, 8, 2}, Scale::kUnit, true);
  test_dsnt(4, {3, 5, 4, 3}, Scale::kLarge, true);
  test_dsnt(3, {1, 3, 300, 2}, Scale::kUnit, false);  // long lines
  test_dsnt_nonfinite();

  test_pool(2, 5, 3, 256, true, false);
  test_pool(1, 1, 1, 1, true, false);
  test_pool(1, 1, 3, 7 * 13, false, false);
  test_pool(2, 3, 4, 20000, true, false);  // several chunks per sample
  test_pool(2, 3, 2, 20000, false, false);
  test_pool(2, 3, 3, 64, true, true);

  test_gaussian({1, 7, 13, 2}, 12, 1.7);
  test_gaussian({1, 16, 16, 2}, 10, 0.5);
  test_gaussian({5, 6, 7, 3}, 12, 1.2);
  test_gaussian({1, 6, 7, 3}, 12, 2.0);  // D = 1, ndim = 3
  test_gaussian({1, 1, 1, 2}, 6, 1.0);
  test_gaussian({3, 40, 50, 3}, 6, 4.0);

  test_head_loss(2, 5, 3, {1, 16, 16, 2}, Scale::kUnit, false);
  test_head_loss(1, 1, 1, {1, 7, 13, 2}, Scale::kUnit, false);  // K = 1, C = 1
  test_head_loss(1, 1, 3, {1, 7, 13, 2}, Scale::kUnit, false, 0.7f);
  test_head_loss(2, 2, 3, {1, 1, 1, 2}, Scale::kUnit, false);   // 1x1
  test_head_loss(2, 3, 3, {1, 6, 7, 3}, Scale::kUnit, false);   // D = 1, ndim = 3
  test_head_loss(1, 3, 3, {5, 6, 7, 3}, Scale::kUnit, false);   // 3D
  test_head_loss(2, 3, 1, {3, 4, 5, 3}, Scale::kUnit, false);   // 3D, C = 1
  test_head_loss(2, 3, 3, {1, 9, 11, 2}, Scale::kLarge, false);
  test_head_loss(1, 3, 3, {4, 5, 6, 3}, Scale::kLarge, false);
  test_head_loss(2, 3, 3, {1, 8, 8, 2}, Scale::kUnit, true);
  test_head_loss(2, 3, 3, {1, 8, 8, 2}, Scale::kLarge, true);
  test_head_loss(1, 2, 3, {1, 70, 60, 2}, Scale::kUnit, false, 3.0f);  // several tiles
  test_head_loss_outputs();
  test_head_loss_semantics();
  test_head_loss_errors();

  test_threads();

  std::printf("%d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}
