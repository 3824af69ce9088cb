package org.spinekit.internal.jni;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * JavaCPP peers of libspinekit (native/include/spinekit). Nothing outside this package calls them:
 * {@link Kernels} is the facade.
 */
@Platform(
    include = {
      "spinekit/common.h",
      "spinekit/dsnt.h",
      "spinekit/heatmap_pool.h",
      "spinekit/gaussian.h",
      "spinekit/head_loss.h"
    },
    link = "spinekit")
final class NativeKernels {
  static {
    // libtorch first: its bundled libgomp then serves our OpenMP loops too, so the
    // process has one OpenMP runtime.
    Loader.load(org.bytedeco.pytorch.global.torch.class);
    Loader.load();
    // Keep the allocator warm from the start, as the application would otherwise have to
    // through GLIBC_TUNABLES before the JVM starts (see Kernels.keepAllocatorWarm).
    if (Kernels.mallocTuningByDefault(System.getenv(), System.getProperties())) {
      spinekit_malloc_keep_warm(1);
    }
  }

  private NativeKernels() {}

  /** Loads libtorch and libspinekit and applies the load-time settings (no-op afterwards). */
  static void load() {}

  static native int spinekit_malloc_keep_warm(int on);

  static native @Cast("int64_t") long spinekit_malloc_mmap_threshold();

  static native int spinekit_renice_threads(@Cast("const char*") String prefix, int nice);

  static native void spinekit_set_num_threads(int n);

  static native int spinekit_get_num_threads();

  static native int spinekit_cuda_compiled();

  static native int spinekit_cuda_device_count();

  static native @Cast("const char*") String spinekit_cuda_error_string(int code);

  static native int spinekit_dsnt_forward_cpu(
      @Const FloatPointer logits,
      long rows,
      long d,
      long h,
      long w,
      int ndim,
      FloatPointer probs,
      FloatPointer coordsPx,
      FloatPointer coordsNorm,
      @Cast("int64_t*") long[] info);

  static native int spinekit_dsnt_backward_cpu(
      @Const FloatPointer probs,
      @Const FloatPointer coordsPx,
      @Const FloatPointer gradPx,
      @Const FloatPointer gradNorm,
      @Const FloatPointer gradProbs,
      long rows,
      long d,
      long h,
      long w,
      int ndim,
      FloatPointer gradLogits);

  static native int spinekit_dsnt_forward_cuda(
      @Const FloatPointer logits,
      long rows,
      long d,
      long h,
      long w,
      int ndim,
      FloatPointer probs,
      FloatPointer coordsPx,
      FloatPointer coordsNorm,
      @Cast("int64_t*") LongPointer badRowDev,
      Pointer stream);

  static native int spinekit_dsnt_backward_cuda(
      @Const FloatPointer probs,
      @Const FloatPointer coordsPx,
      @Const FloatPointer gradPx,
      @Const FloatPointer gradNorm,
      @Const FloatPointer gradProbs,
      long rows,
      long d,
      long h,
      long w,
      int ndim,
      FloatPointer gradLogits,
      Pointer stream);

  static native int spinekit_heatmap_pool_forward_cpu(
      @Const FloatPointer heat,
      @Const FloatPointer grade,
      long n,
      long k,
      long c,
      long s,
      FloatPointer pooled);

  static native int spinekit_heatmap_pool_backward_cpu(
      @Const FloatPointer heat,
      @Const FloatPointer grade,
      @Const FloatPointer gradPooled,
      long n,
      long k,
      long c,
      long s,
      FloatPointer gradHeat,
      FloatPointer gradGrade);

  static native int spinekit_heatmap_pool_forward_cuda(
      @Const FloatPointer heat,
      @Const FloatPointer grade,
      long n,
      long k,
      long c,
      long s,
      FloatPointer pooled,
      Pointer stream);

  static native int spinekit_heatmap_pool_backward_cuda(
      @Const FloatPointer heat,
      @Const FloatPointer grade,
      @Const FloatPointer gradPooled,
      long n,
      long k,
      long c,
      long s,
      FloatPointer gradHeat,
      FloatPointer gradGrade,
      Pointer stream);

  static native int spinekit_gaussian_render_cpu(
      @Const FloatPointer points,
      long rows,
      long d,
      long h,
      long w,
      int ndim,
      float sigma,
      int normalize,
      FloatPointer out);

  static native int spinekit_gaussian_render_cuda(
      @Const FloatPointer points,
      long rows,
      long d,
      long h,
      long w,
      int ndim,
      float sigma,
      int normalize,
      FloatPointer out,
      Pointer stream);

  static native int spinekit_head_loss_cpu(
      @Const FloatPointer heat,
      @Const FloatPointer grade,
      @Const FloatPointer points,
      @Cast("const int64_t*") LongPointer target,
      @Const FloatPointer classWeight,
      long n,
      long k,
      long c,
      long d,
      long h,
      long w,
      int ndim,
      float sigma,
      float jsWeight,
      float nllWeight,
      float gradScale,
      FloatPointer losses,
      FloatPointer coords,
      FloatPointer pooled,
      FloatPointer probs,
      FloatPointer gradHeat,
      FloatPointer gradGrade,
      @Cast("int64_t*") long[] info);

  static native @Cast("int64_t") long spinekit_head_loss_cuda_workspace_bytes(
      long n, long k, long c, long d, long h, long w, int ndim);

  static native int spinekit_head_loss_cuda(
      @Const FloatPointer heat,
      @Const FloatPointer grade,
      @Const FloatPointer points,
      @Cast("const int64_t*") LongPointer target,
      @Const FloatPointer classWeight,
      long n,
      long k,
      long c,
      long d,
      long h,
      long w,
      int ndim,
      float sigma,
      float jsWeight,
      float nllWeight,
      float gradScale,
      FloatPointer losses,
      FloatPointer coords,
      FloatPointer pooled,
      FloatPointer probs,
      FloatPointer gradHeat,
      FloatPointer gradGrade,
      Pointer workspaceDev,
      @Cast("int64_t*") LongPointer statusDev,
      Pointer stream);
}
