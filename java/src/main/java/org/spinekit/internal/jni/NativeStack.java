package org.spinekit.internal.jni;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.CriticalRegion;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * JavaCPP peers of the slice resampling kernels (native/include/spinekit/stack.h). Nothing outside
 * this package calls them: {@link Resampling} is the facade. The overloads taking Java arrays pin
 * them for the call (GetPrimitiveArrayCritical), so a {@code Volume}'s voxels are read in place,
 * without a copy.
 */
@Platform(
    include = {"spinekit/common.h", "spinekit/stack.h"},
    link = "spinekit")
final class NativeStack {
  static {
    // libtorch first, as NativeKernels: one OpenMP runtime in the process.
    Loader.load(org.bytedeco.pytorch.global.torch.class);
    Loader.load();
    NativeKernels.load(); // the load-time allocator settings
  }

  private NativeStack() {}

  static native int spinekit_resample_planes_cpu(
      @Const Pointer src,
      int srcDtype,
      long s,
      long h,
      long w,
      float slope,
      float intercept,
      @Cast("const int64_t*") long[] z,
      long planes,
      long y0,
      long x0,
      long cropH,
      long cropW,
      float pad,
      int window,
      float center,
      float width,
      long outH,
      long outW,
      FloatPointer out);

  @CriticalRegion
  static native int spinekit_resample_planes_cpu(
      @Cast("const void*") short[] src,
      int srcDtype,
      long s,
      long h,
      long w,
      float slope,
      float intercept,
      @Cast("const int64_t*") long[] z,
      long planes,
      long y0,
      long x0,
      long cropH,
      long cropW,
      float pad,
      int window,
      float center,
      float width,
      long outH,
      long outW,
      FloatPointer out);

  @CriticalRegion
  static native int spinekit_resample_planes_cpu(
      @Cast("const void*") float[] src,
      int srcDtype,
      long s,
      long h,
      long w,
      float slope,
      float intercept,
      @Cast("const int64_t*") long[] z,
      long planes,
      long y0,
      long x0,
      long cropH,
      long cropW,
      float pad,
      int window,
      float center,
      float width,
      long outH,
      long outW,
      FloatPointer out);

  static native int spinekit_resample_planes_nearest_cpu(
      @Const Pointer src,
      int srcDtype,
      long s,
      long h,
      long w,
      @Cast("const int64_t*") long[] z,
      long planes,
      long y0,
      long x0,
      long cropH,
      long cropW,
      long pad,
      int outDtype,
      long outH,
      long outW,
      Pointer out);

  @CriticalRegion
  static native int spinekit_resample_planes_nearest_cpu(
      @Cast("const void*") short[] src,
      int srcDtype,
      long s,
      long h,
      long w,
      @Cast("const int64_t*") long[] z,
      long planes,
      long y0,
      long x0,
      long cropH,
      long cropW,
      long pad,
      int outDtype,
      long outH,
      long outW,
      Pointer out);

  static native int spinekit_window_cpu(
      @Const Pointer src,
      int srcDtype,
      long outer,
      long inner,
      float slope,
      float intercept,
      @Const float[] windows,
      int nWindows,
      FloatPointer out);

  static native int spinekit_resample_planes_cuda(
      @Const Pointer src,
      int srcDtype,
      long s,
      long h,
      long w,
      float slope,
      float intercept,
      @Cast("const int64_t*") LongPointer z,
      long planes,
      long y0,
      long x0,
      long cropH,
      long cropW,
      float pad,
      int window,
      float center,
      float width,
      long outH,
      long outW,
      FloatPointer out,
      Pointer stream);

  static native int spinekit_resample_planes_nearest_cuda(
      @Const Pointer src,
      int srcDtype,
      long s,
      long h,
      long w,
      @Cast("const int64_t*") LongPointer z,
      long planes,
      long y0,
      long x0,
      long cropH,
      long cropW,
      long pad,
      int outDtype,
      long outH,
      long outW,
      Pointer out,
      Pointer stream);

  static native int spinekit_window_cuda(
      @Const Pointer src,
      int srcDtype,
      long outer,
      long inner,
      float slope,
      float intercept,
      @Const FloatPointer windows,
      int nWindows,
      FloatPointer out,
      Pointer stream);
}
