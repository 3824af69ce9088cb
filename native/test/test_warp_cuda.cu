// The CUDA warp kernels against the CPU ones (spinekit/warp.h), on a GPU machine.
//
// Same random images, masks, maps and matrices on both devices, over a table of
// shapes (1x1, odd sizes, 320x320x3, resizes), both borders, NaN and far-outside
// coordinates. Images: max |gpu - cpu| <= 1e-6 (values in [0, 1]; both compute the
// header formula without fused multiply-adds). Masks: bitwise equal. Then the
// 320x320x3 affine warp is timed (CUDA events, median of 50) beside one CPU thread.
//
//   spinekit_cuda_test_warp
// Exit status 0 when every comparison passes, or when there is no GPU (prints
// "skipped"; with SPINEKIT_REQUIRE_GPU set, exit status 3 instead); 1 on any failure.
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "require_gpu.h"
#include "spinekit/common.h"
#include "spinekit/warp.h"

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

int g_fail = 0, g_pass = 0;

void check(bool ok, const std::string& what, const std::string& detail = "") {
  if (ok) {
    ++g_pass;
    std::printf("PASS %s\n", what.c_str());
  } else {
    ++g_fail;
    std::printf("FAIL %s: %s\n", what.c_str(), detail.c_str());
  }
}

template <typename T>
T* upload(const std::vector<T>& h) {
  T* d = nullptr;
  CUDA_OK(cudaMalloc(&d, std::max<size_t>(1, h.size() * sizeof(T))));
  CUDA_OK(cudaMemcpy(d, h.data(), h.size() * sizeof(T), cudaMemcpyHostToDevice));
  return d;
}

template <typename T>
std::vector<T> download(const T* d, size_t n) {
  std::vector<T> h(n);
  CUDA_OK(cudaMemcpy(h.data(), d, n * sizeof(T), cudaMemcpyDeviceToHost));
  return h;
}

void compare(int64_t C, int64_t H, int64_t W, int64_t Ho, int64_t Wo, int border, bool affine,
             unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> unit(0.f, 1.f);
  std::uniform_real_distribution<float> coord(-3.f, static_cast<float>(std::max(H, W)) + 2.f);
  std::vector<float> img(C * H * W);
  for (float& v : img) v = unit(rng);
  std::vector<int32_t> mask(H * W);
  for (int32_t& v : mask) v = static_cast<int32_t>(rng() % 9);
  std::vector<float> mx(Ho * Wo), my(Ho * Wo);
  for (size_t i = 0; i < mx.size(); ++i) {
    mx[i] = coord(rng);
    my[i] = coord(rng);
  }
  mx[0] = std::numeric_limits<float>::quiet_NaN();
  if (mx.size() > 1) mx[1] = 1e30f;
  const double a = 0.3;
  const double m[6] = {std::cos(a) * H / Ho, std::sin(a), 1.5, -std::sin(a), std::cos(a) * W / Wo,
                       -2.25};
  std::vector<float> out_c(C * Ho * Wo);
  std::vector<int32_t> mo_c(Ho * Wo);
  float* d_img = upload(img);
  int32_t* d_mask = upload(mask);
  float* d_mx = upload(mx);
  float* d_my = upload(my);
  float* d_out = nullptr;
  int32_t* d_mo = nullptr;
  CUDA_OK(cudaMalloc(&d_out, out_c.size() * sizeof(float)));
  CUDA_OK(cudaMalloc(&d_mo, mo_c.size() * sizeof(int32_t)));
  int rc;
  if (affine) {
    spinekit_warp_affine_bilinear_cpu(img.data(), C, H, W, m, Ho, Wo, border, out_c.data());
    spinekit_warp_affine_nearest_cpu(mask.data(), 4, H, W, m, Ho, Wo, border, mo_c.data());
    rc = spinekit_warp_affine_bilinear_cuda(d_img, C, H, W, m, Ho, Wo, border, d_out, nullptr);
    rc |= spinekit_warp_affine_nearest_cuda(d_mask, 4, H, W, m, Ho, Wo, border, d_mo, nullptr);
  } else {
    spinekit_remap_bilinear_cpu(img.data(), C, H, W, mx.data(), my.data(), Ho, Wo, border,
                                out_c.data());
    spinekit_remap_nearest_cpu(mask.data(), 4, H, W, mx.data(), my.data(), Ho, Wo, border,
                               mo_c.data());
    rc = spinekit_remap_bilinear_cuda(d_img, C, H, W, d_mx, d_my, Ho, Wo, border, d_out, nullptr);
    rc |= spinekit_remap_nearest_cuda(d_mask, 4, H, W, d_mx, d_my, Ho, Wo, border, d_mo, nullptr);
  }
  CUDA_OK(cudaDeviceSynchronize());
  std::vector<float> out_g = download(d_out, out_c.size());
  std::vector<int32_t> mo_g = download(d_mo, mo_c.size());
  double worst = 0;
  for (size_t i = 0; i < out_c.size(); ++i) {
    double d = std::fabs(static_cast<double>(out_g[i]) - out_c[i]);
    if (!(d <= worst)) worst = std::isnan(d) ? 1e9 : d;
  }
  int64_t bad = 0;
  for (size_t i = 0; i < mo_c.size(); ++i) bad += mo_c[i] != mo_g[i];
  const std::string name = std::string(affine ? "affine " : "remap ") + std::to_string(C) + "x" +
                           std::to_string(H) + "x" + std::to_string(W) + "->" +
                           std::to_string(Ho) + "x" + std::to_string(Wo) +
                           (border ? " replicate" : " constant");
  check(rc == SPINEKIT_OK, name + " launches", "status " + std::to_string(rc));
  check(worst <= 1e-6, name + " image", "max |gpu - cpu| " + std::to_string(worst));
  check(bad == 0, name + " mask", std::to_string(bad) + " pixels differ");
  cudaFree(d_img);
  cudaFree(d_mask);
  cudaFree(d_mx);
  cudaFree(d_my);
  cudaFree(d_out);
  cudaFree(d_mo);
}

