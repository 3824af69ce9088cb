package org.spinekit.ops;

import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.spinekit.internal.jni.Resampling;
import org.spinekit.tensor.Checks;
import org.spinekit.tensor.Outputs;

/**
 * An intensity window (center, width) and the normalisations of CT and MR images into float32.
 *
 * <p>A window maps a modality value v to {@code (clamp(v, c - w/2, c + w/2) - (c - w/2)) / w}, in
 * [0, 1]. {@link #channels} applies several windows as channels (e.g. a soft-tissue and a bone
 * window of a CT slice); {@link #percentile} normalises an MR image between two of its percentiles
 * (p1 .. p99 to [0, 1], clamped); {@link #zScore} to zero mean and unit standard deviation.
 *
 * <p>NaN voxels propagate: a NaN input is NaN in every window channel; for {@link #percentile} and
 * {@link #zScore} one NaN voxel makes the statistics and so the whole output NaN (as numpy's {@code
 * percentile}, {@code mean} and {@code std} do).
 */
public record Window(double center, double width) {
  /** Soft tissue (40, 400) and bone (400, 1800), the windows of the cervical write-ups. */
  public static final Window SOFT_TISSUE = new Window(40, 400);

  public static final Window BONE = new Window(400, 1800);

  public Window {
    if (!Double.isFinite(center)) {
      throw new IllegalArgumentException("center: expected a finite value, got " + center);
    }
    if (!(width > 0) || Double.isInfinite(width)) {
      throw new IllegalArgumentException("width: expected a finite value > 0, got " + width);
    }
  }

  /** Lower edge c - w/2. */
  public double low() {
    return center - width / 2;
  }

  /** Upper edge c + w/2. */
  public double high() {
    return center + width / 2;
  }

  /** The window mapping the value range [low, high] onto [0, 1]. */
  public static Window ofRange(double low, double high) {
    if (!(high > low)) {
      throw new IllegalArgumentException(
          "range: expected low < high, got [" + low + ", " + high + "]");
    }
    return new Window((low + high) / 2, high - low);
  }

  /**
   * Windows as channels: {@code x [N, ...]} (int16, uint16, uint8 or float32 stored values,
   * modality value = stored * slope + intercept; rank >= 1) -> float32 {@code [N, windows, ...]} on
   * x's device, channel c = window c of the modality values. For a single image [H, W] the channels
   * come after the rows: pass {@code x.unsqueeze(0)} to get [1, n, H, W].
   */
  public static Tensor channels(Tensor x, double slope, double intercept, List<Window> windows) {
    Checks.defined(x, "x");
    int dtype = Resampling.sourceDtype(x.scalar_type());
    if (dtype < 0) {
      throw new IllegalArgumentException(
          "x: expected dtype Short, UInt16, Byte or Float, got " + x.scalar_type());
    }
    Checks.tensor(x, "x", x.scalar_type(), null);
    Checks.rank(x, "x", 1, 2, 3, 4, 5, 6);
    rescale(slope, intercept);
    if (windows == null || windows.isEmpty()) {
      throw new IllegalArgumentException("windows: expected at least one window, got none");
    }
    float[] cw = new float[2 * windows.size()];
    for (int i = 0; i < windows.size(); i++) {
      Window w = windows.get(i);
      if (w == null) throw new IllegalArgumentException("windows: entry " + i + " is null");
      cw[2 * i] = (float) w.center;
      cw[2 * i + 1] = (float) w.width;
    }
    long[] shape = Checks.shape(x);
    long outer = shape[0];
    long inner = x.numel() / outer;
    long[] outShape = new long[shape.length + 1];
    outShape[0] = outer;
    outShape[1] = windows.size();
    System.arraycopy(shape, 1, outShape, 2, shape.length - 1);
    try (PointerScope scope = new PointerScope()) {
      Tensor out = x.new_empty(outShape, new org.bytedeco.pytorch.TensorOptions(ScalarType.Float));
      Resampling.windows(x, dtype, outer, inner, (float) slope, (float) intercept, cw, out);
      return Outputs.handOut(scope, out);
    }
  }

