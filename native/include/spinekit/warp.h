/*
 * Geometric warps of 2D images and masks, the kernels of the joint augmentations
 * (org.spinekit.augment).
 *
 * Coordinates: pixel (row i, column j) has its centre at (x, y) = (j, i); a
 * source coordinate (x, y) between centres is interpolated. Images are planar
 * float32 [C, H, W]; masks are [H, W] of any integer type of elem_size 1, 2, 4
 * or 8 bytes (copied bytewise: nearest-neighbour never mixes values).
 *
 * Every output pixel (u, v) of an [Ho, Wo] output reads the source at
 *   remap:  (map_x[v, u], map_y[v, u])
 *   affine: (m[0] u + m[1] v + m[2],  m[3] u + m[4] v + m[5])
 * where m is the INVERSE matrix (output -> source), as OpenCV's warpAffine with
 * WARP_INVERSE_MAP. The affine kernels compute the coordinates on the fly,
 * without building a map.
 *
 * Bilinear (images): x0 = floor(x), fx = x - x0 (same for y) and
 *   out = (1-fy)((1-fx) s(x0,y0) + fx s(x0+1,y0)) + fy((1-fx) s(x0,y0+1) + fx s(x0+1,y0+1))
 * Nearest (masks): s(floor(x + 0.5), floor(y + 0.5)); a coordinate exactly half-way
 * between two centres takes the higher one (OpenCV's remap rounds half to even,
 * its warpAffine rounds on a 1/1024 grid: those ties are the documented
 * differences).
 *
 * Border: SPINEKIT_BORDER_CONSTANT reads 0 outside the source (a bilinear
 * footprint partly outside blends with 0, as OpenCV's BORDER_CONSTANT does);
 * SPINEKIT_BORDER_REPLICATE clamps the neighbour indices to the source.
 * A NaN or infinite source coordinate gives 0 in both modes. A NaN pixel
 * value propagates to every output whose 2x2 bilinear footprint holds it
 * (with any weight), and to nearest outputs that pick it.
 *
 * Output is a pure function of the inputs: identical on every thread count.
 * A source plane holds fewer than 2^31 pixels (32-bit offsets).
 * Returns SPINEKIT_OK or SPINEKIT_WARP_BAD_ARGUMENT (non-positive or too large size, bad
 * elem_size or border mode, null pointer).
 */
#ifndef SPINEKIT_WARP_H
#define SPINEKIT_WARP_H

#include "spinekit/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bad size, element size, border mode or pointer passed to a warp kernel (a code of
   its own, apart from the codes of common.h). */
#define SPINEKIT_WARP_BAD_ARGUMENT 20

#define SPINEKIT_BORDER_CONSTANT 0
#define SPINEKIT_BORDER_REPLICATE 1

int spinekit_remap_bilinear_cpu(const float* src, int64_t C, int64_t H, int64_t W,
                                const float* map_x, const float* map_y, int64_t Ho,
                                int64_t Wo, int border, float* out);

int spinekit_remap_nearest_cpu(const void* src, int elem_size, int64_t H, int64_t W,
                               const float* map_x, const float* map_y, int64_t Ho,
                               int64_t Wo, int border, void* out);

int spinekit_warp_affine_bilinear_cpu(const float* src, int64_t C, int64_t H, int64_t W,
                                      const double* inv_matrix, int64_t Ho, int64_t Wo,
                                      int border, float* out);

int spinekit_warp_affine_nearest_cpu(const void* src, int elem_size, int64_t H, int64_t W,
                                     const double* inv_matrix, int64_t Ho, int64_t Wo,
                                     int border, void* out);

/*
 * Separable Gaussian blur of a float32 [H, W] field, as scipy.ndimage's
 * gaussian_filter(mode="reflect"): weights exp(-k^2 / (2 sigma^2)) for
 * |k| <= r = floor(truncate * sigma + 0.5), normalised to sum 1, the border
 * mirrored about the edge (d c b a | a b c d | d c b a), repeated as needed
 * when r exceeds the size. Weights in double, sums in float with fused multiply-adds
 * (each pass a product with the filter matrix whose border is folded in; those matrices,
 * about 2 (H^2 + W^2) floats, are kept by the calling thread for its next call with the same
 * sizes, sigma and truncate; H, W <= 4096). Odd sizes: each output sums the inputs in
 * increasing order. Even H and W: the folded matrices are centrosymmetric, so each pass sums
 * the pairwise sums and differences of mirrored inputs against two half-size matrices (half
 * the multiply-adds; the result differs from the direct sums by float rounding). Either way
 * an output is one thread's fixed sequence of operations: identical on every thread count.
 * sigma > 0, truncate > 0. A NaN input spreads to every output whose window reaches it.
 */
int spinekit_gaussian_blur_cpu(const float* src, int64_t H, int64_t W, double sigma,
                               double truncate, float* out);

/*
 * The sampling maps of the elastic transform (org.spinekit.augment.RandElastic): for the
 * displacement fields dx, dy (float32 [H, W]) and the inverse affine matrix m (output ->
 * source, 6 doubles), with qx = u + dx[v, u] and qy = v + dy[v, u] summed in float,
 *   map_x[v, u] = (float) (m[0] qx + m[1] qy + m[2]),  map_y[v, u] = (float) (m[3] qx + m[4] qy + m[5])
 * in double, operation by operation (no fused multiply-adds): the maps the Java code
 * computed, bit for bit. Returns SPINEKIT_OK or SPINEKIT_WARP_BAD_ARGUMENT.
 */
int spinekit_elastic_maps_cpu(const float* dx, const float* dy, int64_t H, int64_t W,
                              const double* inv_matrix, float* map_x, float* map_y);

/*
 * CUDA versions of the four warps: every pointer is a device pointer (inv_matrix
 * is a HOST array of 6 doubles, passed by value to the kernel), launched on
 * stream (a cudaStream_t, NULL = legacy default stream). Same arithmetic as the
 * CPU kernels (coordinates in double, weights in float); outputs agree with them
 * to float rounding (images) and exactly (masks). Returns SPINEKIT_OK,
 * SPINEKIT_WARP_BAD_ARGUMENT, SPINEKIT_CUDA_ERROR or SPINEKIT_NO_CUDA.
 */
int spinekit_remap_bilinear_cuda(const float* src, int64_t C, int64_t H, int64_t W,
                                 const float* map_x, const float* map_y, int64_t Ho,
                                 int64_t Wo, int border, float* out, void* stream);
int spinekit_remap_nearest_cuda(const void* src, int elem_size, int64_t H, int64_t W,
                                const float* map_x, const float* map_y, int64_t Ho,
                                int64_t Wo, int border, void* out, void* stream);
int spinekit_warp_affine_bilinear_cuda(const float* src, int64_t C, int64_t H, int64_t W,
                                       const double* inv_matrix, int64_t Ho, int64_t Wo,
                                       int border, float* out, void* stream);
int spinekit_warp_affine_nearest_cuda(const void* src, int elem_size, int64_t H, int64_t W,
                                      const double* inv_matrix, int64_t Ho, int64_t Wo,
                                      int border, void* out, void* stream);

#ifdef __cplusplus
}
#endif
#endif
