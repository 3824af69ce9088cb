package org.spinekit.synth;

/**
 * Counter-based random numbers for the phantom: each value is a hash of a key and an index, so
 * voxels can be drawn in any order, on any thread, and still come out the same.
 */
final class CervicalNoise {
  private static final long GOLDEN = 0x9E3779B97F4A7C15L;
  private static final double SQRT3_OVER_65535 = Math.sqrt(3) / 65535.0;

  private CervicalNoise() {}

  /** The SplitMix64 finaliser: a bijective 64-bit mix. */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }

  /** A seed for one part of a run, from the run's seed and the part's indices. */
  static long seed(long seed, long... parts) {
    long h = mix(seed ^ GOLDEN);
    for (long p : parts) h = mix(h + GOLDEN * (p + 1));
    return h;
  }

  /**
   * An approximately standard normal value for (key, index): the sum of four uniform 16-bit fields
   * of one hash (Irwin-Hall), centred and scaled to unit variance; within 2 sqrt(3).
   */
  static float gaussian(long key, long index) {
    long h = mix(key + GOLDEN * index);
    long sum = (h & 0xffff) + ((h >>> 16) & 0xffff) + ((h >>> 32) & 0xffff) + (h >>> 48);
    return (float) ((sum - 2 * 65535.0) * SQRT3_OVER_65535);
  }
}
