package org.spinekit.internal.jni;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.Platform;

/** JavaCPP peers of the warp kernels (native/include/spinekit/warp.h); see {@link Warp}. */
@Platform(
    include = {"spinekit/common.h", "spinekit/warp.h"},
    link = "spinekit")
final class NativeWarp {
  static {
    // As NativeKernels: libtorch first, so its libgomp serves our OpenMP loops.
    Loader.load(org.bytedeco.pytorch.global.torch.class);
    Loader.load();
    NativeKernels.load(); // the load-time allocator settings
  }

  private NativeWarp() {}

  static native int spinekit_remap_bilinear_cpu(
      @Const FloatPointer src,
      long c,
      long h,
      long w,
      @Const FloatPointer mapX,
      @Const FloatPointer mapY,
      long ho,
      long wo,
      int border,
      FloatPointer out);

  static native int spinekit_remap_nearest_cpu(
      @Const Pointer src,
      int elemSize,
      long h,
      long w,
      @Const FloatPointer mapX,
      @Const FloatPointer mapY,
      long ho,
      long wo,
      int border,
      Pointer out);

  static native int spinekit_warp_affine_bilinear_cpu(
      @Const FloatPointer src,
      long c,
      long h,
      long w,
      @Const double[] invMatrix,
      long ho,
      long wo,
      int border,
      FloatPointer out);

  static native int spinekit_warp_affine_nearest_cpu(
      @Const Pointer src,
      int elemSize,
      long h,
      long w,
      @Const double[] invMatrix,
      long ho,
      long wo,
      int border,
      Pointer out);

  static native int spinekit_gaussian_blur_cpu(
      @Const FloatPointer src, long h, long w, double sigma, double truncate, FloatPointer out);

  static native int spinekit_elastic_maps_cpu(
      @Const FloatPointer dx,
      @Const FloatPointer dy,
      long h,
      long w,
      @Const double[] invMatrix,
      FloatPointer mapX,
      FloatPointer mapY);
}
