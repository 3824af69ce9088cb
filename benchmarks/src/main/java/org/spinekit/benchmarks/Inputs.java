package org.spinekit.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.spinekit.ops.GaussianTargets;
import org.spinekit.runtime.NativeRuntime;
import org.spinekit.tensor.Tensors;

/**
 * The inputs of one benchmark trial, made once in {@code @Setup} (as {@code spinekit demo} makes
 * them) and held until {@code @TearDown}: heatmap logits that peak at random points, random grade
 * logits, the points, random grade targets and fixed random upstream gradients.
 */
final class Inputs implements AutoCloseable {
  /** Class weights of the head loss; their count is {@link Floors#CLASSES}. */
  static final float[] CLASS_WEIGHTS = {1f, 2f, 4f};

  /** Gaussian sigma in pixels. */
  static final double SIGMA = 2.0;

  final MapShape shape;

  /** float32 heat logits [N, K, ...spatial]: log of a Gaussian at the point plus noise. */
  final Tensor heat;

  /** float32 grade logits [N, C, ...spatial], standard normal. */
  final Tensor grade;

  /** float32 [N, K, ndim] points (x, y[, z]) in pixels. */
  final Tensor points;

  /** int64 [N, K] grades in [0, C). */
  final Tensor targets;

  /** float32 [N, K, ndim] gradient w.r.t. the DSNT pixel coordinates. */
  final Tensor gradCoords;

  /** float32 [N, K, C] gradient w.r.t. the pooled grades. */
  final Tensor gradPooled;

  private final List<Tensor> held = new ArrayList<>();

  Inputs(MapShape sh, long seed) {
    this.shape = sh;
    long c = CLASS_WEIGHTS.length;
    NativeRuntime.seed(seed);
    Random rnd = new Random(seed);
    try (PointerScope scope = new PointerScope()) {
      long[] spatial = sh.spatial();
      int ndim = sh.ndim();
      float[] pts = new float[(int) (sh.n() * sh.k() * ndim)];
      for (int r = 0; r < sh.n() * sh.k(); r++) {
        for (int j = 0; j < ndim; j++) {
          long size = spatial[ndim - 1 - j];
          double margin = Math.min(3 * SIGMA, (size - 1) / 2.0);
          pts[r * ndim + j] = (float) (margin + rnd.nextDouble() * (size - 1 - 2 * margin));
        }
      }
      points = keep(Tensors.of(pts, sh.n(), sh.k(), ndim));
      heat =
          keep(
              GaussianTargets.render(points, spatial, SIGMA, false)
                  .clamp_min(new Scalar(1e-30))
                  .log()
                  .add(torch.randn(sh.map(sh.k())).mul(new Scalar(0.05)))
                  .contiguous());
      grade = keep(torch.randn(sh.map(c)));
      long[] tg = new long[(int) (sh.n() * sh.k())];
      for (int i = 0; i < tg.length; i++) tg[i] = rnd.nextInt((int) c);
      targets = keep(Tensors.of(tg, sh.n(), sh.k()));
      gradCoords = keep(torch.randn(sh.n(), sh.k(), ndim));
      gradPooled = keep(torch.randn(sh.n(), sh.k(), c));
    }
  }

  /** Keeps {@code t} past the scope it was made in, until {@link #close}. */
  Tensor keep(Tensor t) {
    t.retainReference();
    held.add(t);
    return t;
  }

  /** Threads of libtorch's CPU ops and of the SpineKit CPU kernels. */
  static void setThreads(int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads: expected >= 1, got " + threads);
    }
    NativeRuntime.configure(
        NativeRuntime.Settings.fromEnvironment().withThreads(threads).withKernelThreads(threads));
  }

  /** True for "fused", false for "composite". */
  static boolean fused(String impl) {
    switch (impl) {
      case "fused":
        return true;
      case "composite":
        return false;
      default:
        throw new IllegalArgumentException("impl: expected fused or composite, got '" + impl + "'");
    }
  }

  @Override
  public void close() {
    for (Tensor t : held) t.releaseReference();
    held.clear();
  }

  /** Deletes {@code dir} and everything in it (a benchmark's temporary files). */
  static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> w = Files.walk(dir)) {
      for (Path p : w.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
    }
  }
}