void bench() {
  const int64_t C = 3, H = 320, W = 320;
  std::vector<float> img(C * H * W, 0.5f), out(C * H * W);
  const double m[6] = {0.98, 0.17, -20, -0.17, 0.98, 30};
  float* d_img = upload(img);
  float* d_out = nullptr;
  CUDA_OK(cudaMalloc(&d_out, out.size() * sizeof(float)));
  cudaEvent_t a, b;
  CUDA_OK(cudaEventCreate(&a));
  CUDA_OK(cudaEventCreate(&b));
  std::vector<float> gpu_ms;
  for (int i = 0; i < 60; ++i) {
    CUDA_OK(cudaEventRecord(a));
    spinekit_warp_affine_bilinear_cuda(d_img, C, H, W, m, H, W, 0, d_out, nullptr);
    CUDA_OK(cudaEventRecord(b));
    CUDA_OK(cudaEventSynchronize(b));
    float ms = 0;
    CUDA_OK(cudaEventElapsedTime(&ms, a, b));
    if (i >= 10) gpu_ms.push_back(ms);
  }
  spinekit_set_num_threads(1);
  std::vector<double> cpu_ms;
  for (int i = 0; i < 20; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    spinekit_warp_affine_bilinear_cpu(img.data(), C, H, W, m, H, W, 0, out.data());
    auto t1 = std::chrono::steady_clock::now();
    if (i >= 5) cpu_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  spinekit_set_num_threads(0);
  std::sort(gpu_ms.begin(), gpu_ms.end());
  std::sort(cpu_ms.begin(), cpu_ms.end());
  std::printf("warpAffine 3x320x320 bilinear: GPU %.4f ms, CPU 1 thread %.4f ms (medians)\n",
              gpu_ms[gpu_ms.size() / 2], cpu_ms[cpu_ms.size() / 2]);
  cudaFree(d_img);
  cudaFree(d_out);
}

}  // namespace

int main(int argc, char** argv) {
  bool run_bench = true;
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--no-bench") == 0) run_bench = false;
  const std::string unusable = spinekit_test::gpu_unusable();
  if (!unusable.empty()) return spinekit_test::no_gpu("spinekit_cuda_test_warp", unusable);
  for (int border = 0; border < 2; ++border) {
    for (bool affine : {false, true}) {
      compare(3, 17, 23, 19, 21, border, affine, 1);
      compare(1, 1, 1, 4, 5, border, affine, 2);
      compare(3, 320, 320, 320, 320, border, affine, 3);
      compare(2, 100, 64, 37, 211, border, affine, 4);
    }
  }
  if (run_bench) bench();
  std::printf("%d passed, %d failed\n", g_pass, g_fail);
  return g_fail ? 1 : 0;
}
