// Tests of the CUDA kernels against the CPU kernels, and a benchmark.
//
// Every kernel runs on the CPU and on the GPU with the same random inputs over a
// table of shapes (K = 1, 1x1 maps, odd sizes, the production sizes, logits of
// +-80, non-finite rows, buffers shifted by one float for the scalar paths). The
// outputs must agree to a relative tolerance: max |gpu - cpu| / max |cpu| (NaN
// must match NaN). Then forward and backward are timed at the large shapes (CUDA
// events, warm-up, median of 50 runs) and reported as GB/s of the bytes that must
// be read and written, beside the bandwidth of a device-to-device
// cudaMemcpyAsync moving the same number of bytes in the same run.
//
//   spinekit_cuda_test [--no-bench]
// Exit status 0 when every comparison passes, or when there is no GPU (prints
// "skipped"; with SPINEKIT_REQUIRE_GPU set, exit status 3 instead); 1 on any failure.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "spinekit/common.h"
#include "spinekit/dsnt.h"
#include "spinekit/gaussian.h"
#include "spinekit/head_loss.h"
#include "spinekit/heatmap_pool.h"
#include "require_gpu.h"

namespace {

#define CUDA_OK(call)                                                                  \
  do {                                                                                 \
    cudaError_t e_ = (call);                                                           \
    if (e_ != cudaSuccess) {                                                           \
      std::fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call,               \
                   cudaGetErrorString(e_));                                            \
      std::exit(2);                                                                    \
    }                                                                                  \
  } while (0)

int g_failures = 0;
int g_checks = 0;
const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kInf = std::numeric_limits<float>::infinity();

// Device buffer of n values, filled with 0xff bytes (NaN for floats) so that
// anything a kernel fails to write shows, optionally starting one element past
// a 256-byte boundary so that the kernels take their scalar (unaligned) paths.
template <typename T>
class DevBuf {
 public:
  DevBuf() = default;
  explicit DevBuf(size_t n, bool shift = false) : n_(n) {
    CUDA_OK(cudaMalloc(&base_, (n + 1) * sizeof(T)));
    CUDA_OK(cudaMemset(base_, 0xff, (n + 1) * sizeof(T)));
    ptr_ = static_cast<T*>(base_) + (shift ? 1 : 0);
  }
  DevBuf(const std::vector<T>& v, bool shift = false) : DevBuf(v.size(), shift) { upload(v); }
  DevBuf(const DevBuf&) = delete;
  DevBuf& operator=(const DevBuf&) = delete;
  ~DevBuf() {
    if (base_) cudaFree(base_);
  }
  T* get() const { return ptr_; }
  void upload(const std::vector<T>& v) {
    CUDA_OK(cudaMemcpy(ptr_, v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice));
  }
  std::vector<T> download() const {
    std::vector<T> v(n_);
    CUDA_OK(cudaMemcpy(v.data(), ptr_, n_ * sizeof(T), cudaMemcpyDeviceToHost));
    return v;
  }

 private:
  void* base_ = nullptr;
  T* ptr_ = nullptr;
  size_t n_ = 0;
};

std::string shape_str(std::initializer_list<int64_t> dims) {
  std::string s = "[";
  for (int64_t d : dims) s += (s.size() > 1 ? "," : "") + std::to_string(d);
  return s + "]";
}

// Records one comparison: max |gpu - cpu| relative to max(max |cpu|, floor)
// (floor: the scale of values that cluster around 0, such as normalised
// coordinates); NaN and inf must sit at the same places.
void check(const std::string& what, const std::string& shape, const std::vector<float>& gpu,
           const std::vector<float>& cpu, double tol, double floor = 0) {
  ++g_checks;
  double max_abs = 0, max_ref = 0;
  int64_t special = 0, worst = -1;
  const size_t n = std::min(gpu.size(), cpu.size());
  for (size_t i = 0; i < n; ++i) {
    const float a = gpu[i], b = cpu[i];
    if (!std::isfinite(a) || !std::isfinite(b)) {
      const bool same = (std::isnan(a) && std::isnan(b)) || a == b;
      if (!same) {
        if (special == 0) worst = static_cast<int64_t>(i);
        ++special;
      }
      continue;
    }
    const double d = std::fabs(static_cast<double>(a) - b);
    if (d > max_abs) {
      max_abs = d;
      if (special == 0) worst = static_cast<int64_t>(i);
    }
    max_ref = std::max(max_ref, std::fabs(static_cast<double>(b)));
  }
  const double scale = std::max(max_ref, floor);
  const double rel = scale > 0 ? max_abs / scale : max_abs;
  const bool pass = gpu.size() == cpu.size() && special == 0 && rel <= tol;
  if (!pass) ++g_failures;
  std::printf("%s %-34s %-20s max|diff| %9.3g  max|cpu| %9.3g  rel %9.3g (tol %.0e)",
              pass ? "PASS" : "FAIL", what.c_str(), shape.c_str(), max_abs, max_ref, rel, tol);
  if (special) std::printf("  %lld NaN/inf mismatches", static_cast<long long>(special));
  if (!pass && worst >= 0)
    std::printf("  [at %lld: gpu %g cpu %g]", static_cast<long long>(worst), gpu[worst],
                cpu[worst]);
  std::printf("\n");
}

