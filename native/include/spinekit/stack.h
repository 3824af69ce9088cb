/*
 * Slice resampling of a volume: 2.5D stacking, crop-and-sample and windowing.
 *
 * A volume [S, H, W] holds stored values of one of the source dtypes below;
 * its modality value is v = stored * slope + intercept (float32 sources: the
 * caller passes slope 1, intercept 0).
 *
 * Planes. Each kernel writes `planes` output planes [out_h, out_w]; plane p is
 * taken from source slice z[p] (any int64: outside [0, S) the whole plane is
 * padding), cropped to the window rows [y0, y0 + crop_h) and columns
 * [x0, x0 + crop_w) of that slice (the window may reach outside the slice:
 * those pixels are padding) and resized to [out_h, out_w]. Planes that share
 * a source slice are computed once and stored to each of them, so 2.5D
 * stacking (plane i*C + j from slice clamp(i + (j-k)*stride, 0, S-1)) reads
 * every source slice once and writes the output once, with no intermediate.
 *
 * Bilinear (align_corners = false, as torch.nn.functional.interpolate and
 * cv2.resize INTER_LINEAR): along each axis with scale = crop / out,
 *   src = max(0, (dst + 0.5) * scale - 0.5), i0 = floor(src),
 *   lambda = src - i0, i1 = min(i0 + 1, crop - 1) (i1 = i0 when lambda = 0),
 * computed in float32 (as torch does for float tensors), and the value is the
 * bilinear blend of the four windowed source values.
 *
 * Window (window != 0): w(v) = (clamp(v, c - width/2, c + width/2) - (c - width/2)) / width,
 * in [0, 1], applied to every source value (padding included) before the
 * blend, as when each slice is windowed and then resized. window == 0: w(v) = v.
 *
 * NaN voxels propagate: an output pixel that gives a NaN voxel a non-zero
 * weight is NaN. (torch's interpolate also spreads NaN to outputs that weigh
 * it 0 where lambda is exactly 0; where the grids align this kernel copies.)
 *
 * Nearest (masks; cv2 INTER_NEAREST and torch mode="nearest"):
 *   src = min(floor(dst * scale), crop - 1), labels copied unchanged.
 *
 * All buffers are contiguous. CPU kernels parallelise over (source slice,
 * block of output rows) with OpenMP; results do not depend on the thread count.
 */
#ifndef SPINEKIT_STACK_H
#define SPINEKIT_STACK_H

#include "spinekit/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Source dtypes. */
#define SPINEKIT_DTYPE_INT16 0
#define SPINEKIT_DTYPE_UINT16 1
#define SPINEKIT_DTYPE_FLOAT32 2
#define SPINEKIT_DTYPE_UINT8 3
/* Label dtypes of the nearest kernel's output. */
#define SPINEKIT_LABEL_INT64 0
#define SPINEKIT_LABEL_UINT8 1

/* A dtype code, size or window argument is out of range (info: none). */
#define SPINEKIT_BAD_ARGUMENT 40

/*
 * Bilinear plane resampling. src [S, H, W] of src_dtype (INT16, UINT16,
 * FLOAT32 or UINT8); z [planes]; out [planes, out_h, out_w] float32. pad is a
 * modality value (windowed like the voxels). width must be > 0 when window != 0.
 * Returns SPINEKIT_OK or SPINEKIT_BAD_ARGUMENT.
 */
int spinekit_resample_planes_cpu(const void* src, int src_dtype, int64_t S, int64_t H,
                                 int64_t W, float slope, float intercept, const int64_t* z,
                                 int64_t planes, int64_t y0, int64_t x0, int64_t crop_h,
                                 int64_t crop_w, float pad, int window, float center,
                                 float width, int64_t out_h, int64_t out_w, float* out);

/*
 * Nearest plane resampling of labels. src [S, H, W] of src_dtype (INT16,
 * UINT16 or UINT8, values copied as integers, no rescale); out
 * [planes, out_h, out_w] of out_dtype (LABEL_INT64 or LABEL_UINT8; a label
 * outside [0, 255] stored as uint8 keeps its low byte: the caller checks the
 * range). pad is the label outside the volume.
 */
int spinekit_resample_planes_nearest_cpu(const void* src, int src_dtype, int64_t S, int64_t H,
                                         int64_t W, const int64_t* z, int64_t planes,
                                         int64_t y0, int64_t x0, int64_t crop_h,
                                         int64_t crop_w, int64_t pad, int out_dtype,
                                         int64_t out_h, int64_t out_w, void* out);

/*
 * Several windows as channels: src [outer, inner] of src_dtype (INT16, UINT16,
 * FLOAT32 or UINT8) with rescale; windows [n_windows, 2] = (center, width),
 * each width > 0; out [outer, n_windows, inner] float32,
 *   out[o, c, i] = w_c(src[o, i] * slope + intercept)   (window formula above).
 * NaN propagates.
 */
int spinekit_window_cpu(const void* src, int src_dtype, int64_t outer, int64_t inner,
                        float slope, float intercept, const float* windows, int n_windows,
                        float* out);

/*
 * CUDA versions: device pointers (z and windows too), the caller's stream.
 * Same results as the CPU kernels up to float rounding of the blend (fused
 * multiply-adds); nearest labels exactly. The window widths of
 * spinekit_window_cuda live on the device and are not checked there: the
 * caller passes widths > 0.
 */
int spinekit_resample_planes_cuda(const void* src, int src_dtype, int64_t S, int64_t H,
                                  int64_t W, float slope, float intercept, const int64_t* z,
                                  int64_t planes, int64_t y0, int64_t x0, int64_t crop_h,
                                  int64_t crop_w, float pad, int window, float center,
                                  float width, int64_t out_h, int64_t out_w, float* out,
                                  void* stream);
int spinekit_resample_planes_nearest_cuda(const void* src, int src_dtype, int64_t S,
                                          int64_t H, int64_t W, const int64_t* z,
                                          int64_t planes, int64_t y0, int64_t x0,
                                          int64_t crop_h, int64_t crop_w, int64_t pad,
                                          int out_dtype, int64_t out_h, int64_t out_w,
                                          void* out, void* stream);
int spinekit_window_cuda(const void* src, int src_dtype, int64_t outer, int64_t inner,
                         float slope, float intercept, const float* windows, int n_windows,
                         float* out, void* stream);

#ifdef __cplusplus
}
#endif
#endif
