package org.spinekit.benchmarks;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.spinekit.cervical.CervicalClassifier;
import org.spinekit.dist.DataParallel;
import org.spinekit.dist.DistEnv;
import org.spinekit.dist.DistGroup;
import org.spinekit.train.Adam;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code spinekit bench dist}: what data-parallel training costs here. Starts {@code --ranks}
 * processes on loopback (as {@code spinekit launch}) that time (1) Gloo's all-reduce of 1 to 100 MB
 * beside a plain copy of the same bytes in one process (memory bandwidth), with the bus bandwidth
 * 2(N-1)/N x bytes / time of a ring; (2) a training step of the cpu-small cervical classifier
 * (ResNet-10/2 per slice, BiGRU, attention; 24 x 64 x 64 crops) with c10d's reducer and
 * synchronised batch norm, global batch 8 split over the ranks, beside one process with the whole
 * batch on all the threads. Medians over {@code --repeats}.
 */
@Command(
    name = "dist",
    description = {
      "Gloo all-reduce bandwidth on loopback (1-100 MB) beside the copy bandwidth, and the"
          + " time per training step of the cervical classifier with 1 and with N data-parallel"
          + " processes (global batch 8)"
    })
final class DistBench implements Callable<Integer> {
  @Option(names = "--ranks", defaultValue = "2", description = "processes (default 2)")
  int ranks;

  @Option(names = "--repeats", defaultValue = "10", description = "timed repeats (default 10)")
  int repeats;

  static final double[] MEGABYTES = {1, 4, 16, 25, 64, 100};
  static final int GLOBAL_BATCH = 8;