void check_eq(const std::string& what, const std::string& shape, int64_t gpu, int64_t cpu) {
  ++g_checks;
  const bool pass = gpu == cpu;
  if (!pass) ++g_failures;
  std::printf("%s %-34s %-20s gpu %lld cpu %lld\n", pass ? "PASS" : "FAIL", what.c_str(),
              shape.c_str(), static_cast<long long>(gpu), static_cast<long long>(cpu));
}

void check_ok(const std::string& what, int rc) {
  if (rc != SPINEKIT_OK) {
    ++g_failures;
    std::printf("FAIL %s returned %d\n", what.c_str(), rc);
  }
}

std::vector<float> normal(size_t n, float scale, std::mt19937& rng) {
  std::normal_distribution<float> d(0.f, 1.f);
  std::vector<float> v(n);
  for (float& x : v) x = scale * d(rng);
  return v;
}

std::vector<float> uniform(size_t n, float lo, float hi, std::mt19937& rng) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

constexpr double kTolValue = 1e-4;  // probabilities, coordinates, pooled, losses
constexpr double kTolGrad = 2e-4;   // gradients

// ---------------------------------------------------------------- DSNT ----
struct MapShape {
  int64_t N, K, D, H, W;
  int ndim;
  std::string str() const {
    return ndim == 3 ? shape_str({N, K, D, H, W}) : shape_str({N, K, H, W});
  }
};

enum class Logits { kNormal, kLarge, kNonFinite };

void test_dsnt(const MapShape& sh, Logits kind, bool shift, std::mt19937& rng) {
  const int64_t rows = sh.N * sh.K, S = sh.D * sh.H * sh.W;
  const size_t n = static_cast<size_t>(rows * S);
  std::string tag = std::string("dsnt") + (kind == Logits::kLarge ? " +-80" : "") +
                    (kind == Logits::kNonFinite ? " nonfinite" : "") +
                    (shift ? " unaligned" : "");
  std::vector<float> x =
      kind == Logits::kLarge ? uniform(n, -80.f, 80.f, rng) : normal(n, 3.f, rng);
  if (S > 1) x[static_cast<size_t>(S / 3)] = -kInf;  // legal: probability 0
  if (kind == Logits::kNonFinite && rows >= 3) {
    x[static_cast<size_t>(2 * S + S / 2)] = kNaN;
    for (int64_t s = 0; s < S; ++s) x[static_cast<size_t>(S + s)] = -kInf;  // row 1
  }
  std::vector<float> probs(n), px(rows * sh.ndim), norm(rows * sh.ndim);
  int64_t info = -1;
  const int rc = spinekit_dsnt_forward_cpu(x.data(), rows, sh.D, sh.H, sh.W, sh.ndim,
                                           probs.data(), px.data(), norm.data(), &info);
  const int64_t cpu_bad = rc == SPINEKIT_NONFINITE_HEAT ? info : INT64_MAX;

  DevBuf<float> dx(x, shift), dp(n, shift), dpx(px.size()), dnorm(norm.size());
  DevBuf<int64_t> dbad(1);
  check_ok(tag + " forward",
           spinekit_dsnt_forward_cuda(dx.get(), rows, sh.D, sh.H, sh.W, sh.ndim, dp.get(),
                                      dpx.get(), dnorm.get(), dbad.get(), nullptr));
  CUDA_OK(cudaDeviceSynchronize());
  check(tag + " probs", sh.str(), dp.download(), probs, kTolValue);
  check(tag + " coords_px", sh.str(), dpx.download(), px, kTolValue);
  check(tag + " coords_norm", sh.str(), dnorm.download(), norm, kTolValue, 1.0);
  check_eq(tag + " bad row", sh.str(), dbad.download()[0], cpu_bad);
  if (kind == Logits::kNonFinite) return;

  // Backward from the CPU forward outputs, with and without grad_probs.
  std::vector<float> gpx = normal(px.size(), 1.f, rng), gnorm = normal(px.size(), 1.f, rng);
  std::vector<float> gprobs = normal(n, 1.f, rng);
  DevBuf<float> dprobs(probs, shift), dcpx(px), dgpx(gpx), dgnorm(gnorm), dgp(gprobs, shift);
  for (int with_gp = 0; with_gp < 2; ++with_gp) {
    std::vector<float> gl(n);
    spinekit_dsnt_backward_cpu(probs.data(), px.data(), gpx.data(), gnorm.data(),
                               with_gp ? gprobs.data() : nullptr, rows, sh.D, sh.H, sh.W,
                               sh.ndim, gl.data());
    DevBuf<float> dgl(n, shift);
    check_ok(tag + " backward",
             spinekit_dsnt_backward_cuda(dprobs.get(), dcpx.get(), dgpx.get(), dgnorm.get(),
                                         with_gp ? dgp.get() : nullptr, rows, sh.D, sh.H, sh.W,
                                         sh.ndim, dgl.get(), nullptr));
    CUDA_OK(cudaDeviceSynchronize());
    check(tag + (with_gp ? " grad_logits (+gp)" : " grad_logits"), sh.str(), dgl.download(), gl,
          kTolGrad);
  }
}

