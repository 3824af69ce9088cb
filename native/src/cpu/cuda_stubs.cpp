// Entry points of the CUDA kernels for a library built without CUDA: each
// reports SPINEKIT_NO_CUDA so callers fail with a clear message.
#include "spinekit/dsnt.h"
#include "spinekit/gaussian.h"
#include "spinekit/head_loss.h"
#include "spinekit/heatmap_pool.h"
#include "spinekit/warp.h"

extern "C" {
int spinekit_cuda_compiled(void) { return 0; }
int spinekit_cuda_device_count(void) { return 0; }
const char* spinekit_cuda_error_string(int) { return ""; }

int spinekit_dsnt_forward_cuda(const float*, int64_t, int64_t, int64_t, int64_t, int, float*,
                               float*, float*, int64_t*, void*) {
  return SPINEKIT_NO_CUDA;
}
int spinekit_dsnt_backward_cuda(const float*, const float*, const float*, const float*,
                                const float*, int64_t, int64_t, int64_t, int64_t, int, float*,
                                void*) {
  return SPINEKIT_NO_CUDA;
}
int spinekit_heatmap_pool_forward_cuda(const float*, const float*, int64_t, int64_t, int64_t,
                                       int64_t, float*, void*) {
  return SPINEKIT_NO_CUDA;
}
int spinekit_heatmap_pool_backward_cuda(const float*, const float*, const float*, int64_t,
                                        int64_t, int64_t, int64_t, float*, float*, void*) {
  return SPINEKIT_NO_CUDA;
}
int spinekit_gaussian_render_cuda(const float*, int64_t, int64_t, int64_t, int64_t, int, float,
                                  int, float*, void*) {
  return SPINEKIT_NO_CUDA;
}
int64_t spinekit_head_loss_cuda_workspace_bytes(int64_t, int64_t, int64_t, int64_t, int64_t,
                                                int64_t, int) {
  return 0;
}
int spinekit_head_loss_cuda(const float*, const float*, const float*, const int64_t*,
                            const float*, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                            int, float, float, float, float, float*, float*, float*, float*,
                            float*, float*, void*, int64_t*, void*) {
  return SPINEKIT_NO_CUDA;
}

int spinekit_remap_bilinear_cuda(const float*, int64_t, int64_t, int64_t, const float*,
                                 const float*, int64_t, int64_t, int, float*, void*) {
  return SPINEKIT_NO_CUDA;
}
int spinekit_remap_nearest_cuda(const void*, int, int64_t, int64_t, const float*, const float*,
                                int64_t, int64_t, int, void*, void*) {
  return SPINEKIT_NO_CUDA;
}
int spinekit_warp_affine_bilinear_cuda(const float*, int64_t, int64_t, int64_t, const double*,
                                       int64_t, int64_t, int, float*, void*) {
  return SPINEKIT_NO_CUDA;
}
int spinekit_warp_affine_nearest_cuda(const void*, int, int64_t, int64_t, const double*,
                                      int64_t, int64_t, int, void*, void*) {
  return SPINEKIT_NO_CUDA;
}
}

// Slice resampling (spinekit/stack.h).
#include "spinekit/stack.h"
extern "C" {
int spinekit_resample_planes_cuda(const void*, int, int64_t, int64_t, int64_t, float, float,
                                  const int64_t*, int64_t, int64_t, int64_t, int64_t, int64_t,
                                  float, int, float, float, int64_t, int64_t, float*, void*) {
  return SPINEKIT_NO_CUDA;
}
int spinekit_resample_planes_nearest_cuda(const void*, int, int64_t, int64_t, int64_t,
                                          const int64_t*, int64_t, int64_t, int64_t, int64_t,
                                          int64_t, int64_t, int, int64_t, int64_t, void*,
                                          void*) {
  return SPINEKIT_NO_CUDA;
}
int spinekit_window_cuda(const void*, int, int64_t, int64_t, float, float, const float*, int,
                         float*, void*) {
  return SPINEKIT_NO_CUDA;
}
}
