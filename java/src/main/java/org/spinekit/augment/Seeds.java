package org.spinekit.augment;

/**
 * Per-sample seeds derived from (base seed, epoch, sample index) alone, so a sample's augmentation
 * does not depend on which worker thread draws it or when.
 */
public final class Seeds {
  private Seeds() {}

  /** SplitMix64 finaliser of the three values, mixed in turn. */
  public static long of(long base, long epoch, long index) {
    long h = mix(base ^ 0x9E3779B97F4A7C15L);
    h = mix(h ^ epoch);
    return mix(h ^ index);
  }

  private static long mix(long z) {
    z += 0x9E3779B97F4A7C15L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