// --------------------------------------------------------- heatmap pool ----
struct PoolShape {
  int64_t N, K, C, S;
  std::string str() const { return shape_str({N, K, C, S}); }
};

void test_pool(const PoolShape& sh, bool shift, std::mt19937& rng) {
  const std::string tag = std::string("heatmap_pool") + (shift ? " unaligned" : "");
  const size_t nh = static_cast<size_t>(sh.N * sh.K * sh.S), ng = static_cast<size_t>(sh.N * sh.C * sh.S);
  std::vector<float> heat = uniform(nh, 0.f, 1.f, rng), grade = uniform(ng, 0.f, 1.f, rng);
  std::vector<float> gp = normal(static_cast<size_t>(sh.N * sh.K * sh.C), 1.f, rng);
  std::vector<float> pooled(gp.size()), gh(nh), gg(ng);
  spinekit_heatmap_pool_forward_cpu(heat.data(), grade.data(), sh.N, sh.K, sh.C, sh.S,
                                    pooled.data());
  spinekit_heatmap_pool_backward_cpu(heat.data(), grade.data(), gp.data(), sh.N, sh.K, sh.C,
                                     sh.S, gh.data(), gg.data());
  DevBuf<float> dh(heat, shift), dg(grade, shift), dgp(gp), dpool(gp.size());
  DevBuf<float> dgh(nh, shift), dgg(ng, shift);
  check_ok(tag + " forward", spinekit_heatmap_pool_forward_cuda(dh.get(), dg.get(), sh.N, sh.K,
                                                                sh.C, sh.S, dpool.get(), nullptr));
  check_ok(tag + " backward",
           spinekit_heatmap_pool_backward_cuda(dh.get(), dg.get(), dgp.get(), sh.N, sh.K, sh.C,
                                               sh.S, dgh.get(), dgg.get(), nullptr));
  CUDA_OK(cudaDeviceSynchronize());
  check(tag + " pooled", sh.str(), dpool.download(), pooled, kTolValue);
  check(tag + " grad_heat", sh.str(), dgh.download(), gh, kTolGrad);
  check(tag + " grad_grade", sh.str(), dgg.download(), gg, kTolGrad);
  // Only one of the gradients.
  DevBuf<float> dgg2(ng, shift);
  check_ok(tag + " backward grade only",
           spinekit_heatmap_pool_backward_cuda(dh.get(), dg.get(), dgp.get(), sh.N, sh.K, sh.C,
                                               sh.S, nullptr, dgg2.get(), nullptr));
  CUDA_OK(cudaDeviceSynchronize());
  check(tag + " grad_grade (no grad_heat)", sh.str(), dgg2.download(), gg, kTolGrad);
}

