package org.spinekit.ops;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.spinekit.internal.jni.Resampling;
import org.spinekit.io.Volume;
import org.spinekit.tensor.Outputs;

/**
 * Crop and sample: the stage-2 input {@code (n, H, W)} of the cervical system (one vertebra's box,
 * n = 24 slices) and the crops of the lumbar two-stage baseline.
 *
 * <p>The voxel box {@code [z0:z1, y0:y1, x0:x1]} (half-open) is grown by the margins on every side;
 * of its {@code len = z1 - z0 + 2 * marginZ} slices, n are taken at {@code int(linspace(0, len - 1,
 * n))} (numpy's linspace, truncated), and each crop {@code [y0 - marginY, y1 + marginY) x [x0 -
 * marginX, x1 + marginX)} is resized bilinearly (align_corners = false) to H x W, optionally
 * windowed before the resize.
 *
 * <p>Documented edge cases:
 *
 * <ul>
 *   <li>Voxels outside the volume (a box over an edge, or wholly outside it) take the padding
 *       value, a modality value that is windowed like the voxels: a box wholly outside the volume
 *       gives a result of padding only, not an error.
 *   <li>n larger than len repeats slices, as linspace then does (e.g. len 3, n 5: slices 0, 0, 1,
 *       1, 2).
 *   <li>NaN voxels propagate to the output pixels that give them a non-zero bilinear weight.
 *   <li>An empty box ({@code z1 <= z0}, {@code y1 <= y0} or {@code x1 <= x0}), {@code n < 1} or a
 *       negative margin is an {@link IllegalArgumentException} naming the argument.
 * </ul>
 */
public final class CropSample {
  /** Slices sampled per crop in the cervical write-up. */
  public static final int DEFAULT_SLICES = 24;

  private CropSample() {}

  /** A half-open voxel box [z0:z1, y0:y1, x0:x1] (slice, row, column); may reach outside. */
  public record Box(long z0, long z1, long y0, long y1, long x0, long x1) {
    public Box {
      if (z1 <= z0 || y1 <= y0 || x1 <= x0) {
        throw new IllegalArgumentException(
            "box: expected z0 < z1, y0 < y1, x0 < x1, got ["
                + z0
                + ":"
                + z1
                + ", "
                + y0
                + ":"
                + y1
                + ", "
                + x0
                + ":"
                + x1
                + "]");
      }
    }
  }

  /**
   * Slices n, output size, margins (voxels, per axis), padding (a modality value) and window (null:
   * none).
   */
  public record Options(
      int n,
      long height,
      long width,
      long marginZ,
      long marginY,
      long marginX,
      double pad,
      Window window) {
    public Options {
      if (n < 1) throw new IllegalArgumentException("n: expected >= 1, got " + n);
      if (height < 1 || width < 1) {
        throw new IllegalArgumentException(
            "size: expected height and width >= 1, got " + height + " x " + width);
      }
      if (marginZ < 0 || marginY < 0 || marginX < 0) {
        throw new IllegalArgumentException(
            "margin: expected >= 0 voxels, got ("
                + marginZ
                + ", "
                + marginY
                + ", "
                + marginX
                + ")");
      }
      if (Double.isInfinite(pad)) {
        throw new IllegalArgumentException("pad: expected a finite value or NaN, got " + pad);
      }
    }

    /** 24 slices at height x width, no margin, padding 0, no window. */
    public static Options of(long height, long width) {
      return new Options(DEFAULT_SLICES, height, width, 0, 0, 0, 0, null);
    }

    public Options withSlices(int v) {
      return new Options(v, height, width, marginZ, marginY, marginX, pad, window);
    }

    public Options withMargin(long z, long y, long x) {
      return new Options(n, height, width, z, y, x, pad, window);
    }

    public Options withPad(double v) {
      return new Options(n, height, width, marginZ, marginY, marginX, v, window);
    }

    public Options withWindow(Window v) {
      return new Options(n, height, width, marginZ, marginY, marginX, pad, v);
    }
  }

  /** {@code int(numpy.linspace(0, len - 1, n))}: numpy's formula, then truncation. */
  public static long[] sliceIndices(long len, int n) {
    if (len < 1) throw new IllegalArgumentException("len: expected >= 1, got " + len);
    if (n < 1) throw new IllegalArgumentException("n: expected >= 1, got " + n);
    long[] idx = new long[n];
    if (n == 1) return idx;
    double stop = len - 1;
    double step = stop / (n - 1);
    for (int i = 0; i < n; i++) {
      double y = step == 0 ? (double) i / (n - 1) * stop : i * step;
      idx[i] = (long) y;
    }
    idx[n - 1] = (long) stop;
    return idx;
  }

