package org.spinekit.augment;

import java.util.Arrays;
import java.util.function.IntUnaryOperator;

/**
 * Keypoints of a sample: (x, y) in pixels (the centre of pixel (row i, column j) is (j, i)), an
 * integer label each, and whether the point is still in frame. A point is in frame while it lies on
 * the image area, {@code -0.5 <= x < W - 0.5} and {@code -0.5 <= y < H - 0.5}, after every
 * transform so far: once a transform moves it out it stays out (its content is gone), but its
 * coordinates keep being transformed exactly.
 *
 * <p>Left/right pairing: {@code mirror} maps a label to the label of its mirror image (the left
 * foramen of a level to the right one). A horizontal flip replaces every label by its mirror;
 * {@link #UNPAIRED} leaves labels as they are. For the RSNA 2024 lumbar conditions use {@code c ->
 * Condition.values()[c].mirrored().ordinal()} on labels that are condition ordinals.
 *
 * <p>Immutable.
 */
public final class Keypoints {
  /** Labels without a left/right partner. */
  public static final IntUnaryOperator UNPAIRED = l -> l;

  private final double[] x;
  private final double[] y;
  private final int[] labels;
  private final boolean[] inFrame;
  private final IntUnaryOperator mirror;

  private Keypoints(
      double[] x, double[] y, int[] labels, boolean[] inFrame, IntUnaryOperator mirror) {
    this.x = x;
    this.y = y;
    this.labels = labels;
    this.inFrame = inFrame;
    this.mirror = mirror;
  }

  /**
   * @param xy x0, y0, x1, y1, ... in pixels (finite)
   * @param labels one per point
   * @param mirror label of the mirror image of each label, or {@link #UNPAIRED}
   */
  public static Keypoints of(double[] xy, int[] labels, IntUnaryOperator mirror) {
    if (xy == null || xy.length % 2 != 0) {
      throw new IllegalArgumentException(
          "xy: expected pairs x, y, got " + (xy == null ? "null" : xy.length + " values"));
    }
    int n = xy.length / 2;
    if (labels == null || labels.length != n) {
      throw new IllegalArgumentException(
          "labels: expected "
              + n
              + " labels (one per point),"
              + " got "
              + (labels == null ? "null" : labels.length));
    }
    if (mirror == null) throw new IllegalArgumentException("mirror: expected a mapping, got null");
    double[] x = new double[n];
    double[] y = new double[n];
    for (int i = 0; i < n; i++) {
      x[i] = xy[2 * i];
      y[i] = xy[2 * i + 1];
      if (!Double.isFinite(x[i]) || !Double.isFinite(y[i])) {
        throw new IllegalArgumentException(
            "xy: expected finite coordinates, got (" + x[i] + ", " + y[i] + ") for point " + i);
      }
    }
    boolean[] in = new boolean[n];
    Arrays.fill(in, true);
    return new Keypoints(x, y, labels.clone(), in, mirror);
  }

  /** A mirror mapping from label pairs {a, b}: a and b swap, other labels stay. */
  public static IntUnaryOperator pairs(int[][] pairs) {
    java.util.Map<Integer, Integer> m = new java.util.HashMap<>();
    for (int[] p : pairs) {
      if (p.length != 2) {
        throw new IllegalArgumentException(
            "pairs: expected pairs of 2 labels, got " + Arrays.toString(p));
      }
      m.put(p[0], p[1]);
      m.put(p[1], p[0]);
    }
    return l -> m.getOrDefault(l, l);
  }

  public int size() {
    return x.length;
  }

  public double x(int i) {
    return x[i];
  }

  public double y(int i) {
    return y[i];
  }

  public int label(int i) {
    return labels[i];
  }

  public boolean inFrame(int i) {
    return inFrame[i];
  }

  public IntUnaryOperator mirror() {
    return mirror;
  }

  /** The points moved to (nx, ny) in an h x w frame; labels mirrored when {@code swap}. */
  Keypoints moved(double[] nx, double[] ny, boolean swap, long h, long w) {
    int n = size();
    int[] nl = labels.clone();
    boolean[] in = new boolean[n];
    for (int i = 0; i < n; i++) {
      if (swap) nl[i] = mirror.applyAsInt(labels[i]);
      in[i] = inFrame[i] && nx[i] >= -0.5 && nx[i] < w - 0.5 && ny[i] >= -0.5 && ny[i] < h - 0.5;
    }
    return new Keypoints(nx, ny, nl, in, mirror);
  }

  /** The points under the 2x3 forward matrix m (source to output), row major. */
  Keypoints affine(double[] m, long h, long w) {
    int n = size();
    double[] nx = new double[n];
    double[] ny = new double[n];
    for (int i = 0; i < n; i++) {
      nx[i] = m[0] * x[i] + m[1] * y[i] + m[2];
      ny[i] = m[3] * x[i] + m[4] * y[i] + m[5];
    }
    return moved(nx, ny, false, h, w);
  }

  @Override
  public String toString() {
    StringBuilder b = new StringBuilder("Keypoints[");
    for (int i = 0; i < size(); i++) {
      if (i > 0) b.append(", ");
      b.append(labels[i]).append('@').append(x[i]).append(',').append(y[i]);
      if (!inFrame[i]) b.append("(out)");
    }
    return b.append(']').toString();
  }
}