// ------------------------------------------------------------- Gaussian ----
// Points inside and around the map; every 5th row has no point (NaN) and every
// 7th a point far outside (raw: zeros; normalised: peaked at the border).
std::vector<float> make_points(int64_t rows, const MapShape& sh, std::mt19937& rng) {
  std::vector<float> pts(static_cast<size_t>(rows * sh.ndim));
  const float size[3] = {static_cast<float>(sh.W), static_cast<float>(sh.H),
                         static_cast<float>(sh.D)};
  for (int64_t r = 0; r < rows; ++r)
    for (int j = 0; j < sh.ndim; ++j) {
      std::uniform_real_distribution<float> d(-1.5f, size[j] + 0.5f);
      float v = d(rng);
      if (r % 5 == 4 && j == 0) v = kNaN;
      if (r % 7 == 5 && j == 1) v = 1e5f;
      pts[static_cast<size_t>(r * sh.ndim + j)] = v;
    }
  return pts;
}

void test_gaussian(const MapShape& sh, float sigma, int normalize, bool shift, std::mt19937& rng) {
  const int64_t rows = sh.N * sh.K, S = sh.D * sh.H * sh.W;
  const std::string tag = std::string("gaussian") + (normalize ? " normalised" : " raw") +
                          (shift ? " unaligned" : "");
  std::vector<float> pts = make_points(rows, sh, rng);
  std::vector<float> out(static_cast<size_t>(rows * S));
  spinekit_gaussian_render_cpu(pts.data(), rows, sh.D, sh.H, sh.W, sh.ndim, sigma, normalize,
                               out.data());
  DevBuf<float> dpts(pts), dout(out.size(), shift);
  check_ok(tag, spinekit_gaussian_render_cuda(dpts.get(), rows, sh.D, sh.H, sh.W, sh.ndim, sigma,
                                              normalize, dout.get(), nullptr));
  CUDA_OK(cudaDeviceSynchronize());
  check(tag, sh.str() + " s=" + std::to_string(sigma).substr(0, 4), dout.download(), out,
        1e-5);
}

// ------------------------------------------------------------ head loss ----
enum class HeadCase { kNormal, kLarge, kNanHeat, kNanGrade, kBadTarget, kNoPoints };

struct HeadInputs {
  std::vector<float> heat, grade, points, weight;
  std::vector<int64_t> target;
};

HeadInputs make_head_inputs(const MapShape& sh, int64_t C, HeadCase kind, std::mt19937& rng) {
  const int64_t R = sh.N * sh.K, S = sh.D * sh.H * sh.W;
  HeadInputs in;
  in.heat = kind == HeadCase::kLarge ? uniform(static_cast<size_t>(R * S), -80.f, 80.f, rng)
                                     : normal(static_cast<size_t>(R * S), 2.f, rng);
  in.grade = kind == HeadCase::kLarge
                 ? uniform(static_cast<size_t>(sh.N * C * S), -80.f, 80.f, rng)
                 : normal(static_cast<size_t>(sh.N * C * S), 1.5f, rng);
  // A point near the peak of the heat row makes JS small; random points give
  // the general case. Row 0 always has a point and a label.
  in.points = make_points(R, sh, rng);
  const int64_t size[3] = {sh.W, sh.H, sh.D};
  for (int j = 0; j < sh.ndim; ++j)
    in.points[static_cast<size_t>(j)] = 0.5f * static_cast<float>(size[j] - 1);
  if (kind == HeadCase::kNoPoints)
    std::fill(in.points.begin(), in.points.end(), kNaN);
  std::uniform_int_distribution<int64_t> y(-1, C - 1);
  in.target.resize(static_cast<size_t>(R));
  for (auto& t : in.target) t = y(rng);
  if (R > 0) in.target[0] = C - 1;
  in.weight.resize(static_cast<size_t>(C));
  for (int64_t c = 0; c < C; ++c) in.weight[static_cast<size_t>(c)] = static_cast<float>(1 << std::min<int64_t>(c, 4));
  if (S > 1) in.heat[static_cast<size_t>(S / 2)] = -kInf;  // legal
  if (kind == HeadCase::kNanHeat && R >= 3) {
    in.heat[static_cast<size_t>(2 * S + 1)] = kNaN;
    for (int64_t s = 0; s < S; ++s) in.heat[static_cast<size_t>((R - 1) * S + s)] = -kInf;
  }
  if (kind == HeadCase::kNanGrade) {
    const int64_t n = sh.N - 1, s = S - 1 - S / 3;
    in.grade[static_cast<size_t>((n * C + 0) * S + s)] = kNaN;
    in.grade[static_cast<size_t>((n * C + C - 1) * S + S - 1)] = kInf;
  }
  if (kind == HeadCase::kBadTarget && R >= 2) in.target[static_cast<size_t>(R - 1)] = C;
  return in;
}

