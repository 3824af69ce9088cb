package org.spinekit.augment;

import java.util.SplittableRandom;
import org.spinekit.internal.jni.Warp;

/**
 * Shift, scale and rotation about the image centre, as albumentations' ShiftScaleRotate: angle
 * uniform in [-rotateLimit, rotateLimit] degrees (positive turns counter-clockwise on screen),
 * scale uniform in [1 - scaleLimit, 1 + scaleLimit], shifts uniform in [-shiftLimit, shiftLimit]
 * times the width and the height, drawn in that order. The forward matrix is OpenCV's
 * getRotationMatrix2D(((W-1)/2, (H-1)/2), angle, scale) plus the shift; the image is warped
 * bilinearly, the mask by nearest neighbour, both with a constant border of 0, through the inverse
 * of that matrix without building a map. Keypoints go through the forward matrix.
 */
public final class RandShiftScaleRotate extends RandTransform {
  private final double shiftLimit;
  private final double scaleLimit;
  private final double rotateLimit;

  public RandShiftScaleRotate(double shiftLimit, double scaleLimit, double rotateLimit, double p) {
    super(p);
    nonNegative(shiftLimit, "shiftLimit");
    nonNegative(scaleLimit, "scaleLimit");
    nonNegative(rotateLimit, "rotateLimit");
    if (scaleLimit >= 1) {
      throw new IllegalArgumentException("scaleLimit: expected a value < 1, got " + scaleLimit);
    }
    this.shiftLimit = shiftLimit;
    this.scaleLimit = scaleLimit;
    this.rotateLimit = rotateLimit;
  }

  /** SPEC.md: shift 0.0625, scale 0.05, rotate 10 degrees, p = 0.5. */
  public static RandShiftScaleRotate defaults() {
    return new RandShiftScaleRotate(0.0625, 0.05, 10, 0.5);
  }

  /** The forward matrix (source to output pixels) of the given parameters. */
  public static double[] matrix(
      double angleDeg, double scale, double dx, double dy, long h, long w) {
    double t = Math.toRadians(angleDeg);
    double a = scale * Math.cos(t), b = scale * Math.sin(t);
    double cx = (w - 1) / 2.0, cy = (h - 1) / 2.0;
    return new double[] {
      a, b, (1 - a) * cx - b * cy + dx * w,
      -b, a, b * cx + (1 - a) * cy + dy * h
    };
  }

  /** The forward matrix this transform draws from {@code rng} for an h x w image. */
  double[] draw(SplittableRandom rng, long h, long w) {
    double angle = uniform(rng, -rotateLimit, rotateLimit);
    double scale = uniform(rng, 1 - scaleLimit, 1 + scaleLimit);
    double dx = uniform(rng, -shiftLimit, shiftLimit);
    double dy = uniform(rng, -shiftLimit, shiftLimit);
    return matrix(angle, scale, dx, dy, h, w);
  }

  @Override
  public Sample force(Sample s, SplittableRandom rng) {
    double[] m = draw(rng, s.height(), s.width());
    return Warps.affine(s, m, s.height(), s.width(), Warp.BORDER_CONSTANT);
  }
}
