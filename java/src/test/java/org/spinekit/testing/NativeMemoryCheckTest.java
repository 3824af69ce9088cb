package org.spinekit.testing;

import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;

/** The RSS check on made-up readings: a steady leak fails it, one-off steps do not. */
class NativeMemoryCheckTest {
  private static final long KB = 1024;

  /** Readings whose RSS grows by {@code kb[i]} kB in block i. */
  private static NativeMemory.Reading[] blocks(long... kb) {
    NativeMemory.Reading[] r = new NativeMemory.Reading[kb.length + 1];
    long rss = 1L << 30;
    r[0] = new NativeMemory.Reading(0, 0, rss);
    for (int i = 0; i < kb.length; i++) {
      rss += kb[i] * KB;
      r[i + 1] = new NativeMemory.Reading(0, 0, rss);
    }
    return r;
  }

  private static void fails(long... kb) {
    assertThrows(
        AssertionFailedError.class, () -> NativeMemory.assertRssFlat(blocks(kb), 256 * KB, "test"));
  }

  private static void passes(long... kb) {
    NativeMemory.assertRssFlat(blocks(kb), 256 * KB, "test");
  }

  @Test
  void quietBlocksAndOneOffStepsPass() {
    passes(8, 28, 0, 12, 0, 4, 20, 64);
    // Seen on this project's tests: the compiler's malloc arena growing in a few blocks.
    passes(8, 28, 0, 1500, 0, 6120, 5516, 64);
    passes(80, 8028, -824, 4, 16, 0, 0, 8);
    // A thread arena's heap touched once (a served prediction in a CI run).
    passes(152, 0, 92, 64, 0, 64, 68, 60040);
  }

  @Test
  void aSteadyLeakFails() {
    fails(508, 508, 508, 516, 508, 508, 508, 508);
    // A trim in one block: the smallest block alone would not show the leak.
    fails(-824, 508, 508, 516, 508, 508, 508, 508);
    // Leaking in more than half the blocks.
    fails(0, 0, 0, 508, 508, 508, 508, 508);
  }

  @Test
  void largeGrowthInAFewBlocksFails() {
    fails(0, 0, 0, 0, 0, 40_000, 40_000, 0);
    fails(0, 20_000, 0, 20_000, 0, 20_000, 20_000, 0);
  }

  @Test
  void tooFewBlocksAreRefused() {
    fails(0, 0, 0, 0);
  }
}