void test_head_loss(const MapShape& sh, int64_t C, HeadCase kind, bool shift, bool all_outputs,
                    std::mt19937& rng) {
  const int64_t N = sh.N, K = sh.K, R = N * K, S = sh.D * sh.H * sh.W;
  static const char* names[] = {"", " +-80", " NaN heat", " NaN grade", " bad target",
                                " no points"};
  const std::string tag = std::string("head_loss") + names[static_cast<int>(kind)] +
                          (shift ? " unaligned" : "") + (all_outputs ? "" : " grads only");
  const std::string shape = sh.ndim == 3 ? shape_str({N, K, C, sh.D, sh.H, sh.W})
                                         : shape_str({N, K, C, sh.H, sh.W});
  HeadInputs in = make_head_inputs(sh, C, kind, rng);
  const float sigma = 2.f, jsw = 1.f, nllw = 0.5f, gscale = 1.5f;

  std::vector<float> losses(3), coords(static_cast<size_t>(R * sh.ndim)),
      pooled(static_cast<size_t>(R * C)), probs(static_cast<size_t>(R * S)),
      gh(static_cast<size_t>(R * S)), gg(static_cast<size_t>(N * C * S));
  int64_t info = 0;
  const int rc = spinekit_head_loss_cpu(
      in.heat.data(), in.grade.data(), in.points.data(), in.target.data(), in.weight.data(), N,
      K, C, sh.D, sh.H, sh.W, sh.ndim, sigma, jsw, nllw, gscale, losses.data(), coords.data(),
      pooled.data(), probs.data(), gh.data(), gg.data(), &info);

  DevBuf<float> dheat(in.heat, shift), dgrade(in.grade, shift), dpts(in.points), dw(in.weight);
  DevBuf<int64_t> dtarget(in.target), dstatus(2);
  DevBuf<float> dlosses(3), dcoords(coords.size()), dpooled(pooled.size());
  DevBuf<float> dprobs(probs.size(), shift), dgh(gh.size(), shift), dgg(gg.size(), shift);
  const int64_t ws_bytes =
      spinekit_head_loss_cuda_workspace_bytes(N, K, C, sh.D, sh.H, sh.W, sh.ndim);
  DevBuf<char> dws(static_cast<size_t>(std::max<int64_t>(ws_bytes, 1)));
  check_ok(tag, spinekit_head_loss_cuda(
                    dheat.get(), dgrade.get(), dpts.get(), dtarget.get(), dw.get(), N, K, C,
                    sh.D, sh.H, sh.W, sh.ndim, sigma, jsw, nllw, gscale, dlosses.get(),
                    all_outputs ? dcoords.get() : nullptr, all_outputs ? dpooled.get() : nullptr,
                    all_outputs ? dprobs.get() : nullptr, dgh.get(), dgg.get(), dws.get(),
                    dstatus.get(), nullptr));
  CUDA_OK(cudaDeviceSynchronize());
  const std::vector<int64_t> status = dstatus.download();
  check_eq(tag + " status", shape, status[0], rc);
  if (rc != SPINEKIT_OK) {
    check_eq(tag + " status info", shape, status[1], info);
    return;
  }
  check(tag + " losses", shape, dlosses.download(), losses, kTolValue);
  if (all_outputs) {
    check(tag + " coords", shape, dcoords.download(), coords, kTolValue);
    check(tag + " pooled", shape, dpooled.download(), pooled, kTolValue);
    check(tag + " probs", shape, dprobs.download(), probs, kTolValue);
  }
  check(tag + " grad_heat", shape, dgh.download(), gh, kTolGrad);
  check(tag + " grad_grade", shape, dgg.download(), gg, kTolGrad);
}

// ------------------------------------------------------------ benchmark ----
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Median time in ms of fn on stream st: 10 warm-up runs, then 50 timed ones.
double time_ms(const std::function<void()>& fn, cudaStream_t st) {
  for (int i = 0; i < 10; ++i) fn();
  CUDA_OK(cudaStreamSynchronize(st));
  const int iters = 50;
  std::vector<cudaEvent_t> ev(iters + 1);
  for (auto& e : ev) CUDA_OK(cudaEventCreate(&e));
  CUDA_OK(cudaEventRecord(ev[0], st));
  for (int i = 0; i < iters; ++i) {
    fn();
    CUDA_OK(cudaEventRecord(ev[i + 1], st));
  }
  CUDA_OK(cudaStreamSynchronize(st));
  CUDA_OK(cudaGetLastError());
  std::vector<double> t(iters);
  for (int i = 0; i < iters; ++i) {
    float ms = 0;
    CUDA_OK(cudaEventElapsedTime(&ms, ev[i], ev[i + 1]));
    t[i] = ms;
  }
  for (auto& e : ev) cudaEventDestroy(e);
  return median(t);
}

