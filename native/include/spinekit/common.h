/*
 * SpineKit native kernels: shared definitions.
 *
 * Every kernel works on raw, contiguous float32 buffers with explicit sizes;
 * no libtorch type crosses this boundary. CPU entry points are named
 * spinekit_<op>_cpu, CUDA ones spinekit_<op>_cuda and take the caller's
 * stream (a cudaStream_t passed as void*, NULL = legacy default stream).
 *
 * Spatial layout: a map of D x H x W voxels is stored as S = D*H*W floats,
 * index s = (d*H + h)*W + w. A 2D map has D = 1 and ndim = 2. Coordinates are
 * ordered (x, y[, z]) = (w, h[, d]) in pixel units, 0 .. size-1.
 */
#ifndef SPINEKIT_COMMON_H
#define SPINEKIT_COMMON_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes returned by the kernels. */
#define SPINEKIT_OK 0
/* A heat-logit row (n,k) holds NaN or +inf, or is -inf everywhere; info = row index n*K+k. */
#define SPINEKIT_NONFINITE_HEAT 1
/* A grade-logit column (n, s) holds NaN or +inf, or is -inf in every class; info = n*S+s. */
#define SPINEKIT_NONFINITE_GRADE 2
/* A target grade is outside [-1, C); info = row index n*K+k. */
#define SPINEKIT_BAD_TARGET 3
/* A CUDA runtime call failed; info = the cudaError_t value. */
#define SPINEKIT_CUDA_ERROR 4
/* CUDA support was not compiled into this library. */
#define SPINEKIT_NO_CUDA 5

/* Threads used by the CPU kernels (OpenMP). n <= 0 restores the default. */
void spinekit_set_num_threads(int n);
int spinekit_get_num_threads(void);

/* 1 when this library was built with CUDA kernels, 0 otherwise. */
int spinekit_cuda_compiled(void);
/* Number of usable CUDA devices (0 without a driver or without CUDA support). */
int spinekit_cuda_device_count(void);
/* Text of a CUDA error code (empty string without CUDA support). */
const char* spinekit_cuda_error_string(int code);

#ifdef __cplusplus
}
#endif
#endif
