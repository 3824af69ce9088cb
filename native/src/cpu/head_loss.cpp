// Fused loss of the lumbar one-stage head on the CPU.
//
// Three passes over the logits of a sample:
//   A (per row n,k):   max and log-sum-exp of the heat logits; the separable
//                      Gaussian target of the row's point as three 1D tables.
//   B (per n, tile):   p, grade softmax q, JS terms, pooled p.q, first moments
//                      and sum_s p * dJS/dp_s, as per-tile partials.
//   -- partials reduced in a fixed order; losses, coords, pooled, and the
//      per-row coefficients of the gradient.
//   C (per n, tile):   p and q again, gradients w.r.t. both logit tensors.
// A tile is a run of whole image lines (constant h, d), so coordinates are
// the loop index along w plus per-line constants. Tiles are fixed by the
// shape, not by the thread count, so every thread count gives the same bits.
#include "spinekit/head_loss.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "cpu/gaussian.h"
#include "cpu/parallel.h"
#include "cpu/row_stats.h"
#include "cpu/vec_math.h"

namespace spinekit {
namespace {

constexpr float kEps = 1e-8f;
constexpr float kPoolEps = 1e-5f;
constexpr int64_t kTileElems = 2048;
const float kLogEps = std::log(kEps);

// log sum_s exp(x_s - mx), accumulated per chunk in float and across chunks in double.
double log_sum_exp_shifted(const float* x, int64_t n, float mx) {
  double sum = 0;
  for (int64_t s0 = 0; s0 < n; s0 += 1024) {
    const int64_t len = std::min<int64_t>(1024, n - s0);
    float acc = 0;
#pragma omp simd reduction(+ : acc)
    for (int64_t i = 0; i < len; ++i) acc += vexp(x[s0 + i] - mx);
    sum += acc;
  }
  return std::log(sum);
}

// Softmax over the C classes for the W pixels of one line: q[c*qstride + w].
// Returns the index w of the first pixel without a defined softmax, or -1.
int64_t grade_softmax_line(const float* grade_line, int64_t S, int64_t C, int64_t W, float* q,
                           int64_t qstride, float* qmax) {
  for (int64_t w = 0; w < W; ++w) qmax[w] = -std::numeric_limits<float>::infinity();
  int nan = 0;
  for (int64_t c = 0; c < C; ++c) {
    const float* g = grade_line + c * S;
#pragma omp simd reduction(| : nan)
    for (int64_t w = 0; w < W; ++w) {
      qmax[w] = g[w] > qmax[w] ? g[w] : qmax[w];
      nan |= g[w] != g[w];
    }
  }
  int64_t bad = -1;
  int nonfinite = nan;
#pragma omp simd reduction(| : nonfinite)
  for (int64_t w = 0; w < W; ++w) nonfinite |= !(qmax[w] - qmax[w] == 0.0f);
  if (nonfinite) {  // rare: find the first pixel without a softmax
    for (int64_t w = 0; w < W && bad < 0; ++w) {
      bool b = !std::isfinite(qmax[w]);
      for (int64_t c = 0; c < C; ++c) b = b || std::isnan(grade_line[c * S + w]);
      if (b) bad = w;
    }
  }
  float* sum = qmax + W;
  for (int64_t w = 0; w < W; ++w) sum[w] = 0;
  for (int64_t c = 0; c < C; ++c) {
    const float* g = grade_line + c * S;
    float* qc = q + c * qstride;
#pragma omp simd
    for (int64_t w = 0; w < W; ++w) {
      qc[w] = vexp(g[w] - qmax[w]);
      sum[w] += qc[w];
    }
  }
#pragma omp simd
  for (int64_t w = 0; w < W; ++w) sum[w] = 1.0f / sum[w];
  for (int64_t c = 0; c < C; ++c) {
    float* qc = q + c * qstride;
#pragma omp simd
    for (int64_t w = 0; w < W; ++w) qc[w] *= sum[w];
  }
  return bad;
}

struct Shape {
  int64_t N, K, C, D, H, W, S, lines, tile_lines, tiles;
  int ndim;
};

}  // namespace
}  // namespace spinekit

using namespace spinekit;

