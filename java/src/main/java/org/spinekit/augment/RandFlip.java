package org.spinekit.augment;

import java.util.SplittableRandom;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.spinekit.tensor.Outputs;

/**
 * Horizontal or vertical flip. Pixels move exactly (x to W-1-x, or y to H-1-y), and so do
 * keypoints. A horizontal flip also swaps left and right: every keypoint label becomes its mirror
 * ({@link Keypoints#mirror()}); a vertical flip keeps labels.
 */
public final class RandFlip extends RandTransform {
  public enum Axis {
    HORIZONTAL,
    VERTICAL
  }

  private final Axis axis;

  public RandFlip(Axis axis, double p) {
    super(p);
    if (axis == null) throw new IllegalArgumentException("axis: expected an axis, got null");
    this.axis = axis;
  }

  /** Horizontal flip with p = 0.5, as SPEC.md's cervical pipeline. */
  public static RandFlip horizontal() {
    return new RandFlip(Axis.HORIZONTAL, 0.5);
  }

  public static RandFlip vertical() {
    return new RandFlip(Axis.VERTICAL, 0.5);
  }

  public Axis axis() {
    return axis;
  }

  @Override
  public Sample force(Sample s, SplittableRandom rng) {
    boolean h = axis == Axis.HORIZONTAL;
    try (PointerScope scope = new PointerScope()) {
      Tensor img = s.image().flip(h ? 2 : 1);
      Tensor mask = s.mask() == null ? null : s.mask().flip(h ? 1 : 0);
      Keypoints k = s.keypoints();
      if (k != null) {
        double[] nx = new double[k.size()];
        double[] ny = new double[k.size()];
        for (int i = 0; i < k.size(); i++) {
          nx[i] = h ? s.width() - 1 - k.x(i) : k.x(i);
          ny[i] = h ? k.y(i) : s.height() - 1 - k.y(i);
        }
        k = k.moved(nx, ny, h, s.height(), s.width());
      }
      return new Sample(Outputs.handOut(scope, img), Outputs.handOut(scope, mask), k);
    }
  }
}