// GB/s of a device-to-device copy that reads and writes `bytes` in all.
double memcpy_gbps(size_t bytes, cudaStream_t st) {
  const size_t half = std::max<size_t>(bytes / 2, 1 << 20);
  void *a = nullptr, *b = nullptr;
  CUDA_OK(cudaMalloc(&a, half));
  CUDA_OK(cudaMalloc(&b, half));
  CUDA_OK(cudaMemsetAsync(a, 0, half, st));
  const double ms = time_ms([&] { CUDA_OK(cudaMemcpyAsync(b, a, half, cudaMemcpyDeviceToDevice, st)); }, st);
  cudaFree(a);
  cudaFree(b);
  return 2.0 * half / (ms * 1e-3) / 1e9;
}

void report(const std::string& what, const std::string& shape, double ms, double bytes,
            cudaStream_t st) {
  const double gbps = bytes / (ms * 1e-3) / 1e9;
  const double ref = memcpy_gbps(static_cast<size_t>(bytes), st);
  std::printf("BENCH %-26s %-20s %9.4f ms  %8.1f GB/s  %5.1f%% of memcpy (%.1f GB/s, %.1f MB)\n",
              what.c_str(), shape.c_str(), ms, gbps, 100.0 * gbps / ref, ref, bytes / 1e6);
}

void check_rc(int rc) {
  if (rc != SPINEKIT_OK) {
    std::fprintf(stderr, "kernel returned %d during the benchmark\n", rc);
    std::exit(2);
  }
}

