/*
 * Heatmap pooling: level grade = sum over pixels of heatmap x grade probability.
 *
 *   pooled[n, k, c] = sum_s heat[n, k, s] * grade[n, c, s]
 *
 * heat [N, K, S] (level probabilities), grade [N, C, S] (per-pixel grade
 * probabilities), pooled [N, K, C]. The backward is
 *   grad_heat[n, k, s]  = sum_c grad_pooled[n, k, c] * grade[n, c, s]
 *   grad_grade[n, c, s] = sum_k grad_pooled[n, k, c] * heat[n, k, s]
 * Values are pooled as given: NaN in, NaN out (no check here; the DSNT and
 * head-loss kernels that produce the probabilities check their logits).
 */
#ifndef SPINEKIT_HEATMAP_POOL_H
#define SPINEKIT_HEATMAP_POOL_H

#include "spinekit/common.h"

#ifdef __cplusplus
extern "C" {
#endif

int spinekit_heatmap_pool_forward_cpu(const float* heat, const float* grade, int64_t N,
                                      int64_t K, int64_t C, int64_t S, float* pooled);

/* grad_heat or grad_grade may be NULL (not computed). */
int spinekit_heatmap_pool_backward_cpu(const float* heat, const float* grade,
                                       const float* grad_pooled, int64_t N, int64_t K,
                                       int64_t C, int64_t S, float* grad_heat,
                                       float* grad_grade);

int spinekit_heatmap_pool_forward_cuda(const float* heat, const float* grade, int64_t N,
                                       int64_t K, int64_t C, int64_t S, float* pooled,
                                       void* stream);
int spinekit_heatmap_pool_backward_cuda(const float* heat, const float* grade,
                                        const float* grad_pooled, int64_t N, int64_t K,
                                        int64_t C, int64_t S, float* grad_heat,
                                        float* grad_grade, void* stream);

#ifdef __cplusplus
}
#endif
#endif
