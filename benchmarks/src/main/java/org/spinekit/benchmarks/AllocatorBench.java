package org.spinekit.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.spinekit.cli.Converters;
import org.spinekit.cli.RuntimeOptions;
import org.spinekit.internal.jni.Kernels;
import org.spinekit.ops.Composite;
import org.spinekit.ops.HeatmapPool;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code spinekit bench allocator}: the page faults and time per call of fused heatmap pooling
 * (forward + backward, as {@link HeatmapPoolBenchmark}) in blocks of calls, on a thread of its own
 * as JMH's worker (or the JVM's main thread), under whatever allocator settings the process has:
 * run it with and without {@code SPINEKIT_MALLOC_TUNING=0} or {@code GLIBC_TUNABLES} to compare
 * them. Page faults are the process's minor faults (/proc/self/stat), so they do not depend on what
 * else the machine runs; the times do.
 */
@Command(
    name = "allocator",
    description = {
      "page faults and milliseconds per call of fused"
          + " heatmap pooling (forward + backward) in blocks of calls, under the process's allocator"
          + " settings; per block, then the mean of the last half of the blocks"
    })
final class AllocatorBench implements Callable<Integer> {
  @Option(
      names = "--shape",
      paramLabel = "S",
      defaultValue = "2x10x24x80x80",
      description = {"map shape NxKxHxW or NxKxDxHxW (default: ${DEFAULT-VALUE})"})
  String shape;

  @Option(
      names = "--calls",
      paramLabel = "N",
      defaultValue = "50",
      converter = Converters.Positive.class,
      description = {"calls per block (default: ${DEFAULT-VALUE})"})
  int calls;

  @Option(
      names = "--blocks",
      paramLabel = "B",
      defaultValue = "6",
      converter = Converters.Positive.class,
      description = {"blocks of calls (default: ${DEFAULT-VALUE})"})
  int blocks;

  @Option(
      names = "--main-thread",
      description = {
        "on the JVM's main thread instead of a thread" + " of its own (JMH's worker is one)"
      })
  boolean mainThread;

  @Option(
      names = "--rand-inputs",
      description = {
        "inputs from torch.rand instead of the"
            + " benchmark's (another allocation history before the calls, so another heap layout)"
      })
  boolean randInputs;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    int threads = RuntimeOptions.of(spec).workers(); // --threads, else all cores
    MapShape sh = MapShape.parse(shape);
    int n = calls;
    int b = blocks;
    int t = threads;
    boolean rand = randInputs;
    double[][] result = new double[1][];
    IOException[] failed = new IOException[1];
    Runnable body =
        () -> {
          try {
            result[0] = measure(sh, n, b, t, rand);
          } catch (IOException e) {
            failed[0] = e;
          }
        };
    if (mainThread) {
      body.run();
    } else {
      Thread worker = new Thread(body, "allocator-bench");
      worker.start();
      try {
        worker.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return 1;
      }
    }
    if (failed[0] != null) throw failed[0];
    System.out.printf(
        "steady state (last %d blocks): %.1f page faults/call, %.3f ms/call%n",
        (b + 1) / 2, result[0][0], result[0][1]);
    return 0;
  }

  /** Returns {mean faults per call, mean ms per call} over the last half of the blocks. */
  private static double[] measure(
      MapShape sh, int calls, int blocks, int threads, boolean randInputs) throws IOException {
    Inputs.setThreads(threads);
    long threshold = Kernels.allocatorMmapThreshold();
    System.out.println(
        "allocator: "
            + (threshold > 0
                ? "libspinekit keeps freed memory (glibc mmap threshold " + threshold + ")"
                : "glibc's settings of the environment")
            + "; GLIBC_TUNABLES: "
            + System.getenv().getOrDefault("GLIBC_TUNABLES", "(unset)")
            + "; thread: "
            + Thread.currentThread().getName());
    try (Inputs in = new Inputs(sh, 1)) {
      Tensor heat;
      Tensor grade;
      try (PointerScope scope = new PointerScope()) {
        if (randInputs) {
          heat = in.keep(torch.rand(sh.map(sh.k())).contiguous());
          grade = in.keep(torch.rand(sh.map(Floors.CLASSES)).contiguous());
        } else {
          heat = in.keep(Composite.spatialSoftmax(in.heat).reshape(sh.map(sh.k())).contiguous());
          grade = in.keep(in.grade.softmax(1).contiguous());
        }
      }
      double faultSum = 0;
      double msSum = 0;
      int from = blocks / 2;
      for (int blk = 0; blk < blocks; blk++) {
        long f0 = minorFaults();
        long t0 = System.nanoTime();
        for (int i = 0; i < calls; i++) {
          try (PointerScope scope = new PointerScope()) {
            HeatmapPool.forward(heat, grade);
            HeatmapPool.backward(heat, grade, in.gradPooled);
          }
        }
        double ms = (System.nanoTime() - t0) / 1e6 / calls;
        double faults = (minorFaults() - f0) / (double) calls;
        System.out.printf("block %d: %8.1f page faults/call %8.3f ms/call%n", blk, faults, ms);
        if (blk >= from) {
          faultSum += faults;
          msSum += ms;
        }
      }
      return new double[] {faultSum / (blocks - from), msSum / (blocks - from)};
    }
  }

  /** Field 10 (minflt) of /proc/self/stat: the process's minor page faults. */
  static long minorFaults() throws IOException {
    String stat = Files.readString(Path.of("/proc/self/stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(f[7]);
  }
}
