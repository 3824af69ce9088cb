package org.spinekit.benchmarks;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.spinekit.cervical.VertebraBoxes;
import org.spinekit.io.SliceSource;

/**
 * {@link VertebraBoxes#clean} and {@link VertebraBoxes#boxes} of a 300 x 512 x 512 label volume on
 * one thread, beside the floor that every clean pays: {@code labels.clone()} (the new output array,
 * allocated and written once). {@code volume=spine}: twelve hollow ellipsoids along the slice axis
 * (C1..C7 and five thoracic bodies, about 1.4 M labelled voxels) and 20,000 single voxel specks of
 * random labels; {@code volume=noisy}: the same with 1.6 M specks (2% of the volume).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgs = {"-Xmx3g"})
@State(Scope.Thread)
public class VertebraBoxesBenchmark {
  static final int S = 300, R = 512, C = 512;

  @Param({"clean", "boxes", "copy"})
  public String impl;

  @Param({"spine", "noisy"})
  public String volume;

  private short[] labels;
  private List<SliceSource> sources;

  @Setup
  public void setUp() {
    int specks =
        switch (volume) {
          case "spine" -> 20_000;
          case "noisy" -> 1_600_000;
          default ->
              throw new IllegalArgumentException("volume: expected spine or noisy, got " + volume);
        };
    if (!impl.equals("clean") && !impl.equals("boxes") && !impl.equals("copy")) {
      throw new IllegalArgumentException("impl: expected clean, boxes or copy, got " + impl);
    }
    labels = spine(specks, 1);
    sources = new ArrayList<>();
    for (int k = 0; k < S; k++) {
      sources.add(new SliceSource(Path.of(k + ".dcm"), 0, k + 1, "1.2." + k));
    }
  }

  /** Hollow ellipsoids (a body with a canal) every 24 slices, then random specks. */
  static short[] spine(int specks, long seed) {
    short[] v = new short[S * R * C];
    for (int k = 0; k < 12; k++) {
      int cz = 12 + k * 24, cy = R / 2, cx = C / 2;
      short l = (short) (k < 7 ? k + 1 : 8);
      for (int z = cz - 10; z <= cz + 10; z++) {
        for (int y = cy - 60; y <= cy + 60; y++) {
          for (int x = cx - 70; x <= cx + 70; x++) {
            double dz = (z - cz) / 10.0, dy = (y - cy) / 60.0, dx = (x - cx) / 70.0;
            double hy = (y - cy - 20) / 35.0, hx = (x - cx) / 40.0;
            if (dz * dz + dy * dy + dx * dx <= 1 && dz * dz + hy * hy + hx * hx > 1) {
              v[(z * R + y) * C + x] = l;
            }
          }
        }
      }
    }
    SplittableRandom rnd = new SplittableRandom(seed);
    for (int i = 0; i < specks; i++) v[rnd.nextInt(v.length)] = (short) (1 + rnd.nextInt(8));
    return v;
  }

  @Benchmark
  public Object run() {
    return switch (impl) {
      case "clean" -> VertebraBoxes.clean(labels, S, R, C, 1000);
      case "boxes" -> VertebraBoxes.boxes("1.2.3", labels, S, R, C, sources);
      default -> labels.clone();
    };
  }
}
