package org.spinekit.ops;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.spinekit.internal.jni.Resampling;
import org.spinekit.io.Volume;
import org.spinekit.tensor.Checks;
import org.spinekit.tensor.Outputs;

/**
 * 2.5D stacking: every slice of a volume [S, H, W] with its neighbours as channels, resized to the
 * network's input size, the input of the cervical stage-1 segmentation.
 *
 * <p>Output {@code [S, 2k+1, outH, outW]}: channel j of slice i is source slice {@code clamp(i + (j
 * - k) * stride, 0, S - 1)} (edges repeat the first and last slice), optionally windowed, resized
 * bilinearly with align_corners = false (torch's {@code interpolate(mode="bilinear")}, cv2 {@code
 * INTER_LINEAR}). The window is applied to the source voxels before the resize, as when each slice
 * is windowed and then resized. The kernel writes straight into the output: each source slice is
 * resized once and stored into every (slice, channel) that takes it, with no intermediate volume.
 *
 * <p>Masks ({@link #masks}) resize by nearest neighbour (cv2 {@code INTER_NEAREST}, torch {@code
 * mode="nearest"}: source index floor(dst * in / out)), one channel, labels unchanged.
 *
 * <p>Inputs: a CPU or CUDA tensor [S, H, W] of int16, uint16, uint8 (stored values, modality =
 * stored * slope + intercept) or float32, contiguous; or a {@link Volume}, whose voxels are read in
 * place. NaN voxels propagate to every output pixel that gives them a non-zero bilinear weight
 * (where the source and output grids align, the value is copied exactly). The volume cannot be
 * empty (rejected, naming the argument).
 */
public final class Stack25d {
  /** The default output size of the cervical write-up. */
  public static final long DEFAULT_SIZE = 320;

  private Stack25d() {}

  /**
   * Neighbours k (channels 2k+1), slice stride, output size and window (null: none). Defaults: k 1,
   * stride 1, 320 x 320, no window.
   */
  public record Options(int k, int stride, long height, long width, Window window) {
    public Options {
      if (k < 0) throw new IllegalArgumentException("k: expected >= 0, got " + k);
      if (stride < 1) throw new IllegalArgumentException("stride: expected >= 1, got " + stride);
      if (height < 1 || width < 1) {
        throw new IllegalArgumentException(
            "size: expected height and width >= 1, got " + height + " x " + width);
      }
    }

    public static Options defaults() {
      return new Options(1, 1, DEFAULT_SIZE, DEFAULT_SIZE, null);
    }

    public Options withK(int v) {
      return new Options(v, stride, height, width, window);
    }

    public Options withStride(int v) {
      return new Options(k, v, height, width, window);
    }

    public Options withSize(long h, long w) {
      return new Options(k, stride, h, w, window);
    }

    public Options withWindow(Window v) {
      return new Options(k, stride, height, width, v);
    }

    public int channels() {
      return 2 * k + 1;
    }
  }

  /** Source slice of every output plane i * (2k+1) + j. */
  static long[] sourceSlices(long slices, Options o) {
    int c = o.channels();
    long[] z = new long[Math.toIntExact(slices * c)];
    for (long i = 0; i < slices; i++) {
      for (int j = 0; j < c; j++) {
        long s = i + (long) (j - o.k()) * o.stride();
        z[(int) (i * c + j)] = Math.max(0, Math.min(slices - 1, s));
      }
    }
    return z;
  }

  static Resampling.Geometry geometry(long h, long w, long outH, long outW, Window win) {
    return new Resampling.Geometry(
        0,
        0,
        h,
        w,
        outH,
        outW,
        win != null,
        win == null ? 0f : (float) win.center(),
        win == null ? 1f : (float) win.width());
  }

  static int checkVolume(Tensor volume, String name) {
    Checks.defined(volume, name);
    int dtype = Resampling.sourceDtype(volume.scalar_type());
    if (dtype < 0) {
      throw new IllegalArgumentException(
          name + ": expected dtype Short, UInt16, Byte or Float," + " got " + volume.scalar_type());
    }
    Checks.rank(volume, name, 3);
    Checks.tensor(volume, name, volume.scalar_type(), null);
    return dtype;
  }

  /** Images of a tensor volume [S, H, W] with rescale (ignored for float32: pass 1, 0). */
  public static Tensor images(Tensor volume, double slope, double intercept, Options o) {
    int dtype = checkVolume(volume, "volume");
    Window.rescale(slope, intercept);
    if (o == null) throw new IllegalArgumentException("options: expected options, got null");
    long s = volume.size(0), h = volume.size(1), w = volume.size(2);
    long[] z = sourceSlices(s, o);
    try (PointerScope scope = new PointerScope()) {
      Tensor out =
          volume.new_empty(
              new long[] {s, o.channels(), o.height(), o.width()},
              new TensorOptions(ScalarType.Float));
      Resampling.planes(
          volume,
          dtype,
          s,
          h,
          w,
          (float) slope,
          (float) intercept,
          z,
          geometry(h, w, o.height(), o.width(), o.window()),
          0f,
          out);
      return Outputs.handOut(scope, out);
    }
  }

  /**
   * As {@link #images(Tensor, double, double, Options)}, written into {@code out}: a contiguous
   * float32 tensor [S, 2k+1, height, width] on the volume's device, e.g. a batch buffer reused
   * across calls (a fresh output of this size costs page faults on every call). Returns out.
   */
  public static Tensor imagesInto(
      Tensor volume, double slope, double intercept, Options o, Tensor out) {
    int dtype = checkVolume(volume, "volume");
    Window.rescale(slope, intercept);
    if (o == null) throw new IllegalArgumentException("options: expected options, got null");
    long s = volume.size(0), h = volume.size(1), w = volume.size(2);
    Checks.tensor(out, "out", ScalarType.Float, volume);
    Checks.shapeEquals(out, "out", s, o.channels(), o.height(), o.width());
    Resampling.planes(
        volume,
        dtype,
        s,
        h,
        w,
        (float) slope,
        (float) intercept,
        sourceSlices(s, o),
        geometry(h, w, o.height(), o.width(), o.window()),
        0f,
        out);
    return out;
  }

