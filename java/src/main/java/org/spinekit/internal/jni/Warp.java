package org.spinekit.internal.jni;

import org.bytedeco.pytorch.Tensor;

/**
 * The facade of the warp kernels (native/include/spinekit/warp.h): takes contiguous CPU tensors
 * whose shapes and dtypes the caller ({@code org.spinekit.augment}) has already checked and hands
 * their data pointers to the kernels. A kernel that refuses its arguments (which the checks make
 * impossible) raises {@link IllegalStateException}.
 */
public final class Warp {
  /** Reads 0 outside the source. */
  public static final int BORDER_CONSTANT = 0;

  /** Clamps to the nearest edge pixel. */
  public static final int BORDER_REPLICATE = 1;

  private Warp() {}

  private static void ok(int rc, String op) {
    if (rc != Kernels.OK) {
      throw new IllegalStateException(
          op + ": the native kernel refused its arguments (status " + rc + ")");
    }
  }

  /** src float32 [c, h, w], maps float32 [ho, wo], out float32 [c, ho, wo]. */
  public static void remapBilinear(
      Tensor src,
      long c,
      long h,
      long w,
      Tensor mapX,
      Tensor mapY,
      long ho,
      long wo,
      int border,
      Tensor out) {
    ok(
        NativeWarp.spinekit_remap_bilinear_cpu(
            src.data_ptr_float(),
            c,
            h,
            w,
            mapX.data_ptr_float(),
            mapY.data_ptr_float(),
            ho,
            wo,
            border,
            out.data_ptr_float()),
        "remap");
  }

  /** src [h, w] of elements of elemSize bytes, maps float32 [ho, wo], out [ho, wo]. */
  public static void remapNearest(
      Tensor src,
      int elemSize,
      long h,
      long w,
      Tensor mapX,
      Tensor mapY,
      long ho,
      long wo,
      int border,
      Tensor out) {
    ok(
        NativeWarp.spinekit_remap_nearest_cpu(
            src.data_ptr(),
            elemSize,
            h,
            w,
            mapX.data_ptr_float(),
            mapY.data_ptr_float(),
            ho,
            wo,
            border,
            out.data_ptr()),
        "remap");
  }

  /** inv: the 2x3 output-to-source matrix, row major. */
  public static void warpAffineBilinear(
      Tensor src, long c, long h, long w, double[] inv, long ho, long wo, int border, Tensor out) {
    ok(
        NativeWarp.spinekit_warp_affine_bilinear_cpu(
            src.data_ptr_float(), c, h, w, inv, ho, wo, border, out.data_ptr_float()),
        "warpAffine");
  }

  public static void warpAffineNearest(
      Tensor src,
      int elemSize,
      long h,
      long w,
      double[] inv,
      long ho,
      long wo,
      int border,
      Tensor out) {
    ok(
        NativeWarp.spinekit_warp_affine_nearest_cpu(
            src.data_ptr(), elemSize, h, w, inv, ho, wo, border, out.data_ptr()),
        "warpAffine");
  }

  /** src, out float32 [h, w]; scipy.ndimage.gaussian_filter with mode "reflect". */
  public static void gaussianBlur(
      Tensor src, long h, long w, double sigma, double truncate, Tensor out) {
    ok(
        NativeWarp.spinekit_gaussian_blur_cpu(
            src.data_ptr_float(), h, w, sigma, truncate, out.data_ptr_float()),
        "gaussianBlur");
  }

  /**
   * The elastic transform's sampling maps: dx, dy, mapX, mapY float32 [h, w]; inv the 2x3
   * output-to-source matrix, row major.
   */
  public static void elasticMaps(
      Tensor dx, Tensor dy, long h, long w, double[] inv, Tensor mapX, Tensor mapY) {
    ok(
        NativeWarp.spinekit_elastic_maps_cpu(
            dx.data_ptr_float(),
            dy.data_ptr_float(),
            h,
            w,
            inv,
            mapX.data_ptr_float(),
            mapY.data_ptr_float()),
        "elasticMaps");
  }
}
