/*
 * Fused loss of the lumbar one-stage head (level heatmaps + grade maps).
 *
 * Inputs, per sample n (S = D*H*W, rows r = n*K + k):
 *   heat   [N, K, S]  level heatmap logits
 *   grade  [N, C, S]  per-pixel grade logits
 *   points [N, K, ndim] target points in pixels (x, y[, z]); a point with a
 *                     non-finite coordinate has no heatmap target
 *   target [N, K]     target grade in [0, C), or -1 = no grade label
 *   class_weight [C]  NLL class weights (1, 2, 4 in the lumbar system)
 *
 * Computed:
 *   p[r, s]  = softmax_s heat[r, s]
 *   t[r, s]  = normalised Gaussian of sigma at points[r] (see gaussian.h)
 *   q[n,c,s] = softmax_c grade[n, c, s]
 *   pooled[n, k, c] = sum_s p[r, s] q[n, c, s]
 *   coords[r, j]    = sum_s p[r, s] c_j(s)      (pixel units, as dsnt.h)
 *   m = (p + t) / 2, lp = log(max(p, 1e-8)), lt = log(max(t, 1e-8)),
 *   lm = log(max(m, 1e-8))
 *   js_r = 0.5 sum_s p (lp - lm) + 0.5 sum_s t (lt - lm)
 *   JS   = sum over rows with a point of js_r / (number of such rows)
 *   NLL  = sum_r w[y_r] * -log(max(pooled[r, y_r], 1e-5)) / sum_r w[y_r]
 *          over rows with y_r >= 0 (0 when there are none)
 *   loss = js_weight * JS + nll_weight * NLL
 * and the exact gradients of loss (times grad_scale) with respect to heat and
 * grade, with the clamps' subgradients as torch.clamp defines them (gradient
 * passes where the value is >= the bound).
 *
 * losses [3] receives (loss, JS, NLL). coords [N, K, ndim], pooled [N, K, C],
 * probs [N, K, S], grad_heat [N, K, S], grad_grade [N, C, S] may each be NULL.
 *
 * CPU return: SPINEKIT_OK, SPINEKIT_NONFINITE_HEAT (info = row),
 * SPINEKIT_NONFINITE_GRADE (info = n*S + s) or SPINEKIT_BAD_TARGET (info = row);
 * on error the outputs are unspecified.
 */
#ifndef SPINEKIT_HEAD_LOSS_H
#define SPINEKIT_HEAD_LOSS_H

#include "spinekit/common.h"

#ifdef __cplusplus
extern "C" {
#endif

int spinekit_head_loss_cpu(const float* heat, const float* grade, const float* points,
                           const int64_t* target, const float* class_weight, int64_t N,
                           int64_t K, int64_t C, int64_t D, int64_t H, int64_t W, int ndim,
                           float sigma, float js_weight, float nll_weight, float grad_scale,
                           float* losses, float* coords, float* pooled, float* probs,
                           float* grad_heat, float* grad_grade, int64_t* info);

/*
 * CUDA version: all pointers are device pointers, losses included.
 * status_dev points to two int64 values (code, info) that receive the first
 * error found (code 0 = none); the launcher initialises them. Returns
 * SPINEKIT_OK, SPINEKIT_CUDA_ERROR or SPINEKIT_NO_CUDA. workspace_dev must
 * hold spinekit_head_loss_cuda_workspace_bytes(...) bytes.
 */
int64_t spinekit_head_loss_cuda_workspace_bytes(int64_t N, int64_t K, int64_t C, int64_t D,
                                                int64_t H, int64_t W, int ndim);
int spinekit_head_loss_cuda(const float* heat, const float* grade, const float* points,
                            const int64_t* target, const float* class_weight, int64_t N,
                            int64_t K, int64_t C, int64_t D, int64_t H, int64_t W, int ndim,
                            float sigma, float js_weight, float nll_weight, float grad_scale,
                            float* losses, float* coords, float* pooled, float* probs,
                            float* grad_heat, float* grad_grade, void* workspace_dev,
                            int64_t* status_dev, void* stream);

#ifdef __cplusplus
}
#endif
#endif
