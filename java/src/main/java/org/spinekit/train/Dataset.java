package org.spinekit.train;

import java.io.IOException;
import java.util.SplittableRandom;

/**
 * A data set of samples addressed by index, read by the {@link DataLoader}'s worker threads.
 * Implementations are safe to call from several threads at once and draw everything random from the
 * generator they are handed (seeded from (seed, epoch, index) by the loader), so a sample does not
 * depend on which thread reads it or when.
 */
public interface Dataset {
  /** Number of samples. */
  int size();

  /**
   * Sample {@code index} (0 &lt;= index &lt; size()). The example's tensor belongs to the caller
   * (it is handed to the caller's innermost {@link org.bytedeco.javacpp.PointerScope}).
   */
  Example get(int index, SplittableRandom rng) throws IOException;

  /** How {@link #of} makes sample {@code index}. */
  @FunctionalInterface
  interface Sampler {
    Example get(int index, SplittableRandom rng) throws IOException;
  }

  /** A data set of {@code size} samples made by {@code sampler}. */
  static Dataset of(int size, Sampler sampler) {
    return new Dataset() {
      @Override
      public int size() {
        return size;
      }

      @Override
      public Example get(int index, SplittableRandom rng) throws IOException {
        return sampler.get(index, rng);
      }
    };
  }
}
