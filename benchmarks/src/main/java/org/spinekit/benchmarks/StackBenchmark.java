package org.spinekit.benchmarks;

import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
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
import org.spinekit.ops.Stack25d;
import org.spinekit.ops.StackComposite;
import org.spinekit.ops.Window;
import org.spinekit.runtime.NativeRuntime;

/**
 * 2.5D stacking of a CT volume: {@code slices} x 512 x 512 int16 stored values (HU = stored - 1024,
 * uniform in [-1000, 3000)) -> [slices, 3, 320, 320] float32, soft-tissue window (40, 400), k = 1,
 * stride 1.
 *
 * <ul>
 *   <li>native: {@link Stack25d#images(Tensor, double, double, Stack25d.Options)}, one pass, into a
 *       fresh output (368 MB: more than a thread arena's 64 MiB heap, so glibc mmaps it whatever
 *       its thresholds and every call also pays the page faults of a new mapping, as the composite
 *       does).
 *   <li>native-into: {@link Stack25d#imagesInto} into one preallocated output (a reused batch
 *       buffer): the kernel alone, the figure to hold against the floor.
 *   <li>composite: {@link StackComposite#stack}: rescale + window on the volume, {@code
 *       upsample_bilinear2d} of the slices, {@code index_select} into the (slice, channel) planes
 *       (the cheaper order of the two ops: each slice is resized once).
 *   <li>copy: the memory-traffic floor measured in the same run: libtorch {@code dst.copy_(src)}
 *       moving the bytes the stacking must at least read and write ({@link #floorBytes}: the int16
 *       volume read once, the float32 output written once), as {@link CopyBandwidthBenchmark} does
 *       for the other kernels' floors.
 * </ul>
 *
 * Every call allocates its output inside a {@code PointerScope} and frees it (libspinekit keeps
 * freed memory below that size in the process, {@code Kernels.keepAllocatorWarm}).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgs = {"-Xmx2g"})
@State(Scope.Thread)
public class StackBenchmark {
  @Param({"native", "native-into", "composite", "copy"})
  public String impl;

  @Param({"300"})
  public int slices;

  @Param({"2"})
  public int threads;

  static final long H = 512;
  static final long W = 512;
  static final long OUT = 320;

  private Tensor volume;
  private Tensor copySrc;
  private Tensor copyDst;
  private Stack25d.Options options;

  /** Bytes read (int16 volume) plus written (float32 [S, 3, 320, 320]). */
  public static long floorBytes(long slices) {
    return slices * H * W * 2 + slices * 3 * OUT * OUT * 4;
  }

  @Setup
  public void setUp() {
    if (!impl.equals("native")
        && !impl.equals("native-into")
        && !impl.equals("composite")
        && !impl.equals("copy")) {
      throw new IllegalArgumentException(
          "impl: expected native, native-into, composite or copy, got " + impl);
    }
    Inputs.setThreads(threads);
    options = Stack25d.Options.defaults().withWindow(Window.SOFT_TISSUE);
    try (PointerScope scope = new PointerScope()) {
      NativeRuntime.seed(7);
      volume =
          torch.randint(24, 4024, new long[] {slices, H, W}, new TensorOptions(ScalarType.Short));
      volume.retainReference();
      if (impl.equals("native-into")) {
        copyDst = torch.zeros(slices, 3, OUT, OUT);
        copyDst.retainReference();
      }
      if (impl.equals("copy")) {
        long floats = floorBytes(slices) / 2 / 4; // a copy reads and writes its size
        copySrc = torch.randn(floats);
        copyDst = torch.zeros(floats);
        copySrc.retainReference();
        copyDst.retainReference();
      }
    }
  }

  @TearDown
  public void tearDown() {
    volume.releaseReference();
    if (copySrc != null) copySrc.releaseReference();
    if (copyDst != null) copyDst.releaseReference();
  }

  @Benchmark
  public void stack(Blackhole bh) {
    try (PointerScope scope = new PointerScope()) {
      switch (impl) {
        case "native" -> bh.consume(Stack25d.images(volume, 1, -1024, options));
        case "native-into" -> bh.consume(Stack25d.imagesInto(volume, 1, -1024, options, copyDst));
        case "composite" -> bh.consume(StackComposite.stack(volume, 1, -1024, options));
        default -> bh.consume(copyDst.copy_(copySrc));
      }
    }
  }
}
