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
import org.spinekit.ops.HeadLoss;

/**
 * The one-stage head loss (JS to Gaussian targets + class-weighted NLL of the pooled grades, sigma
 * 2, C = 3) with the gradients w.r.t. both logit tensors. fused: {@link HeadLoss#compute}, which
 * returns the gradients. composite: {@link Composite#headLoss} on fresh leaves, then autograd from
 * the loss.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgs = {"-Xmx2g"})
@State(Scope.Thread)
public class HeadLossBenchmark {
  @Param({"fused", "composite"})
  public String impl;

  @Param({"8x5x80x80", "8x5x256x256", "2x10x24x80x80"})
  public String shape;

  @Param({"2"})
  public int threads;

  private Inputs in;
  private boolean fused;
  private HeadLoss loss;

  @Setup
  public void setUp() {
    fused = Inputs.fused(impl);
    Inputs.setThreads(threads);
    in = new Inputs(MapShape.parse(shape), 1);
    loss = new HeadLoss(Inputs.SIGMA, 1.0, 1.0, Inputs.CLASS_WEIGHTS);
  }

  @TearDown
  public void tearDown() {
    in.close();
  }

  @Benchmark
  public void forwardBackward(Blackhole bh) {
    try (PointerScope scope = new PointerScope()) {
      if (fused) {
        HeadLoss.Result r = loss.compute(in.heat, in.grade, in.points, in.targets);
        bh.consume(r.losses);
        bh.consume(r.gradHeat);
        bh.consume(r.gradGrade);
      } else {
        Tensor a = in.heat.detach().requires_grad_(true);
        Tensor b = in.grade.detach().requires_grad_(true);
        Composite.HeadLossTerms t =
            Composite.headLoss(
                a, b, in.points, in.targets, Inputs.CLASS_WEIGHTS, Inputs.SIGMA, 1.0, 1.0);
        t.loss().backward();
        bh.consume(t.loss());
        bh.consume(a.grad());
        bh.consume(b.grad());
      }
    }
  }
}
