// Tests of the CUDA slice resampling kernels (spinekit/stack.h) against the CPU
// kernels on the same inputs: stacking, crops over the edges, NaN voxels, every
// source dtype, nearest labels (exact) and windows. Bilinear outputs must agree
// to max |gpu - cpu| <= 1e-5 * max(1, max |cpu|) (NaN where the CPU has NaN);
// labels exactly. Then the 300 x 512 x 512 -> [300, 3, 320, 320] stacking is
// timed (CUDA events, median of 20) beside a device-to-device copy of the same
// bytes (int16 volume read + float32 output written).
//
//   spinekit_cuda_test_stack
// Exit status 0 when every comparison passes or there is no GPU ("skipped"; with
// SPINEKIT_REQUIRE_GPU set, exit status 3 instead).
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "spinekit/common.h"
#include "spinekit/stack.h"
#include "require_gpu.h"

namespace {

int g_passed = 0, g_failed = 0;

#define CUDA_OK(call)                                                              \
  do {                                                                             \
    cudaError_t e_ = (call);                                                       \
    if (e_ != cudaSuccess) {                                                       \
      std::printf("CUDA error %s at %s:%d\n", cudaGetErrorString(e_), __FILE__, __LINE__); \
      std::exit(1);                                                                \
    }                                                                              \
  } while (0)

void report(const std::string& name, bool ok, const std::string& detail = "") {
  ok ? ++g_passed : ++g_failed;
  std::printf("%s %s%s%s\n", ok ? "PASS" : "FAIL", name.c_str(), ok ? "" : ": ",
              detail.c_str());
}

template <typename T>
T* to_device(const std::vector<T>& v) {
  T* d = nullptr;
  CUDA_OK(cudaMalloc(&d, std::max<size_t>(1, v.size()) * sizeof(T)));
  CUDA_OK(cudaMemcpy(d, v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice));
  return d;
}

template <typename T>
std::vector<T> to_host(const T* d, size_t n) {
  std::vector<T> v(n);
  CUDA_OK(cudaMemcpy(v.data(), d, n * sizeof(T), cudaMemcpyDeviceToHost));
  return v;
}

struct Case {
  const char* name;
  int64_t S, H, W, y0, x0, ch, cw, oh, ow;
  std::vector<int64_t> z;
  int window;
  float pad;
};

std::vector<int64_t> stack_z(int64_t S, int64_t k, int64_t stride) {
  std::vector<int64_t> z;
  for (int64_t i = 0; i < S; ++i)
    for (int64_t j = 0; j <= 2 * k; ++j)
      z.push_back(std::clamp<int64_t>(i + (j - k) * stride, 0, S - 1));
  return z;
}

template <typename T>
void compare_bilinear(const Case& c, int dtype, std::vector<T> src, bool with_nan,
                      std::mt19937& rng) {
  if constexpr (std::is_same_v<T, float>) {
    if (with_nan) {
      for (int i = 0; i < 5; ++i) src[rng() % src.size()] = std::numeric_limits<float>::quiet_NaN();
    }
  }
  const int64_t planes = static_cast<int64_t>(c.z.size()), n = planes * c.oh * c.ow;
  std::vector<float> cpu(n);
  const float slope = 1.f, icpt = -1024.f;
  spinekit_resample_planes_cpu(src.data(), dtype, c.S, c.H, c.W, slope, icpt, c.z.data(), planes,
                               c.y0, c.x0, c.ch, c.cw, c.pad, c.window, 40.f, 400.f, c.oh, c.ow,
                               cpu.data());
  T* dsrc = to_device(src);
  int64_t* dz = to_device(c.z);
  float* dout = nullptr;
  CUDA_OK(cudaMalloc(&dout, n * sizeof(float)));
  int rc = spinekit_resample_planes_cuda(dsrc, dtype, c.S, c.H, c.W, slope, icpt, dz, planes,
                                         c.y0, c.x0, c.ch, c.cw, c.pad, c.window, 40.f, 400.f,
                                         c.oh, c.ow, dout, nullptr);
  CUDA_OK(cudaDeviceSynchronize());
  std::vector<float> gpu = to_host(dout, n);
  double m = 1, worst = 0;
  for (float v : cpu)
    if (!std::isnan(v)) m = std::max(m, static_cast<double>(std::fabs(v)));
  bool nan_ok = true;
  for (int64_t i = 0; i < n; ++i) {
    if (std::isnan(cpu[i]) || std::isnan(gpu[i])) {
      nan_ok = nan_ok && std::isnan(cpu[i]) && std::isnan(gpu[i]);
      continue;
    }
    worst = std::max(worst, std::fabs(static_cast<double>(gpu[i]) - cpu[i]) / m);
  }
  char buf[128];
  std::snprintf(buf, sizeof buf, "rc %d, max rel diff %.3g, NaN %s", rc, worst,
                nan_ok ? "same" : "differ");
  report(std::string("bilinear ") + c.name + " dtype " + std::to_string(dtype) +
             (with_nan ? " nan" : ""),
         rc == SPINEKIT_OK && worst <= 1e-5 && nan_ok, buf);
  cudaFree(dsrc);
  cudaFree(dz);
  cudaFree(dout);
}

template <typename L>
void compare_nearest(const Case& c, const std::vector<int16_t>& src, int out_dtype) {
  const int64_t planes = static_cast<int64_t>(c.z.size()), n = planes * c.oh * c.ow;
  std::vector<L> cpu(n);
  spinekit_resample_planes_nearest_cpu(src.data(), SPINEKIT_DTYPE_INT16, c.S, c.H, c.W,
                                       c.z.data(), planes, c.y0, c.x0, c.ch, c.cw, 0, out_dtype,
                                       c.oh, c.ow, cpu.data());
  int16_t* dsrc = to_device(src);
  int64_t* dz = to_device(c.z);
  L* dout = nullptr;
  CUDA_OK(cudaMalloc(&dout, n * sizeof(L)));
  int rc = spinekit_resample_planes_nearest_cuda(dsrc, SPINEKIT_DTYPE_INT16, c.S, c.H, c.W, dz,
                                                 planes, c.y0, c.x0, c.ch, c.cw, 0, out_dtype,
                                                 c.oh, c.ow, dout, nullptr);
  CUDA_OK(cudaDeviceSynchronize());
  report(std::string("nearest ") + c.name, rc == SPINEKIT_OK && to_host(dout, n) == cpu);
  cudaFree(dsrc);
  cudaFree(dz);
  cudaFree(dout);
}

void compare_window(std::mt19937& rng) {
  const int64_t outer = 4, inner = 300 * 301;
  std::vector<int16_t> src(outer * inner);
  for (auto& v : src) v = static_cast<int16_t>(rng() % 4000);
  const std::vector<float> w = {40, 400, 400, 1800, -600, 1500};
  std::vector<float> cpu(outer * 3 * inner);
  spinekit_window_cpu(src.data(), SPINEKIT_DTYPE_INT16, outer, inner, 1.f, -1024.f, w.data(), 3,
                      cpu.data());
  int16_t* dsrc = to_device(src);
  float* dw = to_device(w);
  float* dout = nullptr;
  CUDA_OK(cudaMalloc(&dout, cpu.size() * sizeof(float)));
  int rc = spinekit_window_cuda(dsrc, SPINEKIT_DTYPE_INT16, outer, inner, 1.f, -1024.f, dw, 3,
                                dout, nullptr);
  CUDA_OK(cudaDeviceSynchronize());
  std::vector<float> gpu = to_host(dout, cpu.size());
  double worst = 0;
  for (size_t i = 0; i < cpu.size(); ++i) worst = std::max(worst, std::fabs(double(gpu[i]) - cpu[i]));
  report("window 3 channels", rc == SPINEKIT_OK && worst <= 1e-6);
  cudaFree(dsrc);
  cudaFree(dw);
  cudaFree(dout);
}

void bench(std::mt19937& rng) {
  const int64_t S = 300, H = 512, W = 512, O = 320;
  std::vector<int16_t> src(S * H * W);
  for (auto& v : src) v = static_cast<int16_t>(24 + rng() % 4000);
  const std::vector<int64_t> z = stack_z(S, 1, 1);
  int16_t* dsrc = to_device(src);
  int64_t* dz = to_device(z);
  const int64_t n = S * 3 * O * O;
  float* dout = nullptr;
  CUDA_OK(cudaMalloc(&dout, n * sizeof(float)));
  const size_t bytes = S * H * W * 2 + n * 4;
  char *ca = nullptr, *cb = nullptr;
  CUDA_OK(cudaMalloc(&ca, bytes / 2));
  CUDA_OK(cudaMalloc(&cb, bytes / 2));
  cudaEvent_t e0, e1;
  cudaEventCreate(&e0);
  cudaEventCreate(&e1);
  auto time = [&](auto fn) {
    std::vector<float> ms;
    for (int r = 0; r < 25; ++r) {
      cudaEventRecord(e0);
      fn();
      cudaEventRecord(e1);
      cudaEventSynchronize(e1);
      float t = 0;
      cudaEventElapsedTime(&t, e0, e1);
      if (r >= 5) ms.push_back(t);
    }
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
  };
  const float tk = time([&] {
    spinekit_resample_planes_cuda(dsrc, SPINEKIT_DTYPE_INT16, S, H, W, 1.f, -1024.f, dz, S * 3, 0,
                                  0, H, W, 0.f, 1, 40.f, 400.f, O, O, dout, nullptr);
  });
  const float tc = time([&] { cudaMemcpyAsync(cb, ca, bytes / 2, cudaMemcpyDeviceToDevice); });
  std::printf("BENCH stack 300x512x512 int16 -> [300,3,320,320] f32: %.3f ms (%.0f GB/s);"
              " copy of the same bytes %.3f ms (%.0f GB/s); ratio %.2f\n",
              tk, bytes / (tk * 1e6), tc, bytes / (tc * 1e6), tk / tc);
  cudaFree(dsrc);
  cudaFree(dz);
  cudaFree(dout);
  cudaFree(ca);
  cudaFree(cb);
}

}  // namespace

