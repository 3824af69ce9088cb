package org.spinekit.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;
import org.spinekit.cervical.CervicalAugment;
import org.spinekit.cervical.CervicalCrops;
import org.spinekit.ops.CropSample;
import org.spinekit.runtime.NativeRuntime;
import org.spinekit.synth.CervicalSynth;
import org.spinekit.synth.CervicalTruth;
import org.spinekit.train.Batch;
import org.spinekit.train.DataLoader;

/**
 * The data loader on the lazy cervical stage-2 data set: one measured call is one epoch of {@link
 * #SAMPLES} samples (the vertebrae of a synthetic RSNA 2022 directory, 4 studies of 256 x 256
 * pixels, cycled), each read from its DICOM slices, cropped to 24 x 128 x 128 (margin 2 slices, 8
 * pixels) and augmented ({@link CervicalAugment#withBrightnessContrast()}), in batches of 8. The
 * score is samples per second. libtorch and the kernels run on one thread each, so {@code workers}
 * is the number of cores the loader keeps busy; the files are in the page cache after the first
 * warm-up epoch.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgs = {"-Xmx2g"})
@State(Scope.Benchmark)
public class LoaderBenchmark {
  static final int SAMPLES = 64;

  @Param({"1", "2"})
  public int workers;

  private Path dir;
  private DataLoader loader;

  @Setup
  public void setUp() throws IOException {
    NativeRuntime.configure(
        NativeRuntime.Settings.fromEnvironment().withThreads(1).withKernelThreads(1));
    dir = Files.createTempDirectory("spinekit-loader-bench");
    CervicalSynth.generate(dir, CervicalSynth.Config.small(7).withImageSize(256).withThreads(2));
    CropSample.Options crop = CropSample.Options.of(128, 128).withMargin(2, 8, 8).withPad(-1000);
    List<CervicalCrops.InstanceBox> boxes = new ArrayList<>();
    for (CervicalTruth.Row row : CervicalTruth.read(dir.resolve(CervicalSynth.TRUTH_CSV))) {
      CervicalTruth v = row.truth();
      if (row.test() || v.label() < 1 || v.label() > 7 || !v.present()) continue;
      boxes.add(
          new CervicalCrops.InstanceBox(
              row.studyUid(),
              v.label(),
              v.sliceMin() + 1,
              v.sliceMax() + 1,
              v.rowMin(),
              v.rowMax(),
              v.columnMin(),
              v.columnMax()));
    }
    List<CervicalCrops.Crop> found = CervicalCrops.fromBoxes(dir, boxes, crop.marginZ());
    List<CervicalCrops.Crop> records = new ArrayList<>();
    for (int i = 0; i < SAMPLES; i++) records.add(found.get(i % found.size()));
    CervicalCrops data = new CervicalCrops(records, crop, CervicalAugment.withBrightnessContrast());
    loader = new DataLoader(data, DataLoader.Options.of(8, workers, 7));
  }

  @TearDown
  public void tearDown() throws IOException {
    loader.close();
    Inputs.deleteTree(dir);
  }

  @Benchmark
  @OperationsPerInvocation(SAMPLES)
  public void epoch(Blackhole bh) {
    for (Batch b : loader) {
      try (b) {
        bh.consume(b.inputs().data_ptr());
      }
    }
  }
}