  @Override
  public Integer call() throws Exception {
    if (ranks < 2 || ranks > 16) throw new IllegalArgumentException("--ranks: expected 2..16");
    int cores = Runtime.getRuntime().availableProcessors();
    System.out.printf(
        Locale.ROOT, "%d ranks on loopback, %d cores; medians of %d%n", ranks, cores, repeats);
    // One process alone, all threads: the reference step.
    NativeStep single = new NativeStep(GLOBAL_BATCH, cores, null);
    double alone = single.median(repeats);
    single.close();
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    List<Process> ps = new ArrayList<>();
    for (int r = 0; r < ranks; r++) {
      List<String> cmd = new ArrayList<>();
      cmd.add(ProcessHandle.current().info().command().orElse("java"));
      cmd.addAll(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments());
      cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Worker.class.getName()));
      cmd.addAll(List.of(Integer.toString(repeats), Double.toString(alone)));
      ProcessBuilder pb = new ProcessBuilder(cmd).inheritIO();
      pb.environment().put("RANK", Integer.toString(r));
      pb.environment().put("WORLD_SIZE", Integer.toString(ranks));
      pb.environment().put("MASTER_ADDR", "127.0.0.1");
      pb.environment().put("MASTER_PORT", Integer.toString(port));
      pb.environment().put("SPINEKIT_DIST_TIMEOUT", "120");
      ps.add(pb.start());
    }
    int status = 0;
    for (Process p : ps) {
      if (!p.waitFor(20, TimeUnit.MINUTES)) p.destroyForcibly();
      status = Math.max(status, p.exitValue());
    }
    return status;
  }

  /** A rank of the benchmark: {@code Worker REPEATS SINGLE_PROCESS_STEP_MS}. */
  public static final class Worker {
    public static void main(String[] args) throws Exception {
      int repeats = Integer.parseInt(args[0]);
      double alone = Double.parseDouble(args[1]);
      DistEnv env = DistEnv.fromEnvironment();
      int threads = Math.max(1, Runtime.getRuntime().availableProcessors() / env.worldSize());
      torch.set_num_threads(threads);
      try (DistGroup g = DistGroup.join(env, DistGroup.Options.defaults())) {
        boolean print = g.rank() == 0;
        if (print) {
          System.out.printf(
              Locale.ROOT,
              "%8s %12s %12s %12s %12s%n",
              "MB",
              "allreduce ms",
              "algo GB/s",
              "bus GB/s",
              "copy GB/s");
        }
        for (double mb : MEGABYTES) {
          long n = (long) (mb * 1e6 / 4);
          double[] ar = new double[repeats], cp = new double[repeats];
          try (PointerScope s = new PointerScope()) {
            Tensor t = torch.ones(n);
            Tensor dst = torch.empty(n);
            for (int i = -2; i < repeats; i++) {
              g.barrier();
              long t0 = System.nanoTime();
              g.allreduceSum(t);
              long t1 = System.nanoTime();
              dst.copy_(t);
              long t2 = System.nanoTime();
              if (i >= 0) {
                ar[i] = (t1 - t0) / 1e6;
                cp[i] = (t2 - t1) / 1e6;
              }
            }
          }
          double a = median(ar), c = median(cp);
          double bytes = mb * 1e6;
          if (print) {
            System.out.printf(
                Locale.ROOT,
                "%8.0f %12.2f %12.2f %12.2f %12.2f%n",
                mb,
                a,
                bytes / a / 1e6,
                2.0 * (g.size() - 1) / g.size() * bytes / a / 1e6,
                bytes / c / 1e6);
          }
        }
        int local = GLOBAL_BATCH / g.size();
        NativeStep step = new NativeStep(local, threads, g);
        double ms = step.median(repeats);
        long gradBytes = 4 * step.parameters;
        step.close();
        if (print) {
          System.out.printf(
              Locale.ROOT,
              "%ncervical classifier (cpu-small), global batch %d: 1 process %d threads %.0f ms/step;"
                  + " %d ranks x batch %d x %d threads %.0f ms/step (%.2fx); gradients %.1f MB per"
                  + " step, ring all-reduce traffic per rank %.1f MB%n",
              GLOBAL_BATCH,
              Runtime.getRuntime().availableProcessors(),
              alone,
              g.size(),
              local,
              threads,
              ms,
              alone / ms,
              gradBytes / 1e6,
              2.0 * (g.size() - 1) / g.size() * gradBytes / 1e6);
        }
        g.barrier();
      }
      System.exit(0);
    }
  }

  /** A training step of the cervical classifier on random crops (forward, BCE, backward, AdamW). */
  static final class NativeStep implements AutoCloseable {
    final CervicalClassifier net;
    final Adam adam;
    final DataParallel dp;
    final int batch;
    final long parameters;

    NativeStep(int batch, int threads, DistGroup g) {
      torch.set_num_threads(threads);
      torch.manual_seed(1);
      this.batch = batch;
      net =
          CervicalClassifier.create(
              "resnet10_w32",
              CervicalClassifier.Config.of(24).withGru(64, 1).withAttentionHidden(32));
      net.train(true);
      adam = new Adam(net, Adam.Options.adamW(3e-4), Adam.Grouping.single());
      dp =
          g == null
              ? null
              : new DataParallel(net, g, DataParallel.Options.defaults().withSyncBatchNorm(true));
      parameters = net.parameterCount();
    }

    double median(int repeats) {
      double[] ms = new double[repeats];
      for (int i = -2; i < repeats; i++) {
        try (PointerScope s = new PointerScope()) {
          Tensor x = torch.randn(batch, 24, 64, 64);
          Tensor y =
              torch
                  .rand(batch, 1)
                  .gt(new org.bytedeco.pytorch.Scalar(0.8))
                  .to(torch.ScalarType.Float);
          if (dp != null) dp.group().barrier();
          long t0 = System.nanoTime();
          if (dp != null) dp.beforeForward();
          Tensor loss = torch.binary_cross_entropy_with_logits(net.forward(x), y);
          if (dp != null) dp.beforeBackward(true);
          loss.backward();
          adam.step();
          adam.zeroGrad();
          if (i >= 0) ms[i] = (System.nanoTime() - t0) / 1e6;
        }
      }
      return DistBench.median(ms);
    }

    @Override
    public void close() {
      if (dp != null) dp.close();
      adam.close();
      net.close();
    }
  }

  static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : 0.5 * (s[s.length / 2 - 1] + s[s.length / 2]);
  }
}
