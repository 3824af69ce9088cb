package org.spinekit.benchmarks;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
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
import org.spinekit.augment.RandElastic;
import org.spinekit.augment.RandFlip;
import org.spinekit.augment.RandGridDistortion;
import org.spinekit.augment.RandShiftScaleRotate;
import org.spinekit.augment.Sample;
import org.spinekit.augment.Transform;
import org.spinekit.runtime.NativeRuntime;
import org.spinekit.tensor.Tensors;

/**
 * The parts of {@link AugmentBenchmark}'s native side, one at a time, so that its time can be split
 * by branch: the cost of one application of each transform of the cervical pipeline (forced,
 * whatever its p), each over seeds 0 .. 15 (us per application), on the same 320x320x3 image and
 * uint8 mask. Multiplied by how many samples of AugmentBenchmark's batch take each branch (its
 * javadoc) they add up to its native time per sample.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(
    value = 1,
    jvmArgs = {"-Xmx2g"})
@State(Scope.Thread)
public class AugmentOpsBenchmark {
  static final int H = 320, W = 320, C = 3, SEEDS = 16;

  @Param({"flip", "ssr", "grid", "elastic", "flip+ssr", "empty"})
  public String op;

  private Sample sample;
  private Transform transform;

  @Setup
  public void setUp() {
    NativeRuntime.configure(
        NativeRuntime.Settings.fromEnvironment().withThreads(1).withKernelThreads(1));
    float[] planar = new float[C * H * W];
    SplittableRandom r = new SplittableRandom(1);
    for (int i = 0; i < planar.length; i++) planar[i] = (float) r.nextDouble();
    long[] ml = new long[H * W];
    for (int i = 0; i < ml.length; i++) ml[i] = ((i / W) / 40 + (i % W) / 40) % 8;
    Tensor img = Tensors.of(planar, C, H, W);
    img.retainReference();
    Tensor msk = Tensors.of(ml, H, W).to(ScalarType.Byte);
    msk.retainReference();
    sample = new Sample(img, msk, null);
    RandFlip flip = new RandFlip(RandFlip.Axis.HORIZONTAL, 1);
    RandShiftScaleRotate ssr = new RandShiftScaleRotate(0.0625, 0.05, 10, 1);
    switch (op) {
      case "flip" -> transform = flip;
      case "ssr" -> transform = ssr;
      case "grid" -> transform = new RandGridDistortion(5, 0.05, 1);
      case "elastic" -> transform = new RandElastic(1, 50, 50, 1);
      case "flip+ssr" -> transform = new org.spinekit.augment.Compose(flip, ssr);
      case "empty" -> transform = (s, rng) -> s;
      default -> throw new IllegalArgumentException("op: unknown " + op);
    }
  }

  @TearDown
  public void tearDown() {
    sample.image().releaseReference();
    sample.mask().releaseReference();
  }

  @Benchmark
  @OperationsPerInvocation(SEEDS)
  public void apply(Blackhole bh) {
    for (long s = 0; s < SEEDS; s++) {
      try (PointerScope scope = new PointerScope()) {
        Sample out = transform.apply(sample, s);
        bh.consume(out.image());
        bh.consume(out.mask());
      }
    }
  }
}
