package org.spinekit.benchmarks;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The figures {@code spinekit bench ci} guards: ratios of two benchmarks measured in the same run
 * (a fused kernel beside its libtorch composite, the native augmentation beside OpenCV), or the
 * fraction of the memory-traffic floor a kernel reaches (the floor from the copy bandwidth measured
 * in the same run). Never an absolute time: a slower or busier machine moves both sides of a ratio.
 * Each figure is "larger is better"; a run fails when one falls below its floor ({@link CiFloors}).
 */
final class Guards {
  private Guards() {}

  /** The map shape of the quick kernel guards. */
  static final String SMALL = "8x5x80x80";

  /** The memory-bound map shape of the full set. */
  static final String LARGE = "8x5x256x256";

  /** The 3D map shape of the full set. */
  static final String VOLUME = "2x10x24x80x80";

  /**
   * Slices of the stacking benchmark's volume in the guards: 84 MB read and written, beyond the
   * caches.
   */
  static final String SLICES = "48";

  /** The copy of the floors: {@link CopyBandwidthBenchmark} at 64 MiB. */
  static final String COPY_MIB = "64";

  /**
   * A benchmark at one parameter set: what a guard reads.
   *
   * @param benchmark {@code Class.method}, as in {@link JmhResults.Row#benchmark}
   */
  record Bench(String benchmark, Map<String, String> params) {
    String key() {
      return JmhResults.Row.key(benchmark, params);
    }

    String className() {
      return benchmark.substring(0, benchmark.indexOf('.'));
    }
  }

  /** How a guard's figure is computed. */
  enum Kind {
    /** cost(reference) / cost(subject): the subject's speed-up. */
    RATIO,
    /**
     * floor time / time(subject), the floor time being {@code floorBytes} at the copy bandwidth of
     * {@code reference} ({@link CopyBandwidthBenchmark}): 1 is at the floor.
     */
    FLOOR,
    /**
     * A figure measured outside JMH by another {@code spinekit bench} command in the same run
     * ({@link CiBench#external}): Python torch's time over Java's for the same work.
     */
    EXTERNAL
  }

  /** What a guard needs besides the benchmarks jar, or nothing. */
  enum Needs {
    NOTHING,
    /** GDCM's Java binding (libgdcm-java). */
    GDCM,
    /** Debian's Python with torch ({@code /usr/bin/python3}). */
    PYTHON
  }

  /**
   * One guarded figure.
   *
   * @param name the floors file's name for it, e.g. {@code dsnt.speedup[8x5x80x80]}
   * @param quick whether {@code --quick} runs it (the full set runs every guard)
   * @param kind how it is computed
   * @param subject the benchmark guarded
   * @param reference what it is held against: the composite, OpenCV, or the copy of the floor
   * @param floorBytes for {@link Kind#FLOOR}: bytes the subject must at least read and write
   * @param what one line for the table
   */
  record Guard(
      String name,
      boolean quick,
      Kind kind,
      Bench subject,
      Bench reference,
      long floorBytes,
      String what,
      Needs needs) {

    /**
     * The figure from a run's rows (and for {@link Kind#EXTERNAL}, from {@code external} by name),
     * or NaN when something it needs is missing.
     */
    double value(Map<String, JmhResults.Row> rows, Map<String, Double> external) {
      if (kind == Kind.EXTERNAL) return external.getOrDefault(name, Double.NaN);
      return value(rows);
    }

    /** The figure from a run's rows, or NaN when a row it needs is missing. */
    double value(Map<String, JmhResults.Row> rows) {
      if (kind == Kind.EXTERNAL) return Double.NaN;
      JmhResults.Row s = rows.get(subject.key());
      JmhResults.Row r = rows.get(reference.key());
      if (s == null || r == null) return Double.NaN;
      double subjectSeconds = seconds(s);
      double referenceSeconds = seconds(r);
      if (kind == Kind.RATIO) return referenceSeconds / subjectSeconds;
      int mib = Integer.parseInt(reference.params().get("mib"));
      double floorSeconds = referenceSeconds * floorBytes / Floors.copyBytes(mib);
      return floorSeconds / subjectSeconds;
    }
  }

  /** A row's cost per operation in seconds (median iteration), whatever its unit and mode. */
  static double seconds(JmhResults.Row r) {
    String unit = r.unit();
    int slash = unit.indexOf('/');
    if (slash < 0) throw new IllegalArgumentException(r.key() + ": unit '" + unit + "'");
    double cost = r.cost();
    String time = r.higherIsFaster() ? unit.substring(slash + 1) : unit.substring(0, slash);
    double scale =
        switch (time) {
          case "s" -> 1;
          case "ms" -> 1e-3;
          case "us" -> 1e-6;
          case "ns" -> 1e-9;
          case "min" -> 60;
          default -> throw new IllegalArgumentException(r.key() + ": unit '" + unit + "'");
        };
    return cost * scale;
  }

  private static Bench kernel(String cls, String impl, String shape, int threads) {
    return new Bench(
        cls + ".forwardBackward",
        Map.of("impl", impl, "shape", shape, "threads", Integer.toString(threads)));
  }

  private static Bench copy(int threads) {
    return new Bench(
        "CopyBandwidthBenchmark.copy",
        Map.of("mib", COPY_MIB, "threads", Integer.toString(threads)));
  }

  private static Bench stack(String impl, int threads) {
    return new Bench(
        "StackBenchmark.stack",
        Map.of("impl", impl, "slices", SLICES, "threads", Integer.toString(threads)));
  }

