package org.spinekit.augment;

import java.util.SplittableRandom;

/**
 * Grid distortion, as albumentations' GridDistortion: each axis is cut into numSteps cells of width
 * W / numSteps (the last one runs to the edge), and each cell is stretched by a factor 1 +
 * uniform(-distortLimit, distortLimit) (x factors drawn first, then y). The output column u reads
 * the source column fx(u), a continuous, increasing, piecewise-linear function with fx(0) = 0 whose
 * slope on each cell is that cell's factor (rows likewise); the map is separable, map_x[v, u] =
 * fx(u), map_y[v, u] = fy(v). Unlike albumentations, which joins the cells with linspace and
 * repeats the value at each joint, the map is continuous there, and therefore exactly invertible:
 * keypoints move to (fx^-1(x), fy^-1(y)) exactly.
 */
public final class RandGridDistortion extends RandTransform {
  private final int numSteps;
  private final double distortLimit;

  public RandGridDistortion(int numSteps, double distortLimit, double p) {
    super(p);
    if (numSteps < 1) {
      throw new IllegalArgumentException("numSteps: expected at least 1, got " + numSteps);
    }
    nonNegative(distortLimit, "distortLimit");
    if (distortLimit >= 1) {
      throw new IllegalArgumentException(
          "distortLimit: expected a value < 1 (positive cell" + " widths), got " + distortLimit);
    }
    this.numSteps = numSteps;
    this.distortLimit = distortLimit;
  }

  /** SPEC.md: 5 steps, limit 0.05 (p = 0.5 as albumentations; OneOf weighs by it). */
  public static RandGridDistortion defaults() {
    return new RandGridDistortion(5, 0.05, 0.5);
  }

  /** One axis: knots (pixel positions) and the map's values there. */
  static final class Axis {
    final double[] knot;
    final double[] value;

    Axis(double[] knot, double[] value) {
      this.knot = knot;
      this.value = value;
    }

    /** f(u), extended linearly beyond the ends. */
    double at(double u) {
      int n = knot.length;
      if (n == 1) return u;
      int k = 0;
      while (k < n - 2 && u > knot[k + 1]) k++;
      double slope = (value[k + 1] - value[k]) / (knot[k + 1] - knot[k]);
      return value[k] + (u - knot[k]) * slope;
    }

    /** f^-1(x): f is increasing. */
    double inverse(double x) {
      int n = knot.length;
      if (n == 1) return x;
      int k = 0;
      while (k < n - 2 && x > value[k + 1]) k++;
      double slope = (value[k + 1] - value[k]) / (knot[k + 1] - knot[k]);
      return knot[k] + (x - value[k]) / slope;
    }
  }

  /** The axis of a size-n image from the numSteps factors. */
  Axis axis(long n, double[] factors) {
    long step = Math.max(1, n / numSteps);
    java.util.List<Double> knots = new java.util.ArrayList<>();
    for (int k = 0; k < numSteps && k * step < n - 1; k++) knots.add((double) (k * step));
    knots.add((double) (n - 1));
    if (n == 1) knots = java.util.List.of(0.0);
    double[] kn = new double[knots.size()];
    double[] val = new double[kn.length];
    for (int i = 0; i < kn.length; i++) kn[i] = knots.get(i);
    for (int i = 1; i < kn.length; i++) {
      val[i] = val[i - 1] + (kn[i] - kn[i - 1]) * factors[i - 1];
    }
    return new Axis(kn, val);
  }

  /** The two axes this transform draws from {@code rng} for an h x w image: {x, y}. */
  Axis[] draw(SplittableRandom rng, long h, long w) {
    double[] fx = new double[numSteps];
    double[] fy = new double[numSteps];
    for (int i = 0; i < numSteps; i++) fx[i] = 1 + uniform(rng, -distortLimit, distortLimit);
    for (int i = 0; i < numSteps; i++) fy[i] = 1 + uniform(rng, -distortLimit, distortLimit);
    return new Axis[] {axis(w, fx), axis(h, fy)};
  }

  /** The sampling maps {map_x, map_y}, [h, w] each, of the two axes. */
  static float[][] maps(Axis[] axes, long h, long w) {
    float[] col = new float[(int) w];
    float[] row = new float[(int) h];
    for (int u = 0; u < w; u++) col[u] = (float) axes[0].at(u);
    for (int v = 0; v < h; v++) row[v] = (float) axes[1].at(v);
    float[] mx = new float[(int) (h * w)];
    float[] my = new float[mx.length];
    for (int v = 0; v < h; v++) {
      System.arraycopy(col, 0, mx, (int) (v * w), (int) w);
      java.util.Arrays.fill(my, (int) (v * w), (int) ((v + 1) * w), row[v]);
    }
    return new float[][] {mx, my};
  }

  @Override
  public Sample force(Sample s, SplittableRandom rng) {
    long h = s.height(), w = s.width();
    Axis[] axes = draw(rng, h, w);
    float[][] m = maps(axes, h, w);
    Keypoints k = s.keypoints();
    if (k != null) {
      double[] nx = new double[k.size()];
      double[] ny = new double[k.size()];
      for (int i = 0; i < k.size(); i++) {
        nx[i] = axes[0].inverse(k.x(i));
        ny[i] = axes[1].inverse(k.y(i));
      }
      k = k.moved(nx, ny, false, h, w);
    }
    return Warps.remap(s, m[0], m[1], k);
  }
}
