package org.spinekit.augment;

import java.util.SplittableRandom;

/**
 * A joint transform of a {@link Sample}. Everything random is drawn from the generator it is
 * handed, so the same seed gives the same output on every run, thread and thread count.
 */
public interface Transform {
  /** The transformed sample; {@code sample} itself is never modified. */
  Sample apply(Sample sample, SplittableRandom rng);

  /** {@link #apply(Sample, SplittableRandom)} with a generator seeded by {@code seed}. */
  default Sample apply(Sample sample, long seed) {
    return apply(sample, new SplittableRandom(seed));
  }
}