  /** Every guard, with the kernels, the copy and the stacking on {@code threads}. */
  static List<Guard> all(int threads) {
    List<Guard> g = new ArrayList<>();
    String[][] kernels = {
      {"dsnt", "DsntBenchmark", "DSNT"},
      {"heatmap-pool", "HeatmapPoolBenchmark", "heatmap pooling"},
      {"head-loss", "HeadLossBenchmark", "fused head loss"}
    };
    for (String[] k : kernels) {
      g.add(speedup(k, SMALL, true, threads));
    }
    g.add(floor(kernels[2], SMALL, true, threads));
    g.add(
        new Guard(
            "stack.speedup[" + SLICES + "x512x512]",
            true,
            Kind.RATIO,
            stack("native", threads),
            stack("composite", threads),
            0,
            "2.5D stacking: native / libtorch composite",
            Needs.NOTHING));
    g.add(
        new Guard(
            "stack.floor[" + SLICES + "x512x512]",
            true,
            Kind.RATIO,
            stack("native-into", threads),
            stack("copy", threads),
            0,
            "2.5D stacking into a reused output: fraction of its memory floor (a copy of its bytes)",
            Needs.NOTHING));
    g.add(
        new Guard(
            "augment.speedup",
            true,
            Kind.RATIO,
            new Bench(
                "AugmentBenchmark.cervicalPipeline", Map.of("impl", "native", "threads", "1")),
            new Bench(
                "AugmentBenchmark.cervicalPipeline", Map.of("impl", "opencv", "threads", "1")),
            0,
            "cervical joint augmentation (1 thread): native / OpenCV-composed",
            Needs.NOTHING));
    // The full set.
    g.add(speedup(kernels[0], VOLUME, false, threads));
    g.add(speedup(kernels[1], LARGE, false, threads));
    g.add(speedup(kernels[2], LARGE, false, threads));
    g.add(floor(kernels[0], LARGE, false, threads));
    g.add(floor(kernels[2], LARGE, false, threads));
    g.add(
        new Guard(
            "loader.scaling",
            false,
            Kind.RATIO,
            new Bench("LoaderBenchmark.epoch", Map.of("workers", "2")),
            new Bench("LoaderBenchmark.epoch", Map.of("workers", "1")),
            0,
            "data loader (crops, augmentation, batches): 2 workers / 1 worker",
            Needs.NOTHING));
    for (String codec : new String[] {"raw", "jpegls"}) {
      g.add(
          new Guard(
              "dicom.vs-gdcm[" + codec + "]",
              false,
              Kind.RATIO,
              new Bench("DicomDecodeBenchmark.decode", Map.of("impl", "spinekit", "codec", codec)),
              new Bench("DicomDecodeBenchmark.decode", Map.of("impl", "gdcm", "codec", codec)),
              0,
              "DICOM decode of a 512x512 CT slice ("
                  + (codec.equals("raw") ? "uncompressed" : "JPEG-LS")
                  + "), 1 thread: SpineKit / GDCM's library in process",
              Needs.GDCM));
    }
    for (String net : ForwardBench.NETS) {
      g.add(
          new Guard(
              "forward.vs-python[" + net + "]",
              false,
              Kind.EXTERNAL,
              null,
              null,
              0,
              "eval forward of the cpu-small " + net + " (batch 1, 1 thread): Java / Python torch",
              Needs.PYTHON));
    }
    for (String c : TRAIN_CASES) {
      g.add(
          new Guard(
              "train.vs-python[" + c + "]",
              false,
              Kind.EXTERNAL,
              null,
              null,
              0,
              (c.contains(":train:") ? "train step" : "inference")
                  + " of "
                  + c
                  + " (1 thread): Java / Python torch",
              Needs.PYTHON));
    }
    return g;
  }

  /** The cases of {@code bench train} the full set runs. */
  static final List<String> TRAIN_CASES =
      List.of("unet_b0:train:2x3x128x128", "unet_b0:infer:1x3x128x128");

  private static Guard speedup(String[] k, String shape, boolean quick, int threads) {
    return new Guard(
        k[0] + ".speedup[" + shape + "]",
        quick,
        Kind.RATIO,
        kernel(k[1], "fused", shape, threads),
        kernel(k[1], "composite", shape, threads),
        0,
        k[2] + " forward + backward: fused / libtorch composite",
        Needs.NOTHING);
  }

  private static Guard floor(String[] k, String shape, boolean quick, int threads) {
    return new Guard(
        k[0] + ".floor[" + shape + "]",
        quick,
        Kind.FLOOR,
        kernel(k[1], "fused", shape, threads),
        copy(threads),
        Floors.bytes(k[1], shape),
        k[2] + " fused: fraction of the memory-traffic floor (its bytes at the copy bandwidth)",
        Needs.NOTHING);
  }

  /** The guards of a set. */
  static List<Guard> of(boolean quick, int threads) {
    List<Guard> out = new ArrayList<>();
    for (Guard g : all(threads)) if (g.quick() || !quick) out.add(g);
    return out;
  }

  /**
   * The JMH runs the guards need: per benchmark class, each parameter's values (JMH runs their
   * product), always with the copy benchmark (for the machine record).
   */
  static Map<String, Map<String, List<String>>> runs(List<Guard> guards, int threads) {
    Map<String, Map<String, List<String>>> out = new LinkedHashMap<>();
    List<Bench> all = new ArrayList<>();
    for (Guard g : guards) {
      if (g.kind() == Kind.EXTERNAL) continue;
      all.add(g.subject());
      all.add(g.reference());
    }
    all.add(copy(threads));
    for (Bench b : all) {
      Map<String, List<String>> params =
          out.computeIfAbsent(b.benchmark(), x -> new LinkedHashMap<>());
      for (Map.Entry<String, String> e : b.params().entrySet()) {
        List<String> v = params.computeIfAbsent(e.getKey(), x -> new ArrayList<>());
        if (!v.contains(e.getValue())) v.add(e.getValue());
      }
    }
    return out;
  }
}
