package org.spinekit.internal.jni;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * {@link Kernels#keepAllocatorWarm}: when loading the library turns it on, that glibc takes it, and
 * that libtorch's tensors then find their freed memory again: after a warm-up, rounds that make and
 * free a 12 MiB and a 4 MiB tensor (the gradients of a [2, 10, 24, 80, 80] heatmap pooling) hardly
 * page-fault. Whether glibc's defaults would fault there depends on the heap layout a process
 * happens to have; native/test/test_malloc.cpp shows the mechanisms one by one.
 */
class AllocatorWarmTest {
  private static final long[] FLOATS = {3L << 20, 1L << 20}; // 12 MiB, 4 MiB
  private static final long PAGES = (FLOATS[0] + FLOATS[1]) * 4 / 4096;
  private static final int ROUNDS = 20;

  @Test
  void loadTimeDefaultFollowsEnvironmentAndProperty() {
    Properties none = new Properties();
    assertTrue(Kernels.mallocTuningByDefault(Map.of(), none));
    assertTrue(Kernels.mallocTuningByDefault(Map.of("SPINEKIT_MALLOC_TUNING", "1"), none));
    assertFalse(Kernels.mallocTuningByDefault(Map.of("SPINEKIT_MALLOC_TUNING", "0"), none));
    // Thresholds the process was started with are left alone.
    assertFalse(
        Kernels.mallocTuningByDefault(
            Map.of(
                "GLIBC_TUNABLES",
                "glibc.malloc.mmap_threshold=2147483647:glibc.malloc.trim_threshold=4294967295"),
            none));
    assertFalse(
        Kernels.mallocTuningByDefault(
            Map.of("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=1"), none));
    assertFalse(Kernels.mallocTuningByDefault(Map.of("MALLOC_MMAP_THRESHOLD_", "65536"), none));
    assertTrue(
        Kernels.mallocTuningByDefault(Map.of("GLIBC_TUNABLES", "glibc.malloc.arena_max=2"), none));
    // The system property wins over the environment.
    Properties off = new Properties();
    off.setProperty("spinekit.mallocTuning", "false");
    assertFalse(Kernels.mallocTuningByDefault(Map.of(), off));
    Properties on = new Properties();
    on.setProperty("spinekit.mallocTuning", "true");
    assertTrue(Kernels.mallocTuningByDefault(Map.of("SPINEKIT_MALLOC_TUNING", "0"), on));
    Properties bad = new Properties();
    bad.setProperty("spinekit.mallocTuning", "yes");
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> Kernels.mallocTuningByDefault(Map.of(), bad));
    assertTrue(
        e.getMessage().contains("spinekit.mallocTuning") && e.getMessage().contains("yes"),
        e.getMessage());
  }

  @Test
  void freedTensorMemoryIsFoundAgainWhenWarm() throws IOException {
    boolean byDefault = Kernels.mallocTuningByDefault(System.getenv(), System.getProperties());
    long atLoad = Kernels.allocatorMmapThreshold(); // the first call loads the library
    try {
      assertTrue(Kernels.keepAllocatorWarm(true), "glibc refused the settings");
      long threshold = Kernels.allocatorMmapThreshold();
      assertTrue(
          threshold == Integer.MAX_VALUE || threshold == 32L << 20, "mmap threshold " + threshold);
      assertEquals(byDefault ? threshold : 0, atLoad, "threshold set when the library loaded");
      for (int i = 0; i < 2 * ROUNDS; i++) round(); // posix_memalign's slack settles
      long before = minorFaults();
      for (int i = 0; i < ROUNDS; i++) round();
      long faults = minorFaults() - before;
      assertTrue(
          faults < ROUNDS * PAGES / 20,
          faults + " page faults in " + ROUNDS + " rounds of " + PAGES + " pages");

      assertTrue(Kernels.keepAllocatorWarm(false), "glibc refused its defaults");
      assertEquals(128 * 1024, Kernels.allocatorMmapThreshold());
    } finally {
      if (byDefault) Kernels.keepAllocatorWarm(true);
    }
  }

  private static void round() {
    try (PointerScope scope = new PointerScope()) {
      for (long n : FLOATS) torch.empty(n).fill_(new Scalar(1.0));
    }
  }

  /** Field 10 (minflt) of /proc/self/stat: the process's minor page faults. */
  private static long minorFaults() throws IOException {
    String stat = Files.readString(Path.of("/proc/self/stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(f[7]);
  }
}