extern "C" int spinekit_head_loss_cpu(const float* heat, const float* grade, const float* points,
                                      const int64_t* target, const float* class_weight,
                                      int64_t N, int64_t K, int64_t C, int64_t D, int64_t H,
                                      int64_t W, int ndim, float sigma, float js_weight,
                                      float nll_weight, float grad_scale, float* losses,
                                      float* coords, float* pooled, float* probs,
                                      float* grad_heat, float* grad_grade, int64_t* info) {
  Shape sh;
  sh.N = N, sh.K = K, sh.C = C, sh.D = D, sh.H = H, sh.W = W, sh.S = D * H * W;
  sh.lines = D * H;
  sh.tile_lines = std::max<int64_t>(1, kTileElems / W);
  sh.tiles = (sh.lines + sh.tile_lines - 1) / sh.tile_lines;
  sh.ndim = ndim;
  const int64_t S = sh.S, R = N * K, T = sh.tiles;
  const int32_t W32 = static_cast<int32_t>(W);  // int32 index: AVX2 converts it to float

  for (int64_t r = 0; r < R; ++r) {
    const int64_t y = target ? target[r] : -1;
    if (y < -1 || y >= C) {
      if (info) *info = r;
      return SPINEKIT_BAD_TARGET;
    }
  }

  // Pass A.
  std::vector<float> off(R);  // log p = x - off
  std::vector<GaussPoint> gauss(R);
  std::vector<char> bad_row(R, 0);
  parallel_for(R, [&](int64_t r) {
    const float* x = heat + r * S;
    RowMax rm = row_max(x, S);
    if (!rm.finite()) {
      bad_row[r] = 1;
      return;
    }
    off[r] = static_cast<float>(rm.max + log_sum_exp_shifted(x, S, rm.max));
    if (points) gauss[r].build(points + r * ndim, ndim, D, H, W, sigma, true);
  });
  for (int64_t r = 0; r < R; ++r)
    if (bad_row[r]) {
      if (info) *info = r;
      return SPINEKIT_NONFINITE_HEAT;
    }

  // JS coefficient of the gradient, known before pass B: pass B writes the JS part of
  // grad_heat (it has the log in hand) and pass C adds the rest without another log.
  int64_t n_pts = 0;
  for (int64_t r = 0; r < R; ++r) n_pts += gauss[r].present ? 1 : 0;
  std::vector<float> cj(R, 0.0f);
  for (int64_t r = 0; r < R; ++r)
    if (gauss[r].present)
      cj[r] = static_cast<float>(grad_scale * js_weight / static_cast<double>(n_pts));

  // Pass B. Partials per (n, tile): pooled K*C, moments K*3, js K, sum p*dJS/dp K.
  const int64_t stride = K * (C + 5);
  std::vector<double> part(static_cast<size_t>(N * T * stride), 0.0);
  std::vector<int64_t> bad_grade(static_cast<size_t>(N * T), -1);
  parallel_for(N * T, [&](int64_t task) {
    const int64_t n = task / T, tile = task % T;
    const int64_t l0 = tile * sh.tile_lines, l1 = std::min(sh.lines, l0 + sh.tile_lines);
    std::vector<float> q(C * W), qtmp(2 * W), pbuf(W), gscratch(W);
    double* pp = part.data() + task * stride;
    double* ppool = pp;
    double* pmom = pp + K * C;
    double* pjs = pmom + K * 3;
    double* pspjs = pjs + K;
    for (int64_t line = l0; line < l1; ++line) {
      const int64_t h = line % H, d = line / H;
      // q goes straight into grad_grade when there is one: pass C reads it from there
      // and overwrites it with the gradient.
      float* qline = grad_grade ? grad_grade + n * C * S + line * W : q.data();
      const int64_t qs = grad_grade ? S : W;
      int64_t b = grade_softmax_line(grade + n * C * S + line * W, S, C, W, qline, qs, qtmp.data());
      if (b >= 0 && bad_grade[task] < 0) bad_grade[task] = n * S + line * W + b;
      for (int64_t k = 0; k < K; ++k) {
        const int64_t r = n * K + k;
        const float* x = heat + r * S + line * W;
        const float o = off[r];
        float* pb = pbuf.data();
        float sp = 0, spx = 0;
        const GaussPoint& g = gauss[r];
        if (g.present) {
          const float gyz = g.y.val[h] * g.z.val[ndim == 3 ? d : 0];
          const float lgyz = g.y.logv[h] + g.z.logv[ndim == 3 ? d : 0];
          const float* gx = g.x.val.data();
          const float* lgx = g.x.logv.data();
          float js = 0, spjs = 0;
          const float c_js = cj[r];
          float* gh = grad_heat ? grad_heat + r * S + line * W : gscratch.data();
#pragma omp simd reduction(+ : sp, spx, js, spjs)
          for (int32_t w = 0; w < W32; ++w) {
            const float lraw = x[w] - o;
            const float p = vexp(lraw);
            pb[w] = p;
            sp += p;
            spx += p * static_cast<float>(w);
            const float lp = lraw > kLogEps ? lraw : kLogEps;
            const float t = gx[w] * gyz;
            const float ltr = lgx[w] + lgyz;
            const float lt = ltr > kLogEps ? ltr : kLogEps;
            const float m = 0.5f * (p + t);
            const float lm = vlog(m > kEps ? m : kEps);
            js += 0.5f * (p * (lp - lm) + t * (lt - lm));
            const float pjg =
                p * (0.5f * (lp - lm + (p >= kEps ? 1.0f : 0.0f) - (m >= kEps ? 1.0f : 0.0f)));
            spjs += pjg;
            gh[w] = c_js * pjg;  // JS part of d loss / d heat (scratch when not wanted)
          }
          pjs[k] += js;
          pspjs[k] += spjs;
        } else {
#pragma omp simd reduction(+ : sp, spx)
          for (int32_t w = 0; w < W32; ++w) {
            const float p = vexp(x[w] - o);
            pb[w] = p;
            sp += p;
            spx += p * static_cast<float>(w);
          }
        }
        for (int64_t c = 0; c < C; ++c) {
          const float* qc = qline + c * qs;
          float acc = 0;
#pragma omp simd reduction(+ : acc)
          for (int64_t w = 0; w < W; ++w) acc += pb[w] * qc[w];
          ppool[k * C + c] += acc;
        }
        pmom[k * 3 + 0] += spx;
        pmom[k * 3 + 1] += static_cast<double>(sp) * static_cast<double>(h);
        pmom[k * 3 + 2] += static_cast<double>(sp) * static_cast<double>(d);
      }
    }
  });
  for (int64_t i = 0; i < N * T; ++i)
    if (bad_grade[i] >= 0) {
      if (info) *info = bad_grade[i];
      return SPINEKIT_NONFINITE_GRADE;
    }

  // Reduce the partials in tile order.
  std::vector<double> pool_r(R * C, 0.0), mom_r(R * 3, 0.0), js_r(R, 0.0), spjs_r(R, 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t tile = 0; tile < T; ++tile) {
      const double* pp = part.data() + (n * T + tile) * stride;
      for (int64_t k = 0; k < K; ++k) {
        const int64_t r = n * K + k;
        for (int64_t c = 0; c < C; ++c) pool_r[r * C + c] += pp[k * C + c];
        for (int j = 0; j < 3; ++j) mom_r[r * 3 + j] += pp[K * C + k * 3 + j];
        js_r[r] += pp[K * C + K * 3 + k];
        spjs_r[r] += pp[K * C + K * 4 + k];
      }
    }
  double js_sum = 0, nll_sum = 0, w_sum = 0;
  for (int64_t r = 0; r < R; ++r) {
    if (gauss[r].present) js_sum += js_r[r];
    const int64_t y = target ? target[r] : -1;
    if (y >= 0) {
      const double wy = class_weight ? class_weight[y] : 1.0;
      w_sum += wy;
      nll_sum += -wy * std::log(std::max(pool_r[r * C + y], static_cast<double>(kPoolEps)));
    }
  }
  const double JS = n_pts ? js_sum / static_cast<double>(n_pts) : 0.0;
  const double NLL = w_sum > 0 ? nll_sum / w_sum : 0.0;
  if (losses) {
    losses[0] = static_cast<float>(js_weight * JS + nll_weight * NLL);
    losses[1] = static_cast<float>(JS);
    losses[2] = static_cast<float>(NLL);
  }
  if (coords)
    for (int64_t r = 0; r < R; ++r)
      for (int j = 0; j < ndim; ++j) coords[r * ndim + j] = static_cast<float>(mom_r[r * 3 + j]);
  if (pooled)
    for (int64_t i = 0; i < R * C; ++i) pooled[i] = static_cast<float>(pool_r[i]);
  if (!grad_heat && !grad_grade && !probs) return SPINEKIT_OK;

  // Per-row gradient coefficients: dL/dp_s = cj * dJS_r/dp_s + dp * q_y(s).
  std::vector<float> dpy(R, 0.0f), dot(R, 0.0f);
  for (int64_t r = 0; r < R; ++r) {
    const double c_js = cj[r];
    double d_p = 0;
    const int64_t y = target ? target[r] : -1;
    if (y >= 0 && pool_r[r * C + y] >= kPoolEps) {
      const double wy = class_weight ? class_weight[y] : 1.0;
      d_p = -grad_scale * nll_weight * wy / w_sum / pool_r[r * C + y];
    }
    dpy[r] = static_cast<float>(d_p);
    dot[r] = static_cast<float>(c_js * spjs_r[r] + (y >= 0 ? d_p * pool_r[r * C + y] : 0.0));
  }

  // Pass C.
  parallel_for(N * T, [&](int64_t task) {
    const int64_t n = task / T, tile = task % T;
    const int64_t l0 = tile * sh.tile_lines, l1 = std::min(sh.lines, l0 + sh.tile_lines);
    std::vector<float> q(C * W), qtmp(2 * W), v(C * W), pbuf(W), gscratch(W);
    for (int64_t line = l0; line < l1; ++line) {
      float* qline = grad_grade ? grad_grade + n * C * S + line * W : q.data();
      const int64_t qs = grad_grade ? S : W;
      if (!grad_grade)
        grade_softmax_line(grade + n * C * S + line * W, S, C, W, qline, qs, qtmp.data());
      std::fill(v.begin(), v.end(), 0.0f);
      for (int64_t k = 0; k < K; ++k) {
        const int64_t r = n * K + k;
        const float* x = heat + r * S + line * W;
        const float o = off[r], d_p = dpy[r], dr = dot[r];
        float* pb = probs ? probs + r * S + line * W : pbuf.data();
        float* gh = grad_heat ? grad_heat + r * S + line * W : gscratch.data();
        if (grad_heat && gauss[r].present) {
          // gh holds the JS part from pass B.
#pragma omp simd
          for (int64_t w = 0; w < W; ++w) {
            const float p = vexp(x[w] - o);
            pb[w] = p;
            gh[w] -= p * dr;
          }
        } else {
#pragma omp simd
          for (int64_t w = 0; w < W; ++w) {
            const float p = vexp(x[w] - o);
            pb[w] = p;
            gh[w] = -p * dr;
          }
        }
        const int64_t y = target ? target[r] : -1;
        if (y >= 0 && d_p != 0.0f) {
          const float* qy = qline + y * qs;
          float* vy = v.data() + y * W;
#pragma omp simd
          for (int64_t w = 0; w < W; ++w) {
            gh[w] += pb[w] * d_p * qy[w];
            vy[w] += d_p * pb[w];
          }
        }
      }
      if (grad_grade) {
        float* dv = qtmp.data();
        for (int64_t w = 0; w < W; ++w) dv[w] = 0;
        for (int64_t c = 0; c < C; ++c) {
          const float* qc = qline + c * qs;
          const float* vc = v.data() + c * W;
#pragma omp simd
          for (int64_t w = 0; w < W; ++w) dv[w] += qc[w] * vc[w];
        }
        for (int64_t c = 0; c < C; ++c) {  // in place: gg[w] = q_c[w] * (...)
          float* gg = qline + c * qs;
          const float* vc = v.data() + c * W;
#pragma omp simd
          for (int64_t w = 0; w < W; ++w) gg[w] = gg[w] * (vc[w] - dv[w]);
        }
      }
    }
  });
  return SPINEKIT_OK;
}
