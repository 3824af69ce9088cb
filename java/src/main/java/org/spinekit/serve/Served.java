package org.spinekit.serve;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.spinekit.internal.concurrent.DaemonThreads;
import org.spinekit.internal.concurrent.Futures;
import org.spinekit.io.json.Json;
import org.spinekit.nn.Net;
import org.spinekit.tensor.Tensors;

/**
 * What both systems' predictors share: calls run on {@code parallel} lane threads of their own (the
 * others wait their turn, in order), each in its own {@link PointerScope}; {@link #close} waits for
 * the calls in flight; the raw networks for {@link #infer}; the warm-up.
 */
abstract class Served<R extends Predictor.Result> implements Predictor<R> {
  /** A network: its description and its folds' nets. */
  record Entry(Network network, List<? extends Net> folds) {}

  private final String name;
  private final Path run;
  private final Device device;
  private final ExecutorService lanes;
  private final ReentrantReadWriteLock life = new ReentrantReadWriteLock();
  private final Map<String, Entry> networks = new LinkedHashMap<>();
  private final Map<String, Object> metadata;
  private boolean closed;

  Served(String name, Path run, int parallel, Device device) throws IOException {
    if (parallel < 1) {
      throw new IllegalArgumentException("parallel: expected at least 1, got " + parallel);
    }
    this.name = name == null ? run.toAbsolutePath().normalize().getFileName().toString() : name;
    this.run = run;
    this.device = device;
    this.lanes =
        Executors.newFixedThreadPool(
            parallel, DaemonThreads.numbered("spinekit-" + this.name + "-lane-"));
    this.metadata = readMetadata(run);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> readMetadata(Path run) throws IOException {
    Path f = run.resolve("bundle.json");
    try {
      Object o = Json.parse(Files.readString(f));
      if (!(o instanceof Map<?, ?> m)) {
        throw new org.spinekit.io.MalformedFileException(f, "expected a JSON object");
      }
      return (Map<String, Object>) m;
    } catch (Json.SyntaxException e) {
      throw new org.spinekit.io.MalformedFileException(f, e.getMessage());
    }
  }

  /**
   * Registers network {@code name}: {@code input} its input shape ({@code -1} for the batch); the
   * output shape is found by running it on zeros, which is also its warm-up: at batch 1 and at each
   * of {@code batches} (the batch sizes the pipeline gives it), so that the first request finds
   * libtorch's kernels chosen and the Java code compiled ({@value #WARM_UP} rounds).
   */
  /** Warm-up rounds per network, each at batch 1 and at the pipeline's batches. */
  static final int WARM_UP = 5;

  final void network(String name, long[] input, List<? extends Net> folds, int... batches) {
    long[] out = null;
    List<Integer> sizes = new ArrayList<>();
    for (int i = 0; i < WARM_UP; i++) {
      sizes.add(1);
      for (int b : batches) sizes.add(b);
    }
    for (int b : sizes) {
      long[] probe = input.clone();
      for (int i = 0; i < probe.length; i++) if (probe[i] < 0) probe[i] = b;
      try (PointerScope scope = new PointerScope();
          NoGradGuard g = new NoGradGuard()) {
        Tensor x = Tensors.of(new float[(int) numel(probe)], probe);
        if (device != null) x = x.to(device, x.scalar_type());
        for (Net n : folds) {
          long[] o = n.forward(x).sizes().vec().get();
          if (out == null) out = o;
        }
      }
    }
    if (input[0] < 0) out[0] = -1;
    networks.put(name, new Entry(new Network(name, input, out, folds.size()), folds));
  }

  private static long numel(long[] shape) {
    long n = 1;
    for (long s : shape) n = Math.multiplyExact(n, s);
    return n;
  }

  @Override
  public final String name() {
    return name;
  }

  /** The run directory. */
  public final Path run() {
    return run;
  }

  @Override
  public final R predict(String studyId, Path studyDir) throws IOException {
    try (StudyFolder f = StudyFolder.of(studyDir)) {
      return call(studyId, f);
    }
  }

  @Override
  public final R predict(String studyId, Map<String, byte[]> files) throws IOException {
    try (StudyFolder f = StudyFolder.of(files)) {
      return call(studyId, f);
    }
  }

  private R call(String studyId, StudyFolder f) throws IOException {
    long t0 = System.nanoTime();
    enter();
    try {
      return run(
          () -> {
            try (PointerScope scope = new PointerScope()) {
              double wait = (System.nanoTime() - t0) / 1e9;
              return predict(studyId, f, wait, t0);
            }
          });
    } finally {
      life.readLock().unlock();
    }
  }

  /**
   * Runs {@code task} on one of the lanes' threads and waits for it. The native work of every call
   * happens on those {@code parallel} threads only, whichever threads call: the allocator's
   * per-thread arenas (and what they keep of freed memory) stay as few as the lanes, where calls on
   * a server's many request threads made the resident memory grow with the threads used.
   */
  private <T> T run(Callable<T> task) throws IOException {
    Future<T> f = lanes.submit(task);
    boolean interrupted = false;
    try {
      // Waits out an interrupt: the task uses the caller's study and the networks, which the
      // caller's return may close; the interrupt is kept for the caller.
      while (true) {
        try {
          return f.get();
        } catch (InterruptedException ie) {
          interrupted = true;
        }
      }
    } catch (ExecutionException ee) {
      Throwable c = Futures.rethrowUnchecked(ee);
      if (c instanceof IOException io) throw io;
      throw new IllegalStateException(c);
    } finally {
      if (interrupted) Thread.currentThread().interrupt();
    }
  }

  /**
   * The prediction of the study in {@code f}, inside the caller's scope and lane.
   *
   * @param wait seconds spent waiting for a lane
   * @param start {@link System#nanoTime()} when the call began
   */
  abstract R predict(String studyId, StudyFolder f, double wait, long start) throws IOException;

  @Override
  public final List<Network> networks() {
    List<Network> out = new ArrayList<>();
    for (Entry e : networks.values()) out.add(e.network());
    return out;
  }

  @Override
  public final Network.Output infer(String network, long[] shape, float[] data) {
    Entry e = networks.get(network);
    if (e == null) {
      throw new IllegalArgumentException(
          "network: expected one of " + networks.keySet() + ", got '" + network + "'");
    }
    long[] want = e.network().input();
    boolean ok = shape.length == want.length && shape[0] >= 1;
    for (int i = 0; ok && i < want.length; i++)
      ok = want[i] < 0 ? shape[i] >= 1 : shape[i] == want[i];
    if (!ok) {
      throw new IllegalArgumentException(
          network
              + " input: expected shape "
              + Arrays.toString(want).replace("-1", "N")
              + ", got "
              + Arrays.toString(shape));
    }
    if (numel(shape) != data.length) {
      throw new IllegalArgumentException(
          network
              + " input: shape "
              + Arrays.toString(shape)
              + " has "
              + numel(shape)
              + " values, got "
              + data.length);
    }
    enter();
    try {
      return run(
          () -> {
            try (PointerScope scope = new PointerScope();
                NoGradGuard g = new NoGradGuard()) {
              Tensor x = Tensors.of(data, shape);
              if (device != null) x = x.to(device, x.scalar_type());
              Tensor sum = null;
              for (Net n : e.folds()) {
                Tensor y = n.forward(x);
                sum = sum == null ? y : sum.add(y);
              }
              if (e.folds().size() > 1) {
                sum = sum.div(new org.bytedeco.pytorch.Scalar(e.folds().size()));
              }
              Tensor out = sum.cpu().contiguous();
              return new Network.Output(out.sizes().vec().get(), Tensors.floats(out));
            }
          });
    } catch (IOException io) {
      throw new IllegalStateException(io);
    } finally {
      life.readLock().unlock();
    }
  }

  private void enter() {
    life.readLock().lock();
    if (closed) {
      life.readLock().unlock();
      throw new IllegalStateException(name + ": closed");
    }
  }

  @Override
  public final Map<String, Object> metadata() {
    return metadata;
  }

  @Override
  public final void close() {
    life.writeLock().lock();
    try {
      if (closed) return;
      closed = true;
      lanes.shutdown();
      free();
    } finally {
      life.writeLock().unlock();
    }
  }

  /** Frees the networks (once, with no call in flight). */
  abstract void free();

  static double secs(long t0) {
    return (System.nanoTime() - t0) / 1e9;
  }

  @Override
  public String toString() {
    return getClass().getSimpleName() + "[" + name + ", " + run + ", " + networks() + "]";
  }
}