void bench(std::mt19937& rng) {
  cudaStream_t st;
  CUDA_OK(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking));
  void* s = st;
  std::printf("\nBenchmark: median of 50 runs after 10 warm-up runs; GB/s counts the bytes "
              "that must be read and written once.\n");
  const MapShape maps[] = {{8, 5, 1, 256, 256, 2}, {2, 10, 24, 80, 80, 3}, {8, 5, 1, 80, 80, 2}};
  for (const MapShape& sh : maps) {
    const int64_t rows = sh.N * sh.K, S = sh.D * sh.H * sh.W, C = 3;
    const double elems = static_cast<double>(rows * S);
    DevBuf<float> x(normal(static_cast<size_t>(rows * S), 3.f, rng)), p(rows * S), gl(rows * S);
    DevBuf<float> px(rows * sh.ndim), norm(rows * sh.ndim), g1(normal(rows * sh.ndim, 1.f, rng)),
        g2(normal(rows * sh.ndim, 1.f, rng));
    DevBuf<int64_t> bad(1);
    auto fwd = [&] {
      check_rc(spinekit_dsnt_forward_cuda(x.get(), rows, sh.D, sh.H, sh.W, sh.ndim, p.get(),
                                          px.get(), norm.get(), bad.get(), s));
    };
    auto bwd = [&] {
      check_rc(spinekit_dsnt_backward_cuda(p.get(), px.get(), g1.get(), g2.get(), nullptr, rows,
                                           sh.D, sh.H, sh.W, sh.ndim, gl.get(), s));
    };
    const double tf = time_ms(fwd, st), tb = time_ms(bwd, st), tfb = time_ms([&] { fwd(); bwd(); }, st);
    report("dsnt forward", sh.str(), tf, 8 * elems, st);
    report("dsnt backward", sh.str(), tb, 8 * elems, st);
    report("dsnt forward+backward", sh.str(), tfb, 16 * elems, st);

    // Heatmap pooling of the same rows against C grade maps.
    const double nh = elems, ng = static_cast<double>(sh.N * C * S);
    DevBuf<float> heat(uniform(static_cast<size_t>(nh), 0.f, 1.f, rng)),
        grade(uniform(static_cast<size_t>(ng), 0.f, 1.f, rng)), pooled(rows * C),
        gp(normal(rows * C, 1.f, rng)), gh(static_cast<size_t>(nh)), gg(static_cast<size_t>(ng));
    const std::string pshape = shape_str({sh.N, sh.K, C, S});
    auto pf = [&] {
      check_rc(spinekit_heatmap_pool_forward_cuda(heat.get(), grade.get(), sh.N, sh.K, C, S,
                                                  pooled.get(), s));
    };
    auto pb = [&] {
      check_rc(spinekit_heatmap_pool_backward_cuda(heat.get(), grade.get(), gp.get(), sh.N, sh.K,
                                                   C, S, gh.get(), gg.get(), s));
    };
    const double pfm = time_ms(pf, st), pbm = time_ms(pb, st), pfbm = time_ms([&] { pf(); pb(); }, st);
    report("heatmap_pool forward", pshape, pfm, 4 * (nh + ng), st);
    report("heatmap_pool backward", pshape, pbm, 8 * (nh + ng), st);
    report("heatmap_pool fwd+bwd", pshape, pfbm, 12 * (nh + ng), st);

    // Gaussian targets.
    std::vector<float> pts_h = make_points(rows, sh, rng);
    DevBuf<float> pts(pts_h), tgt(rows * S);
    const double tg = time_ms([&] {
      check_rc(spinekit_gaussian_render_cuda(pts.get(), rows, sh.D, sh.H, sh.W, sh.ndim, 2.f, 1,
                                             tgt.get(), s));
    }, st);
    report("gaussian render", sh.str(), tg, 4 * elems, st);

    // Head loss: losses, coords, pooled and both gradients (no probs).
    HeadInputs in = make_head_inputs(sh, C, HeadCase::kNormal, rng);
    DevBuf<float> hh(in.heat), hg(in.grade), hp(in.points), hw(in.weight), hl(3),
        hc(rows * sh.ndim), hpool(rows * C);
    DevBuf<int64_t> ht(in.target), hs(2);
    const int64_t wsb = spinekit_head_loss_cuda_workspace_bytes(sh.N, sh.K, C, sh.D, sh.H, sh.W,
                                                                sh.ndim);
    DevBuf<char> ws(static_cast<size_t>(wsb));
    const std::string hshape = sh.ndim == 3 ? shape_str({sh.N, sh.K, C, sh.D, sh.H, sh.W})
                                            : shape_str({sh.N, sh.K, C, sh.H, sh.W});
    const double th = time_ms([&] {
      check_rc(spinekit_head_loss_cuda(hh.get(), hg.get(), hp.get(), ht.get(), hw.get(), sh.N,
                                       sh.K, C, sh.D, sh.H, sh.W, sh.ndim, 2.f, 1.f, 1.f, 1.f,
                                       hl.get(), hc.get(), hpool.get(), nullptr, gh.get(),
                                       gg.get(), ws.get(), hs.get(), s));
    }, st);
    report("head_loss loss+grads", hshape, th, 8 * (nh + ng), st);
  }
  CUDA_OK(cudaStreamDestroy(st));
}

}  // namespace

