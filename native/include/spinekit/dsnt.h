/*
 * DSNT: differentiable spatial to numerical transform (Nibali et al. 2018).
 *
 * For every row r = n*K + k of heat logits [rows, S] (S = D*H*W):
 *   p[r, s]   = softmax over s of logits[r, s]
 *   px[r, j]  = sum_s p[r, s] * c_j(s)        pixel coordinate, j in (x, y[, z])
 *   nx[r, j]  = (2 * px[r, j] + 1) / size_j - 1  normalised (dsntnn convention)
 * where c_x(s) = w, c_y(s) = h, c_z(s) = d and size = (W, H[, D]).
 *
 * Non-finite input: a row holding NaN or +inf, or -inf everywhere, has no
 * defined softmax. Its probabilities and coordinates are written as NaN and
 * the kernel reports it (CPU: return value SPINEKIT_NONFINITE_HEAT and *info
 * = first such row; CUDA: *bad_row_dev = smallest such row). -inf entries in
 * an otherwise finite row are legal and get probability 0.
 */
#ifndef SPINEKIT_DSNT_H
#define SPINEKIT_DSNT_H

#include "spinekit/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * logits [rows, S]; probs [rows, S] or NULL (not written); coords_px and
 * coords_norm [rows, ndim] (either may be NULL). ndim is 2 (requires D == 1)
 * or 3. Returns SPINEKIT_OK or SPINEKIT_NONFINITE_HEAT (info = first bad row).
 */
int spinekit_dsnt_forward_cpu(const float* logits, int64_t rows, int64_t D, int64_t H,
                              int64_t W, int ndim, float* probs, float* coords_px,
                              float* coords_norm, int64_t* info);

/*
 * Backward of the forward above. probs [rows, S] and coords_px [rows, ndim]
 * are the forward outputs; grad_px, grad_norm [rows, ndim] and grad_probs
 * [rows, S] are the incoming gradients, each may be NULL (= zero).
 * grad_logits [rows, S] is overwritten with
 *   p_s * (u_s - sum_t p_t u_t),  u_s = sum_j g_j c_j(s) + grad_probs_s,
 *   g_j = grad_px_j + grad_norm_j * 2 / size_j.
 */
int spinekit_dsnt_backward_cpu(const float* probs, const float* coords_px,
                               const float* grad_px, const float* grad_norm,
                               const float* grad_probs, int64_t rows, int64_t D, int64_t H,
                               int64_t W, int ndim, float* grad_logits);

/*
 * CUDA versions: all pointers are device pointers. bad_row_dev points to one
 * int64 that receives the smallest non-finite row index, or INT64_MAX when all
 * rows are finite (the launcher initialises it). Returns SPINEKIT_OK,
 * SPINEKIT_CUDA_ERROR (launch failure) or SPINEKIT_NO_CUDA.
 */
int spinekit_dsnt_forward_cuda(const float* logits, int64_t rows, int64_t D, int64_t H,
                               int64_t W, int ndim, float* probs, float* coords_px,
                               float* coords_norm, int64_t* bad_row_dev, void* stream);
int spinekit_dsnt_backward_cuda(const float* probs, const float* coords_px,
                                const float* grad_px, const float* grad_norm,
                                const float* grad_probs, int64_t rows, int64_t D, int64_t H,
                                int64_t W, int ndim, float* grad_logits, void* stream);

#ifdef __cplusplus
}
#endif
#endif
