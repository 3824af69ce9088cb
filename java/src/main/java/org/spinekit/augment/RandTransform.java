package org.spinekit.augment;

import java.util.SplittableRandom;

/**
 * A transform applied with probability {@code p}: the first draw of the generator decides (applied
 * when it is below p), the following ones choose the parameters. {@link OneOf} picks among these
 * and applies the chosen one unconditionally ({@link #force}).
 */
public abstract class RandTransform implements Transform {
  private final double p;

  protected RandTransform(double p) {
    if (!(p >= 0 && p <= 1)) {
      throw new IllegalArgumentException("p: expected a probability in [0, 1], got " + p);
    }
    this.p = p;
  }

  public double p() {
    return p;
  }

  @Override
  public final Sample apply(Sample sample, SplittableRandom rng) {
    if (sample == null) throw new IllegalArgumentException("sample: expected a sample, got null");
    if (!(rng.nextDouble() < p)) return sample;
    return force(sample, rng);
  }

  /** Applies the transform whatever p is, its parameters drawn from {@code rng}. */
  public abstract Sample force(Sample sample, SplittableRandom rng);

  static double uniform(SplittableRandom rng, double lo, double hi) {
    return lo == hi ? lo : lo + (hi - lo) * rng.nextDouble();
  }

  static void nonNegative(double v, String name) {
    if (!(v >= 0) || Double.isInfinite(v)) {
      throw new IllegalArgumentException(name + ": expected a finite value >= 0, got " + v);
    }
  }
}
