package org.spinekit.internal.jni;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Facade of the slice resampling kernels (native/include/spinekit/stack.h): 2.5D stacking,
 * crop-and-sample and windows. The caller ({@code org.spinekit.ops}) has checked shapes, dtypes,
 * devices and contiguity; this class picks the CPU or CUDA kernel by the output's device (CUDA
 * kernels on libtorch's current stream there) and turns a failed status into an exception.
 */
public final class Resampling {
  /** Source dtype codes of stack.h. */
  public static final int INT16 = 0;

  public static final int UINT16 = 1;
  public static final int FLOAT32 = 2;
  public static final int UINT8 = 3;

  /** Label dtype codes of stack.h. */
  public static final int LABEL_INT64 = 0;

  public static final int LABEL_UINT8 = 1;

  private static final int BAD_ARGUMENT = 40;

  private Resampling() {}

  /** The source dtype code of a tensor dtype, or -1 when the kernels do not read it. */
  public static int sourceDtype(ScalarType t) {
    if (t.value == ScalarType.Short.value) return INT16;
    if (t.value == ScalarType.UInt16.value) return UINT16;
    if (t.value == ScalarType.Float.value) return FLOAT32;
    if (t.value == ScalarType.Byte.value) return UINT8;
    return -1;
  }

  /** The crop window, output size and window of a resampling call; see stack.h. */
  public record Geometry(
      long y0,
      long x0,
      long cropH,
      long cropW,
      long outH,
      long outW,
      boolean window,
      float center,
      float width) {}

  private static void check(int rc, String op) {
    if (rc == Kernels.OK) return;
    if (rc == Kernels.NO_CUDA) {
      throw new IllegalStateException(
          "this build of libspinekit has no CUDA kernels (rebuild"
              + " with nvcc present, cppbuild/cppbuild.sh --cuda ON)");
    }
    if (rc == BAD_ARGUMENT) {
      throw new IllegalArgumentException(
          op + ": the kernel rejected its arguments (status " + rc + ")");
    }
    throw new IllegalStateException(op + ": kernel failed with status " + rc);
  }

  private static Tensor deviceLongs(long[] v, Tensor like) {
    Tensor host =
        torch.from_blob(
            new LongPointer(v), new long[] {v.length}, new TensorOptions(ScalarType.Long));
    return host.to(like.device(), ScalarType.Long);
  }

  /** Bilinear planes of a tensor volume [S, H, W] into out [planes, outH, outW] float32. */
  public static void planes(
      Tensor src,
      int dtype,
      long s,
      long h,
      long w,
      float slope,
      float intercept,
      long[] z,
      Geometry g,
      float pad,
      Tensor out) {
    if (!out.is_cuda()) {
      check(
          NativeStack.spinekit_resample_planes_cpu(
              src.data_ptr(),
              dtype,
              s,
              h,
              w,
              slope,
              intercept,
              z,
              z.length,
              g.y0(),
              g.x0(),
              g.cropH(),
              g.cropW(),
              pad,
              g.window() ? 1 : 0,
              g.center(),
              g.width(),
              g.outH(),
              g.outW(),
              out.data_ptr_float()),
          "resample");
      return;
    }
    try (PointerScope scope = new PointerScope()) {
      Tensor zd = deviceLongs(z, out);
      check(
          NativeStack.spinekit_resample_planes_cuda(
              src.data_ptr(),
              dtype,
              s,
              h,
              w,
              slope,
              intercept,
              zd.data_ptr_long(),
              z.length,
              g.y0(),
              g.x0(),
              g.cropH(),
              g.cropW(),
              pad,
              g.window() ? 1 : 0,
              g.center(),
              g.width(),
              g.outH(),
              g.outW(),
              out.data_ptr_float(),
              CudaStreams.current(out)),
          "resample");
    }
  }

