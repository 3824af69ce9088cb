package org.spinekit.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.spinekit.jni.Kernels;
import org.spinekit.ops.Composite;
import org.spinekit.ops.HeatmapPool;

/**
 * {@code spinekit bench allocator}: the page faults and time per call of fused heatmap pooling
 * (forward + backward, as {@link HeatmapPoolBenchmark}) in blocks of calls, on a thread of its
 * own as JMH's worker (or the JVM's main thread), under whatever allocator settings the process
 * has: run it with and without {@code SPINEKIT_MALLOC_TUNING=0} or {@code GLIBC_TUNABLES} to
 * compare them. Page faults are the process's minor faults (/proc/self/stat), so they do not
 * depend on what else the machine runs; the times do.
 */
final class AllocatorBench {
  private AllocatorBench() {}

  static final String HELP = String.join("\n",
      "usage: spinekit bench allocator [--shape S] [--calls N] [--blocks B] [--threads T]",
      "                                [--main-thread] [--rand-inputs]",
      "  B blocks (default 6) of N calls (default 50) of fused heatmap pooling forward +",
      "  backward at S (default 2x10x24x80x80) on T threads (default 2); per block the page",
      "  faults and milliseconds per call, then the mean of the last half of the blocks.",
      "  --main-thread: on the JVM's main thread instead of a thread of its own",
      "  --rand-inputs: inputs from torch.rand instead of the benchmark's (another allocation",
      "  history before the calls, so another heap layout)");

  static int run(String[] args) throws IOException {
    String shape = "2x10x24x80x80";
    int calls = 50;
    int blocks = 6;
    int threads = 2;
    boolean mainThread = false;
    boolean randInputs = false;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--help")) {
        System.out.println(HELP);
        return 0;
      }
      if (a.equals("--main-thread")) {
        mainThread = true;
        continue;
      }
      if (a.equals("--rand-inputs")) {
        randInputs = true;
        continue;
      }
      if (i + 1 >= args.length) throw new IllegalArgumentException(a + " needs a value");
      String v = args[++i];
      switch (a) {
        case "--shape" -> shape = v;
        case "--calls" -> calls = positive(a, v);
        case "--blocks" -> blocks = positive(a, v);
        case "--threads" -> threads = positive(a, v);
        default -> throw new IllegalArgumentException("unknown option " + a + "\n" + HELP);
      }
    }
    MapShape sh = MapShape.parse(shape);
    int n = calls;
    int b = blocks;
    int t = threads;
    boolean rand = randInputs;
    double[][] result = new double[1][];
    IOException[] failed = new IOException[1];
    Runnable body = () -> {
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
    System.out.printf("steady state (last %d blocks): %.1f page faults/call, %.3f ms/call%n",
        (b + 1) / 2, result[0][0], result[0][1]);
    return 0;
  }

  private static int positive(String name, String v) {
    try {
      int x = Integer.parseInt(v);
      if (x > 0) return x;
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException(name + " expects a positive integer, got '" + v + "'");
  }

  /** Returns {mean faults per call, mean ms per call} over the last half of the blocks. */
  private static double[] measure(MapShape sh, int calls, int blocks, int threads,
      boolean randInputs) throws IOException {
    Inputs.setThreads(threads);
    long threshold = Kernels.allocatorMmapThreshold();
    System.out.println("allocator: " + (threshold > 0
        ? "libspinekit keeps freed memory (glibc mmap threshold " + threshold + ")"
        : "glibc's settings of the environment") + "; GLIBC_TUNABLES: "
        + System.getenv().getOrDefault("GLIBC_TUNABLES", "(unset)") + "; thread: "
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