  /** {@link #channels} of float32 (or integer, rescale 1, 0) values. */
  public static Tensor channels(Tensor x, Window... windows) {
    return channels(x, 1, 0, List.of(windows));
  }

  /**
   * MR percentile normalisation: {@code x} (any rank, any real dtype, any device) to float32 of the
   * same shape, {@code clamp((x - p_lo) / (p_hi - p_lo), 0, 1)} where p_q is the q-th percentile of
   * all of x with numpy's default linear interpolation (between the sorted values at ranks floor
   * and ceil of q/100 * (n - 1)). Defaults are (1, 99). An image whose two percentiles are equal
   * (e.g. constant) maps to 0 where {@code x <= p} and 1 above it.
   */
  public static Tensor percentile(Tensor x, double lowPercent, double highPercent) {
    Checks.defined(x, "x");
    if (x.numel() == 0) {
      throw new IllegalArgumentException(
          "x: expected a non-empty tensor, got shape " + Checks.shapeString(x));
    }
    if (!(lowPercent >= 0 && lowPercent < highPercent && highPercent <= 100)) {
      throw new IllegalArgumentException(
          "percentiles: expected 0 <= low < high <= 100, got ("
              + lowPercent
              + ", "
              + highPercent
              + ")");
    }
    try (PointerScope scope = new PointerScope()) {
      Tensor f = x.to(ScalarType.Float).reshape(-1);
      Tensor out;
      if (f.isnan().any().item_bool()) {
        out = torch.full_like(x.to(ScalarType.Float), new org.bytedeco.pytorch.Scalar(Float.NaN));
      } else {
        Tensor sorted = f.to(ScalarType.Double).sort().get0();
        double lo = percentileOf(sorted, lowPercent);
        double hi = percentileOf(sorted, highPercent);
        Tensor xf = x.to(ScalarType.Float);
        if (hi > lo) {
          Window w = ofRange(lo, hi);
          out = channels(xf.reshape(1, -1), w).reshape(Checks.shape(x));
        } else {
          out = xf.gt(new org.bytedeco.pytorch.Scalar(hi)).to(ScalarType.Float);
        }
      }
      return Outputs.handOut(scope, out.contiguous());
    }
  }

  /** {@link #percentile} with p1 and p99. */
  public static Tensor percentile(Tensor x) {
    return percentile(x, 1, 99);
  }

  private static double percentileOf(Tensor sorted, double q) {
    long n = sorted.numel();
    double pos = q / 100 * (n - 1);
    long i0 = (long) Math.floor(pos);
    long i1 = Math.min(i0 + 1, n - 1);
    double a = sorted.select(0, i0).item_double();
    double b = sorted.select(0, i1).item_double();
    return a + (b - a) * (pos - i0);
  }

  /**
   * Z-score: {@code (x - mean) / std} over all of x (population standard deviation, as numpy's
   * default), float32 of x's shape. A constant image (std 0) maps to zeros.
   */
  public static Tensor zScore(Tensor x) {
    Checks.defined(x, "x");
    if (x.numel() == 0) {
      throw new IllegalArgumentException(
          "x: expected a non-empty tensor, got shape " + Checks.shapeString(x));
    }
    try (PointerScope scope = new PointerScope()) {
      Tensor d = x.to(ScalarType.Double);
      double mean = d.mean().item_double();
      double var = d.sub(new org.bytedeco.pytorch.Scalar(mean)).square().mean().item_double();
      double std = Math.sqrt(var);
      Tensor c = d.sub(new org.bytedeco.pytorch.Scalar(mean));
      Tensor out =
          (std > 0
                  ? c.div(new org.bytedeco.pytorch.Scalar(std))
                  : c.mul(new org.bytedeco.pytorch.Scalar(0.0)))
              .to(ScalarType.Float)
              .contiguous();
      return Outputs.handOut(scope, out);
    }
  }

  static void rescale(double slope, double intercept) {
    if (!Double.isFinite(slope) || slope == 0) {
      throw new IllegalArgumentException("slope: expected a finite non-zero value, got " + slope);
    }
    if (!Double.isFinite(intercept)) {
      throw new IllegalArgumentException("intercept: expected a finite value, got " + intercept);
    }
  }
}
