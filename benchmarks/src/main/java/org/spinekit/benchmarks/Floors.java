package org.spinekit.benchmarks;

/**
 * Memory-traffic floors: the bytes a fused forward + backward must at least read and write (float32
 * maps; the small [N, K, ndim] and [N, K, C] tensors are left out), divided by the copy bandwidth
 * that {@link CopyBandwidthBenchmark} measures. One definition for the runner ({@link BenchMain})
 * and the README.
 */
public final class Floors {
  private Floors() {}

  /** Grade classes C of the benchmarks (class weights 1, 2, 4). */
  public static final long CLASSES = 3;

  /**
   * DSNT: the forward reads the logits and writes the probabilities, the backward reads the
   * probabilities and writes the logit gradient: 4 maps of N*K*S floats.
   */
  static long dsntBytes(MapShape sh) {
    return 4L * 4 * sh.n() * sh.k() * sh.s();
  }

  /**
   * Heatmap pooling: the forward reads heat [N, K, S] and grade [N, C, S]; the backward reads both
   * again and writes a gradient of each: 3 * (K + C) * S * N floats.
   */
  static long heatmapPoolBytes(MapShape sh, long c) {
    return 4L * 3 * (sh.k() + c) * sh.s() * sh.n();
  }

  /**
   * Fused head loss (loss and both gradients in one call): reads heat and grade logits, writes
   * their gradients: 2 * (K + C) * S * N floats.
   */
  static long headLossBytes(MapShape sh, long c) {
    return 4L * 2 * (sh.k() + c) * sh.s() * sh.n();
  }

  /**
   * Floor bytes of the benchmark class (simple name, e.g. "DsntBenchmark") at a shape, or -1 for a
   * class without one.
   */
  public static long bytes(String benchmarkClass, String shape) {
    MapShape sh = MapShape.parse(shape);
    switch (benchmarkClass) {
      case "DsntBenchmark":
        return dsntBytes(sh);
      case "HeatmapPoolBenchmark":
        return heatmapPoolBytes(sh, CLASSES);
      case "HeadLossBenchmark":
        return headLossBytes(sh, CLASSES);
      default:
        return -1;
    }
  }

  /** Bytes read plus written by one {@link CopyBandwidthBenchmark} copy of {@code mib} MiB. */
  public static long copyBytes(int mib) {
    return 2L * mib * (1L << 20);
  }

  /** Time in ms to move {@code bytes} at {@code bytesPerSecond}. */
  public static double floorMs(long bytes, double bytesPerSecond) {
    return bytes / bytesPerSecond * 1e3;
  }

  /** Prints the floor bytes of every benchmark at the given shapes (default the three). */
  public static void main(String[] args) {
    String[] shapes =
        args.length > 0 ? args : new String[] {"8x5x80x80", "8x5x256x256", "2x10x24x80x80"};
    System.out.printf("%-22s %-16s %12s%n", "benchmark", "shape", "floor MB");
    for (String b : new String[] {"DsntBenchmark", "HeatmapPoolBenchmark", "HeadLossBenchmark"}) {
      for (String s : shapes) {
        System.out.printf("%-22s %-16s %12.2f%n", b, s, bytes(b, s) / 1e6);
      }
    }
  }
}
