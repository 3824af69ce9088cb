package org.spinekit.benchmarks;

import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;
import org.spinekit.ops.Composite;
import org.spinekit.ops.HeatmapPool;

/**
 * Heatmap pooling forward + backward on heatmap probabilities [N, K, ...] and grade probabilities
 * [N, C, ...] (C = 3), with a fixed gradient w.r.t. the pooled [N, K, C]. fused: {@link
 * HeatmapPool#forward} and {@link HeatmapPool#backward}. composite: libtorch bmm on fresh leaves,
 * then autograd from (pooled * gradPooled).sum().
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgs = {"-Xmx2g"})
@State(Scope.Thread)
public class HeatmapPoolBenchmark {
  @Param({"fused", "composite"})
  public String impl;

  @Param({"8x5x80x80", "8x5x256x256", "2x10x24x80x80"})
  public String shape;

  @Param({"2"})
  public int threads;

  private Inputs in;
  private boolean fused;
  private Tensor heatProbs;
  private Tensor gradeProbs;

  @Setup
  public void setUp() {
    fused = Inputs.fused(impl);
    Inputs.setThreads(threads);
    MapShape sh = MapShape.parse(shape);
    in = new Inputs(sh, 1);
    try (PointerScope scope = new PointerScope()) {
      heatProbs = in.keep(Composite.spatialSoftmax(in.heat).reshape(sh.map(sh.k())).contiguous());
      gradeProbs = in.keep(in.grade.softmax(1).contiguous());
    }
  }

  @TearDown
  public void tearDown() {
    in.close();
  }

  @Benchmark
  public void forwardBackward(Blackhole bh) {
    try (PointerScope scope = new PointerScope()) {
      if (fused) {
        bh.consume(HeatmapPool.forward(heatProbs, gradeProbs));
        HeatmapPool.Grads g = HeatmapPool.backward(heatProbs, gradeProbs, in.gradPooled);
        bh.consume(g.heat());
        bh.consume(g.grade());
      } else {
        Tensor a = heatProbs.detach().requires_grad_(true);
        Tensor b = gradeProbs.detach().requires_grad_(true);
        Tensor pooled = Composite.heatmapPool(a, b);
        pooled.mul(in.gradPooled).sum().backward();
        bh.consume(pooled);
        bh.consume(a.grad());
        bh.consume(b.grad());
      }
    }
  }
}