  /** Images of a tensor volume of modality values (rescale 1, 0). */
  public static Tensor images(Tensor volume, Options o) {
    return images(volume, 1, 0, o);
  }

  /** Images of a {@link Volume} (its rescale applied), as a CPU tensor. */
  public static Tensor images(Volume volume, Options o) {
    if (volume == null) throw new IllegalArgumentException("volume: expected a volume, got null");
    if (o == null) throw new IllegalArgumentException("options: expected options, got null");
    long s = volume.slices(), h = volume.rows(), w = volume.columns();
    long[] z = sourceSlices(s, o);
    Resampling.Geometry g = geometry(h, w, o.height(), o.width(), o.window());
    try (PointerScope scope = new PointerScope()) {
      Tensor out =
          torch.empty(
              new long[] {s, o.channels(), o.height(), o.width()},
              new TensorOptions(ScalarType.Float),
              null);
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
                0f,
                out);
        case FLOAT32 -> Resampling.planes(volume.floats(), s, h, w, z, g, 0f, out);
      }
      return Outputs.handOut(scope, out);
    }
  }

  /**
   * Label masks of a tensor volume [S, H, W] (int16, uint16 or uint8) resized by nearest neighbour
   * to [S, outH, outW] of {@code outDtype} (Long or Byte; Byte requires every label in [0, 255],
   * checked). Uses the options' size only (k, stride and window do not apply).
   */
  public static Tensor masks(Tensor labels, Options o, ScalarType outDtype) {
    int dtype = checkVolume(labels, "labels");
    if (dtype == Resampling.FLOAT32) {
      throw new IllegalArgumentException(
          "labels: expected dtype Short, UInt16 or Byte, got " + labels.scalar_type());
    }
    if (o == null) throw new IllegalArgumentException("options: expected options, got null");
    int label = labelDtype(outDtype);
    try (PointerScope scope = new PointerScope()) {
      if (label == Resampling.LABEL_UINT8 && dtype != Resampling.UINT8) {
        long min = labels.min().item_long(), max = labels.max().item_long();
        labelRange(min, max);
      }
      long s = labels.size(0), h = labels.size(1), w = labels.size(2);
      Tensor out =
          labels.new_empty(new long[] {s, o.height(), o.width()}, new TensorOptions(outDtype));
      Resampling.nearest(
          labels,
          dtype,
          s,
          h,
          w,
          identity(s),
          geometry(h, w, o.height(), o.width(), null),
          0,
          label,
          out);
      return Outputs.handOut(scope, out);
    }
  }

  /**
   * Label masks of a {@link Volume} of stored integers (INT16 or UINT16, rescale 1 and 0: labels
   * are not rescaled), as {@link #masks(Tensor, Options, ScalarType)}.
   */
  public static Tensor masks(Volume labels, Options o, ScalarType outDtype) {
    if (labels == null) throw new IllegalArgumentException("labels: expected a volume, got null");
    if (labels.kind() == Volume.Kind.FLOAT32) {
      throw new IllegalArgumentException(
          "labels: expected INT16 or UINT16 stored labels, got" + " FLOAT32");
    }
    if (labels.slope() != 1 || labels.intercept() != 0) {
      throw new IllegalArgumentException(
          "labels: expected rescale slope 1 and intercept 0 (labels"
              + " are stored values), got "
              + labels.slope()
              + ", "
              + labels.intercept());
    }
    if (o == null) throw new IllegalArgumentException("options: expected options, got null");
    int label = labelDtype(outDtype);
    boolean signed = labels.kind() == Volume.Kind.INT16;
    short[] v = labels.shorts();
    if (label == Resampling.LABEL_UINT8) {
      long min = Long.MAX_VALUE, max = Long.MIN_VALUE;
      for (short x : v) {
        long y = signed ? x : (x & 0xffff);
        if (y < min) min = y;
        if (y > max) max = y;
      }
      labelRange(min, max);
    }
    long s = labels.slices(), h = labels.rows(), w = labels.columns();
    try (PointerScope scope = new PointerScope()) {
      Tensor out =
          torch.empty(new long[] {s, o.height(), o.width()}, new TensorOptions(outDtype), null);
      Resampling.nearest(
          v,
          signed ? Resampling.INT16 : Resampling.UINT16,
          s,
          h,
          w,
          identity(s),
          geometry(h, w, o.height(), o.width(), null),
          0,
          label,
          out);
      return Outputs.handOut(scope, out);
    }
  }

  static long[] identity(long s) {
    long[] z = new long[Math.toIntExact(s)];
    for (int i = 0; i < z.length; i++) z[i] = i;
    return z;
  }

  static int labelDtype(ScalarType outDtype) {
    if (outDtype == null) {
      throw new IllegalArgumentException("outDtype: expected Long or Byte, got null");
    }
    if (outDtype.value == ScalarType.Long.value) return Resampling.LABEL_INT64;
    if (outDtype.value == ScalarType.Byte.value) return Resampling.LABEL_UINT8;
    throw new IllegalArgumentException("outDtype: expected Long or Byte, got " + outDtype);
  }

  static void labelRange(long min, long max) {
    if (min < 0 || max > 255) {
      throw new IllegalArgumentException(
          "labels: expected labels in [0, 255] for Byte output, got"
              + " ["
              + min
              + ", "
              + max
              + "]");
    }
  }
}