int main(int argc, char** argv) {
  bool run_bench = true;
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--no-bench") == 0) run_bench = false;
  if (!spinekit_cuda_compiled())
    return spinekit_test::no_gpu("spinekit_cuda_test_stack",
                                 "libspinekit was built without CUDA kernels");
  const std::string unusable = spinekit_test::gpu_unusable();
  if (!unusable.empty() || spinekit_cuda_device_count() <= 0)
    return spinekit_test::no_gpu("spinekit_cuda_test_stack",
                                 unusable.empty() ? "libspinekit sees no CUDA device" : unusable);
  std::mt19937 rng(77);
  const Case cases[] = {
      {"stack down", 7, 23, 31, 0, 0, 23, 31, 16, 20, stack_z(7, 1, 1), 1, 0.f},
      {"stack up", 5, 23, 31, 0, 0, 23, 31, 40, 47, stack_z(5, 2, 2), 0, 0.f},
      {"stack 512->320", 4, 512, 512, 0, 0, 512, 512, 320, 320, stack_z(4, 1, 1), 1, 0.f},
      {"crop edges", 9, 30, 26, -4, -6, 20, 40, 24, 24, {-3, -1, 0, 2, 2, 4, 8, 9, 15}, 1,
       -1024.f},
      {"crop outside", 9, 30, 26, 40, 50, 6, 7, 8, 8, {1, 20}, 0, 7.f},
  };
  for (const Case& c : cases) {
    const int64_t n = c.S * c.H * c.W;
    std::vector<int16_t> i16(n);
    std::vector<uint16_t> u16(n);
    std::vector<uint8_t> u8(n);
    std::vector<float> f32(n);
    for (int64_t i = 0; i < n; ++i) {
      i16[i] = static_cast<int16_t>(rng() % 4000);
      u16[i] = static_cast<uint16_t>(rng() % 60000);
      u8[i] = static_cast<uint8_t>(rng() % 256);
      f32[i] = static_cast<float>(rng() % 5000) * 0.7f - 1000.f;
    }
    compare_bilinear(c, SPINEKIT_DTYPE_INT16, i16, false, rng);
    compare_bilinear(c, SPINEKIT_DTYPE_UINT16, u16, false, rng);
    compare_bilinear(c, SPINEKIT_DTYPE_UINT8, u8, false, rng);
    compare_bilinear(c, SPINEKIT_DTYPE_FLOAT32, f32, false, rng);
    compare_bilinear(c, SPINEKIT_DTYPE_FLOAT32, f32, true, rng);
    std::vector<int16_t> labels(n);
    for (auto& v : labels) v = static_cast<int16_t>(rng() % 20);
    compare_nearest<int64_t>(c, labels, SPINEKIT_LABEL_INT64);
    compare_nearest<uint8_t>(c, labels, SPINEKIT_LABEL_UINT8);
  }
  compare_window(rng);
  if (run_bench) bench(rng);
  std::printf("%d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}