  /** Source slice of every output plane (may lie outside the volume). */
  static long[] planes(Box b, Options o) {
    long z0 = b.z0() - o.marginZ();
    long len = b.z1() - b.z0() + 2 * o.marginZ();
    long[] idx = sliceIndices(len, o.n());
    for (int i = 0; i < idx.length; i++) idx[i] += z0;
    return idx;
  }

  static Resampling.Geometry geometry(Box b, Options o) {
    Window w = o.window();
    return new Resampling.Geometry(
        b.y0() - o.marginY(),
        b.x0() - o.marginX(),
        b.y1() - b.y0() + 2 * o.marginY(),
        b.x1() - b.x0() + 2 * o.marginX(),
        o.height(),
        o.width(),
        w != null,
        w == null ? 0f : (float) w.center(),
        w == null ? 1f : (float) w.width());
  }

  private static void check(Box box, Options o) {
    if (box == null) throw new IllegalArgumentException("box: expected a box, got null");
    if (o == null) throw new IllegalArgumentException("options: expected options, got null");
  }

  /**
   * The crop of a tensor volume [S, H, W] (int16, uint16, uint8 stored values with rescale, or
   * float32; CPU or CUDA) -> float32 [n, height, width] on its device.
   */
  public static Tensor sample(Tensor volume, double slope, double intercept, Box box, Options o) {
    int dtype = Stack25d.checkVolume(volume, "volume");
    Window.rescale(slope, intercept);
    check(box, o);
    long[] z = planes(box, o);
    try (PointerScope scope = new PointerScope()) {
      Tensor out =
          volume.new_empty(
              new long[] {o.n(), o.height(), o.width()}, new TensorOptions(ScalarType.Float));
      Resampling.planes(
          volume,
          dtype,
          volume.size(0),
          volume.size(1),
          volume.size(2),
          (float) slope,
          (float) intercept,
          z,
          geometry(box, o),
          (float) o.pad(),
          out);
      return Outputs.handOut(scope, out);
    }
  }

  /**
   * The same crop of a label volume [S, H, W] (int16, uint16 or uint8; CPU or CUDA) by nearest
   * neighbour (cv2 INTER_NEAREST) -> [n, height, width] of {@code outDtype} (Long or Byte; Byte
   * requires labels in [0, 255], checked). Voxels outside the volume get label {@code (long)
   * options.pad()}; the window does not apply.
   */
  public static Tensor sampleMasks(Tensor labels, Box box, Options o, ScalarType outDtype) {
    int dtype = Stack25d.checkVolume(labels, "labels");
    if (dtype == Resampling.FLOAT32) {
      throw new IllegalArgumentException(
          "labels: expected dtype Short, UInt16 or Byte, got " + labels.scalar_type());
    }
    check(box, o);
    if (Double.isNaN(o.pad())) {
      throw new IllegalArgumentException("pad: expected an integer label, got NaN");
    }
    int label = Stack25d.labelDtype(outDtype);
    long pad = (long) o.pad();
    if (label == Resampling.LABEL_UINT8 && (pad < 0 || pad > 255)) {
      throw new IllegalArgumentException(
          "pad: expected a label in [0, 255] for Byte output, got " + pad);
    }
    long[] z = planes(box, o);
    Resampling.Geometry g = geometry(box, o.withWindow(null));
    try (PointerScope scope = new PointerScope()) {
      if (label == Resampling.LABEL_UINT8 && dtype != Resampling.UINT8) {
        Stack25d.labelRange(labels.min().item_long(), labels.max().item_long());
      }
      Tensor out =
          labels.new_empty(new long[] {o.n(), o.height(), o.width()}, new TensorOptions(outDtype));
      Resampling.nearest(
          labels, dtype, labels.size(0), labels.size(1), labels.size(2), z, g, pad, label, out);
      return Outputs.handOut(scope, out);
    }
  }

  /** The crop of a {@link Volume} (rescale applied, voxels read in place), a CPU tensor. */
  public static Tensor sample(Volume volume, Box box, Options o) {
    if (volume == null) throw new IllegalArgumentException("volume: expected a volume, got null");
    check(box, o);
    long[] z = planes(box, o);
    Resampling.Geometry g = geometry(box, o);
    long s = volume.slices(), h = volume.rows(), w = volume.columns();
    try (PointerScope scope = new PointerScope()) {
      Tensor out =
          torch.empty(
              new long[] {o.n(), o.height(), o.width()}, new TensorOptions(ScalarType.Float), null);
      switch (volume.kind()) {
        case INT16, UINT16 ->
            Resampling.planes(
                volume.shorts(),
                volume.kind() == Volume.Kind.INT16 ? Resampling.INT16 : Resampling.UINT16,
                s,
                h,
                w,
                (float) volume.slope(),
                (float) volume.intercept(),
                z,
                g,
                (float) o.pad(),
                out);
        case FLOAT32 -> Resampling.planes(volume.floats(), s, h, w, z, g, (float) o.pad(), out);
      }
      return Outputs.handOut(scope, out);
    }
  }
}
