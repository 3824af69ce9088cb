package org.spinekit.augment;

import java.util.SplittableRandom;
import org.spinekit.internal.jni.Warp;

/**
 * Resize to a fixed size (not random), as OpenCV's resize: pixel centres aligned (x' = (x + 0.5)
 * W'/W - 0.5), images bilinear with the edge pixels repeated (INTER_LINEAR), masks nearest
 * (INTER_NEAREST_EXACT), keypoints through the same map.
 */
public final class Resize implements Transform {
  private final long height;
  private final long width;

  public Resize(long height, long width) {
    if (height <= 0 || width <= 0) {
      throw new IllegalArgumentException(
          "size: expected positive height and width, got " + height + " x " + width);
    }
    this.height = height;
    this.width = width;
  }

  /** The forward matrix from an h x w frame. */
  double[] matrix(long h, long w) {
    double sx = (double) width / w, sy = (double) height / h;
    return new double[] {sx, 0, 0.5 * sx - 0.5, 0, sy, 0.5 * sy - 0.5};
  }

  @Override
  public Sample apply(Sample s, SplittableRandom rng) {
    if (s == null) throw new IllegalArgumentException("sample: expected a sample, got null");
    return Warps.affine(s, matrix(s.height(), s.width()), height, width, Warp.BORDER_REPLICATE);
  }
}
