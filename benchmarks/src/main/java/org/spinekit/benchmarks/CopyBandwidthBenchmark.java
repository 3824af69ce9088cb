package org.spinekit.benchmarks;

import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
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

/**
 * The memory-traffic yardstick of the floors: libtorch's {@code dst.copy_(src)} of a float32 tensor
 * of {@code mib} MiB (64 MiB, well past the last-level cache) into a preallocated one with the same
 * threads as the kernels. Bandwidth = {@link Floors#copyBytes} (read + written) / time.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgs = {"-Xmx2g"})
@State(Scope.Thread)
public class CopyBandwidthBenchmark {
  @Param({"64"})
  public int mib;

  @Param({"2"})
  public int threads;

  private Tensor src;
  private Tensor dst;

  @Setup
  public void setUp() {
    if (mib < 1) throw new IllegalArgumentException("mib: expected >= 1, got " + mib);
    Inputs.setThreads(threads);
    long floats = mib * (1L << 20) / 4;
    try (PointerScope scope = new PointerScope()) {
      src = torch.randn(floats);
      dst = torch.zeros(floats); // zeros, so its pages are mapped before the first copy
      src.retainReference();
      dst.retainReference();
    }
  }

  @TearDown
  public void tearDown() {
    src.releaseReference();
    dst.releaseReference();
  }

  @Benchmark
  public void copy(Blackhole bh) {
    try (PointerScope scope = new PointerScope()) {
      bh.consume(dst.copy_(src));
    }
  }
}
