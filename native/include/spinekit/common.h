/*
 * SpineKit native kernels: shared definitions.
 *
 * Every kernel works on raw, contiguous float32 buffers with explicit sizes;
 * no libtorch type crosses this boundary. CPU entry points are named
 * spinekit_<op>_cpu, CUDA ones spinekit_<op>_cuda and take the caller's
 * stream (a cudaStream_t passed as void*, NULL = legacy default stream): every
 * launch, memset and copy of a call is queued on it, nothing waits for the
 * device, and the current device must be the stream's.
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

/*
 * Allocator (glibc malloc). Every kernel call allocates and frees tensors of megabytes. With
 * glibc's defaults a freed block above the mmap threshold (dynamic, at most 32 MiB) is
 * unmapped, a heap whose free top exceeds the trim threshold is shrunk, and a thread arena's
 * heap (64 MiB) that became empty is unmapped, so the next call page-faults the same memory
 * in again.
 *
 * spinekit_malloc_keep_warm(1) keeps freed memory in the process: M_MMAP_THRESHOLD = INT_MAX
 * (glibc 2.36 takes it; a glibc that refuses values above HEAP_MAX_SIZE / 2 gets 32 MiB),
 * M_TRIM_THRESHOLD = INT_MAX and M_TOP_PAD = 64 MiB (a heap is unmapped only when the heap
 * before it has more than the pad free, so no heap is). Blocks larger than a thread arena's
 * heap are mmap'ed by threads other than the process's first whatever the settings.
 * spinekit_malloc_keep_warm(0) sets glibc's documented defaults again (128 KiB each; the
 * dynamic adjustment of the thresholds stays off once a value was set) and returns free
 * memory to the kernel (malloc_trim).
 * Returns 1 when glibc took every setting, 0 otherwise (or when the C library is not glibc).
 * Process-wide: the Java side calls it once when it loads the library unless told not to.
 */
int spinekit_malloc_keep_warm(int on);
/* The mmap threshold the last successful spinekit_malloc_keep_warm set, in bytes; 0 before. */
int64_t spinekit_malloc_mmap_threshold(void);

/*
 * Sets the nice value (-20 highest to 19 lowest priority) of every thread of this process
 * whose name starts with prefix (Linux: /proc/self/task/TID/comm, at most 15 characters).
 * Lowering a thread's priority needs no privilege; raising it does. Returns how many threads
 * were set, or -1 when /proc/self/task cannot be read (not Linux).
 */
int spinekit_renice_threads(const char* prefix, int nice);

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