int main(int argc, char** argv) {
  bool run_bench = true;
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--no-bench") == 0) run_bench = false;
  if (!spinekit_cuda_compiled())
    return spinekit_test::no_gpu("spinekit_cuda_test", "libspinekit was built without CUDA kernels");
  const std::string unusable = spinekit_test::gpu_unusable();
  if (!unusable.empty() || spinekit_cuda_device_count() <= 0)
    return spinekit_test::no_gpu("spinekit_cuda_test",
                                 unusable.empty() ? "libspinekit sees no CUDA device" : unusable);
  cudaDeviceProp prop;
  CUDA_OK(cudaGetDeviceProperties(&prop, 0));
  std::printf("spinekit_cuda_test on %s (sm_%d%d, %d SMs, %.1f GiB)\n", prop.name, prop.major,
              prop.minor, prop.multiProcessorCount, prop.totalGlobalMem / 1073741824.0);
  std::mt19937 rng(20240917);

  const MapShape dsnt_shapes[] = {
      {1, 1, 1, 1, 1, 2},       {2, 3, 1, 7, 13, 2},    {1, 1, 1, 16, 16, 2},
      {3, 4, 1, 1, 1, 2},       {2, 3, 5, 7, 9, 3},     {8, 5, 1, 80, 80, 2},
      {8, 5, 1, 256, 256, 2},   {2, 10, 24, 80, 80, 3}, {300, 1, 1, 64, 64, 2},
      {1, 2, 1, 1024, 1024, 2}, {1, 3, 1, 333, 517, 2},
  };
  for (const MapShape& sh : dsnt_shapes) test_dsnt(sh, Logits::kNormal, false, rng);
  test_dsnt({8, 5, 1, 256, 256, 2}, Logits::kLarge, false, rng);
  test_dsnt({2, 10, 24, 80, 80, 3}, Logits::kLarge, false, rng);
  test_dsnt({2, 3, 1, 7, 13, 2}, Logits::kNonFinite, false, rng);
  test_dsnt({8, 5, 1, 256, 256, 2}, Logits::kNonFinite, false, rng);
  test_dsnt({8, 5, 1, 80, 80, 2}, Logits::kNormal, true, rng);
  test_dsnt({2, 10, 24, 80, 80, 3}, Logits::kNormal, true, rng);

  const PoolShape pool_shapes[] = {
      {1, 1, 1, 1},      {2, 3, 2, 91},      {8, 5, 3, 6400},   {8, 5, 3, 65536},
      {2, 10, 3, 153600}, {2, 20, 6, 1000},  {1, 3, 9, 77},     {3, 17, 3, 4096},
  };
  for (const PoolShape& sh : pool_shapes) test_pool(sh, false, rng);
  test_pool({8, 5, 3, 6400}, true, rng);

  const MapShape gauss_shapes[] = {
      {1, 1, 1, 1, 1, 2},   {2, 3, 1, 7, 13, 2},    {8, 5, 1, 80, 80, 2},
      {2, 3, 5, 7, 9, 3},   {8, 5, 1, 256, 256, 2}, {2, 10, 24, 80, 80, 3},
  };
  for (const MapShape& sh : gauss_shapes)
    for (int normalize = 0; normalize < 2; ++normalize) test_gaussian(sh, 2.5f, normalize, false, rng);
  test_gaussian({2, 3, 1, 7, 13, 2}, 0.3f, 1, false, rng);
  test_gaussian({8, 5, 1, 80, 80, 2}, 2.5f, 1, true, rng);

  struct HeadShape {
    MapShape map;
    int64_t C;
  };
  const HeadShape head_shapes[] = {
      {{1, 1, 1, 1, 1, 2}, 1},      {{2, 3, 1, 7, 13, 2}, 3},     {{1, 1, 1, 16, 16, 2}, 3},
      {{2, 3, 5, 7, 9, 3}, 3},      {{8, 5, 1, 80, 80, 2}, 3},    {{8, 5, 1, 256, 256, 2}, 3},
      {{2, 10, 24, 80, 80, 3}, 3},  {{2, 4, 1, 33, 40, 2}, 7},    {{1, 2, 1, 1030, 1030, 2}, 3},
  };
  for (const HeadShape& hs : head_shapes) test_head_loss(hs.map, hs.C, HeadCase::kNormal, false, true, rng);
  test_head_loss({8, 5, 1, 256, 256, 2}, 3, HeadCase::kLarge, false, true, rng);
  test_head_loss({2, 10, 24, 80, 80, 3}, 3, HeadCase::kLarge, false, true, rng);
  test_head_loss({8, 5, 1, 80, 80, 2}, 3, HeadCase::kNormal, true, true, rng);
  test_head_loss({2, 3, 5, 8, 12, 3}, 3, HeadCase::kNormal, true, true, rng);
  test_head_loss({8, 5, 1, 80, 80, 2}, 3, HeadCase::kNormal, false, false, rng);
  test_head_loss({8, 5, 1, 80, 80, 2}, 3, HeadCase::kNoPoints, false, true, rng);
  test_head_loss({2, 3, 1, 7, 13, 2}, 3, HeadCase::kNanHeat, false, true, rng);
  test_head_loss({8, 5, 1, 80, 80, 2}, 3, HeadCase::kNanHeat, false, true, rng);
  test_head_loss({2, 3, 1, 7, 13, 2}, 3, HeadCase::kNanGrade, false, true, rng);
  test_head_loss({8, 5, 1, 256, 256, 2}, 3, HeadCase::kNanGrade, false, true, rng);
  test_head_loss({2, 3, 1, 7, 13, 2}, 3, HeadCase::kBadTarget, false, true, rng);

  std::printf("\n%d of %d checks passed\n", g_checks - g_failures, g_checks);
  if (run_bench && g_failures == 0) bench(rng);
  if (g_failures) {
    std::printf("spinekit_cuda_test: %d FAILED\n", g_failures);
    return 1;
  }
  std::printf("spinekit_cuda_test: all passed\n");
  return 0;
}