  /** Bilinear planes of a Volume's stored integers (read in place) into a CPU out tensor. */
  public static void planes(
      short[] src,
      int dtype,
      long s,
      long h,
      long w,
      float slope,
      float intercept,
      long[] z,
      Geometry g,
      float pad,
      Tensor out) {
    check(
        NativeStack.spinekit_resample_planes_cpu(
            src,
            dtype,
            s,
            h,
            w,
            slope,
            intercept,
            z,
            z.length,
            g.y0(),
            g.x0(),
            g.cropH(),
            g.cropW(),
            pad,
            g.window() ? 1 : 0,
            g.center(),
            g.width(),
            g.outH(),
            g.outW(),
            out.data_ptr_float()),
        "resample");
  }

  /** Bilinear planes of a Volume's float32 values (read in place) into a CPU out tensor. */
  public static void planes(
      float[] src, long s, long h, long w, long[] z, Geometry g, float pad, Tensor out) {
    check(
        NativeStack.spinekit_resample_planes_cpu(
            src,
            FLOAT32,
            s,
            h,
            w,
            1f,
            0f,
            z,
            z.length,
            g.y0(),
            g.x0(),
            g.cropH(),
            g.cropW(),
            pad,
            g.window() ? 1 : 0,
            g.center(),
            g.width(),
            g.outH(),
            g.outW(),
            out.data_ptr_float()),
        "resample");
  }

  /** Nearest label planes of a tensor volume into out [planes, outH, outW] (int64 or uint8). */
  public static void nearest(
      Tensor src,
      int dtype,
      long s,
      long h,
      long w,
      long[] z,
      Geometry g,
      long pad,
      int outDtype,
      Tensor out) {
    if (!out.is_cuda()) {
      check(
          NativeStack.spinekit_resample_planes_nearest_cpu(
              src.data_ptr(),
              dtype,
              s,
              h,
              w,
              z,
              z.length,
              g.y0(),
              g.x0(),
              g.cropH(),
              g.cropW(),
              pad,
              outDtype,
              g.outH(),
              g.outW(),
              out.data_ptr()),
          "resample nearest");
      return;
    }
    try (PointerScope scope = new PointerScope()) {
      Tensor zd = deviceLongs(z, out);
      check(
          NativeStack.spinekit_resample_planes_nearest_cuda(
              src.data_ptr(),
              dtype,
              s,
              h,
              w,
              zd.data_ptr_long(),
              z.length,
              g.y0(),
              g.x0(),
              g.cropH(),
              g.cropW(),
              pad,
              outDtype,
              g.outH(),
              g.outW(),
              out.data_ptr(),
              CudaStreams.current(out)),
          "resample nearest");
    }
  }

  /** Nearest label planes of a Volume's stored integers (read in place). */
  public static void nearest(
      short[] src,
      int dtype,
      long s,
      long h,
      long w,
      long[] z,
      Geometry g,
      long pad,
      int outDtype,
      Tensor out) {
    check(
        NativeStack.spinekit_resample_planes_nearest_cpu(
            src,
            dtype,
            s,
            h,
            w,
            z,
            z.length,
            g.y0(),
            g.x0(),
            g.cropH(),
            g.cropW(),
            pad,
            outDtype,
            g.outH(),
            g.outW(),
            out.data_ptr()),
        "resample nearest");
  }

  /** Windows as channels: src [outer, inner] -> out [outer, n, inner] float32. */
  public static void windows(
      Tensor src,
      int dtype,
      long outer,
      long inner,
      float slope,
      float intercept,
      float[] centerWidth,
      Tensor out) {
    int n = centerWidth.length / 2;
    if (!out.is_cuda()) {
      check(
          NativeStack.spinekit_window_cpu(
              src.data_ptr(),
              dtype,
              outer,
              inner,
              slope,
              intercept,
              centerWidth,
              n,
              out.data_ptr_float()),
          "window");
      return;
    }
    try (PointerScope scope = new PointerScope()) {
      Tensor host =
          torch.from_blob(
              new FloatPointer(centerWidth),
              new long[] {centerWidth.length},
              new TensorOptions(ScalarType.Float));
      Tensor wd = host.to(out.device(), ScalarType.Float);
      check(
          NativeStack.spinekit_window_cuda(
              src.data_ptr(),
              dtype,
              outer,
              inner,
              slope,
              intercept,
              wd.data_ptr_float(),
              n,
              out.data_ptr_float(),
              CudaStreams.current(out)),
          "window");
    }
  }
}
