package org.spinekit.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.bytedeco.javacpp.Pointer;

/**
 * Native memory readings for the tests that prove it stays flat. JavaCPP frees unreachable objects
 * on its deallocator thread after a garbage collection, at a moment no test controls, so garbage
 * left by earlier tests in the same JVM (or by the test's own warm-up) would be freed in the middle
 * of a measurement; every reading here is taken once that has settled.
 */
public final class NativeMemory {
  private NativeMemory() {}

  /**
   * Native memory at one moment.
   *
   * @param trackedBytes bytes JavaCPP tracks ({@link Pointer#totalBytes()})
   * @param trackedObjects native objects Java owns ({@link Pointer#totalCount()})
   * @param rss the process's resident set ({@link Pointer#physicalBytes()})
   */
  public record Reading(long trackedBytes, long trackedObjects, long rss) {}

  /**
   * A reading once garbage has been collected and freed: collects garbage until two readings 20 ms
   * apart track the same bytes and objects (at most 50 times).
   */
  public static Reading settled() {
    Reading last = null;
    for (int i = 0; i < 50; i++) {
      System.gc();
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
      Reading now =
          new Reading(Pointer.totalBytes(), Pointer.totalCount(), Pointer.physicalBytes());
      if (last != null
          && now.trackedBytes == last.trackedBytes
          && now.trackedObjects == last.trackedObjects) {
        return now;
      }
      last = now;
    }
    return last;
  }

  /** Fails unless JavaCPP tracks as many bytes and native objects as it did before. */
  public static void assertTrackedFlat(Reading before, Reading after, String what) {
    assertEquals(before.trackedBytes, after.trackedBytes, "bytes tracked by JavaCPP " + what);
    assertEquals(
        before.trackedObjects, after.trackedObjects, "native objects owned by Java " + what);
  }

  /**
   * The settled readings before the first block and after each of {@code blocks} runs of {@code
   * block}.
   */
  public static Reading[] acrossBlocks(int blocks, Runnable block) {
    Reading[] r = new Reading[blocks + 1];
    r[0] = settled();
    for (int b = 0; b < blocks; b++) {
      block.run();
      r[b + 1] = settled();
    }
    return r;
  }

  /**
   * Room for growth that comes in steps, not in every block: the malloc arena of the JIT compiler's
   * threads (steps of up to 15 MB seen in one block, partly given back later), the code cache, and
   * a thread arena's heap (64 MiB on 64-bit glibc) that a call's transient tensors touch for the
   * first time when the arena's free memory is too fragmented to hold them (with the allocator kept
   * warm, that memory stays; a one-off step of 59 MB came after 20 served cervical predictions in a
   * CI run that had run 600 tests in the same JVM). On a busy machine the compiler still works
   * thousands of rounds after a warm-up.
   */
  public static final long STEPS = 64L << 20;

  /**
   * Fails when the resident set grows steadily: when more than half the blocks grew by more than
   * {@code perBlock} bytes each, or the growth from the first reading to the last exceeds {@code
   * perBlock} per block plus {@link #STEPS}. A leak grows the process in every block; the
   * compiler's and allocator's steps (and trims that give memory back) come in a few blocks only.
   * Choose {@code perBlock} above a quiet block's noise (tens of kB) and below what the smallest
   * leak the test means to catch adds per block, and name that leak in {@code leak}.
   *
   * @param readings settled readings before the first block and after each block (at least 8
   *     blocks, so that a few blocks of steps do not decide)
   */
  public static void assertRssFlat(Reading[] readings, long perBlock, String leak) {
    int blocks = readings.length - 1;
    assertTrue(blocks >= 8, "at least 8 blocks, got " + blocks);
    long[] growth = new long[blocks];
    int grew = 0;
    for (int b = 0; b < blocks; b++) {
      growth[b] = readings[b + 1].rss - readings[b].rss;
      if (growth[b] > perBlock) grew++;
    }
    long total = readings[blocks].rss - readings[0].rss;
    long totalBound = perBlock * blocks + STEPS;
    String text =
        String.format(
            "RSS %s MB -> %s MB, %+d kB (at most %d kB); %d of %d blocks"
                + " grew by more than %d kB (at most %d may): %s kB; %s",
            mb(readings[0].rss),
            mb(readings[blocks].rss),
            total >> 10,
            totalBound >> 10,
            grew,
            blocks,
            perBlock >> 10,
            blocks / 2,
            Arrays.toString(Arrays.stream(growth).map(g -> g >> 10).toArray()),
            leak);
    System.out.println(text);
    assertTrue(grew <= blocks / 2 && total <= totalBound, text);
  }

  private static String mb(long bytes) {
    return String.format("%.1f", bytes / 1048576.0);
  }
}
