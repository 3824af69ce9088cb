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
import org.spinekit.ops.Dsnt;

/**
 * DSNT forward + backward (gradient w.r.t. the logits from a fixed gradient w.r.t. the pixel
 * coordinates). fused: {@link Dsnt#forward} and {@link Dsnt.Result#backward}. composite: libtorch
 * softmax and matmul with the coordinate grid on a fresh leaf, then autograd from (coords *
 * gradCoords).sum().
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgs = {"-Xmx2g"})
@State(Scope.Thread)
public class DsntBenchmark {
  @Param({"fused", "composite"})
  public String impl;

  @Param({"8x5x80x80", "8x5x256x256", "2x10x24x80x80"})
  public String shape;

  @Param({"2"})
  public int threads;

  private Inputs in;
  private boolean fused;

  @Setup
  public void setUp() {
    fused = Inputs.fused(impl);
    Inputs.setThreads(threads);
    in = new Inputs(MapShape.parse(shape), 1);
  }

  @TearDown
  public void tearDown() {
    in.close();
  }

  @Benchmark
  public void forwardBackward(Blackhole bh) {
    try (PointerScope scope = new PointerScope()) {
      MapShape sh = in.shape;
      if (fused) {
        Dsnt.Result r = Dsnt.forward(in.heat);
        bh.consume(r.coords);
        bh.consume(r.backward(in.gradCoords, null, null));
      } else {
        Tensor leaf = in.heat.detach().requires_grad_(true);
        Tensor coords =
            Composite.dsntCoords(Composite.spatialSoftmax(leaf), sh.d(), sh.h(), sh.w(), sh.ndim());
        coords.mul(in.gradCoords).sum().backward();
        bh.consume(coords);
        bh.consume(leaf.grad());
      }
    }
  }
}
