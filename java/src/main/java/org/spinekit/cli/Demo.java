package org.spinekit.cli;

import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.Callable;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.spinekit.ops.Composite;
import org.spinekit.ops.Dsnt;
import org.spinekit.ops.GaussianTargets;
import org.spinekit.ops.HeadLoss;
import org.spinekit.ops.HeatmapPool;
import org.spinekit.runtime.NativeRuntime;
import org.spinekit.tensor.Tensors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code spinekit demo}: first the synthetic data sets ({@link DataDemo}: generated, read back
 * through the Kaggle layouts, DICOM and NIfTI, labels checked against the anatomy), then heatmaps
 * rendered from random points go through the three head kernels; prints how well DSNT recovers the
 * points, the fused loss beside the composite one, and the forward+backward times of both.
 */
@Command(
    name = "demo",
    description = {
      "generates the synthetic RSNA"
          + " 2022 and RSNA 2024 sets, reads them back (Kaggle CSVs, DICOM series, NIfTI masks) and"
          + " shows the labels on the anatomy; then renders heatmaps from random points and runs the"
          + " DSNT, heatmap-pooling and fused head-loss kernels: coordinate error, and forward +"
          + " backward times beside the libtorch composites"
    })
final class Demo implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--shape",
      paramLabel = "NxKxHxW|NxKxDxHxW",
      defaultValue = "8x5x80x80",
      converter = Converters.HeatmapShapes.class,
      description = "heatmap batch (default ${DEFAULT-VALUE}; 3D e.g. 2x10x24x80x80)")
  Converters.HeatmapShape shape;

  @Option(
      names = "--classes",
      paramLabel = "C",
      defaultValue = "3",
      converter = Converters.Positive.class,
      description = "grade classes (default ${DEFAULT-VALUE}; class weights 1, 2, 4, ...)")
  int classes;

  @Option(
      names = "--sigma",
      paramLabel = "S",
      defaultValue = "2",
      converter = Converters.PositiveReal.class,
      description = "Gaussian sigma in pixels (default ${DEFAULT-VALUE})")
  double sigma;

  @Option(
      names = "--seed",
      paramLabel = "N",
      defaultValue = "1",
      description = "random seed (default ${DEFAULT-VALUE})")
  long seed;

  @Option(
      names = "--iters",
      paramLabel = "I",
      defaultValue = "20",
      converter = Converters.Positive.class,
      description =
          "timed repetitions per implementation (default ${DEFAULT-VALUE}; median" + " reported)")
  int iters;

  @Option(
      names = "--data",
      paramLabel = "DIR",
      description =
          "write the synthetic data sets"
              + " here and keep them (default: a temporary directory, removed afterwards)")
  java.nio.file.Path data;

  @Option(
      names = "--data-size",
      paramLabel = "small|demo",
      defaultValue = "demo",
      description = "small (seconds) or demo (default)")
  SynthCommand.Size dataSize;

  @Option(names = "--no-data", description = "only the kernel part")
  boolean noData;

  @Override
  public Integer call() throws java.io.IOException {
    long[] shape = this.shape.sizes();
    long c = classes;
    RuntimeOptions runtime = RuntimeOptions.of(spec);
    if (!noData) {
      java.nio.file.Path dir =
          data != null ? data : java.nio.file.Files.createTempDirectory("spinekit-demo");
      try {
        System.out.printf(
            "spinekit demo: synthetic data sets (%s), seed %d, %d threads%n",
            dataSize, seed, runtime.workers());
        DataDemo.run(dir, dataSize == SynthCommand.Size.small, seed, runtime.workers());
      } finally {
        if (data == null) deleteTree(dir);
      }
      System.out.println();
    }
    NativeRuntime.State state = NativeRuntime.state();
    NativeRuntime.seed(seed);
    Random rnd = new Random(seed);
    int ndim = shape.length - 2;
    long n = shape[0], k = shape[1];
    long[] spatial = Arrays.copyOfRange(shape, 2, shape.length);
    long d = ndim == 3 ? spatial[0] : 1, h = spatial[ndim - 2], w = spatial[ndim - 1];
    long[] gshape = shape.clone();
    gshape[1] = c;
    float[] cw = new float[(int) c];
    for (int i = 0; i < c; i++) cw[i] = (float) Math.pow(2, i);

    System.out.printf(
        "spinekit demo: heat %s, grade %s, sigma %.2f, seed %d, libtorch threads"
            + " %d, kernel threads %d%n",
        Arrays.toString(shape),
        Arrays.toString(gshape),
        sigma,
        seed,
        state.threads(),
        state.kernelThreads());
    try (PointerScope scope = new PointerScope()) {
      float[] pts = new float[(int) (n * k * ndim)];
      for (int r = 0; r < n * k; r++) {
        for (int j = 0; j < ndim; j++) {
          long size = spatial[ndim - 1 - j];
          double margin = Math.min(3 * sigma, (size - 1) / 2.0);
          pts[r * ndim + j] = (float) (margin + rnd.nextDouble() * (size - 1 - 2 * margin));
        }
      }
      Tensor points = Tensors.of(pts, n, k, ndim);
      // Heatmap logits: log of the rendered Gaussian plus a little noise.
      Tensor heat =
          GaussianTargets.render(points, spatial, sigma, false)
              .clamp_min(new Scalar(1e-30))
              .log()
              .add(torch.randn(shape).mul(new Scalar(0.05)));
      Tensor grade = torch.randn(gshape);
      long[] tg = new long[(int) (n * k)];
      for (int i = 0; i < tg.length; i++) tg[i] = rnd.nextInt((int) c);
      Tensor targets = Tensors.of(tg, n, k);
      Tensor gradCoords = torch.randn(n, k, ndim);
      Tensor gradPooled = torch.randn(n, k, c);

      Dsnt.Result r = Dsnt.forward(heat);
      float[] got = Tensors.floats(r.coords);
      double sum = 0, max = 0;
      for (int i = 0; i < got.length; i++) {
        double e = Math.abs(got[i] - pts[i]);
        sum += e;
        max = Math.max(max, e);
      }
      System.out.printf(
          "DSNT coordinates vs the rendered points: mean |error| %.4f px,"
              + " max %.4f px over %d coordinates%n",
          sum / got.length, max, got.length);
      double dc =
          maxAbsDiff(r.coords, Composite.dsntCoords(Composite.spatialSoftmax(heat), d, h, w, ndim));
      System.out.printf(
          "DSNT fused vs libtorch composite: max |coordinate difference| %.2e px%n", dc);

      HeadLoss loss = new HeadLoss(sigma, 1.0, 1.0, cw);
      HeadLoss.Result hl = loss.compute(heat, grade, points, targets);
      Composite.HeadLossTerms ref =
          Composite.headLoss(heat, grade, points, targets, cw, sigma, 1.0, 1.0);
      System.out.printf(
          "head loss fused:     loss %.6f  JS %.6f  NLL %.6f%n", hl.loss(), hl.js(), hl.nll());
      System.out.printf(
          "head loss composite: loss %.6f  JS %.6f  NLL %.6f%n",
          ref.loss().item_double(), ref.js().item_double(), ref.nll().item_double());

      Tensor probs = r.probs;
      Tensor gradeProbs = grade.softmax(1).contiguous();
      System.out.println();
      System.out.printf(
          "%-34s %12s %12s %9s%n",
          "forward + backward (median of " + iters + ")", "fused ms", "composite ms", "speed-up");
      row(
          "DSNT",
          iters,
          () -> {
            Dsnt.Result x = Dsnt.forward(heat);
            x.backward(gradCoords, null, null);
          },
          () -> {
            Tensor leaf = heat.detach().requires_grad_(true);
            Tensor p = Composite.spatialSoftmax(leaf);
            Composite.dsntCoords(p, d, h, w, ndim).mul(gradCoords).sum().backward();
            leaf.grad();
          });
      row(
          "heatmap pooling",
          iters,
          () -> {
            HeatmapPool.forward(probs, gradeProbs);
            HeatmapPool.backward(probs, gradeProbs, gradPooled);
          },
          () -> {
            Tensor a = probs.detach().requires_grad_(true);
            Tensor b = gradeProbs.detach().requires_grad_(true);
            Composite.heatmapPool(a, b).mul(gradPooled).sum().backward();
          });
      row(
          "head loss (JS + NLL, both grads)",
          iters,
          () -> loss.compute(heat, grade, points, targets),
          () -> {
            Tensor a = heat.detach().requires_grad_(true);
            Tensor b = grade.detach().requires_grad_(true);
            Composite.headLoss(a, b, points, targets, cw, sigma, 1.0, 1.0).loss().backward();
          });
    }
    return Cli.OK;
  }

  private static void deleteTree(java.nio.file.Path dir) throws java.io.IOException {
    try (java.util.stream.Stream<java.nio.file.Path> w = java.nio.file.Files.walk(dir)) {
      for (java.nio.file.Path p : w.sorted(java.util.Comparator.reverseOrder()).toList()) {
        java.nio.file.Files.deleteIfExists(p);
      }
    }
  }

  private static double maxAbsDiff(Tensor a, Tensor b) {
    float[] x = Tensors.floats(a);
    float[] y = Tensors.floats(b);
    double m = 0;
    for (int i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
    return m;
  }

  private static void row(String name, int iters, Runnable fused, Runnable composite) {
    double f = medianMs(iters, fused);
    double c = medianMs(iters, composite);
    System.out.printf("%-34s %12.3f %12.3f %8.2fx%n", name, f, c, c / f);
  }

  private static double medianMs(int iters, Runnable op) {
    // Warm-up as long as the measurement: JIT, libtorch's and glibc's allocators settle.
    for (int i = 0; i < Math.max(5, iters); i++) {
      try (PointerScope s = new PointerScope()) {
        op.run();
      }
    }
    double[] t = new double[iters];
    for (int i = 0; i < iters; i++) {
      try (PointerScope s = new PointerScope()) {
        long t0 = System.nanoTime();
        op.run();
        t[i] = (System.nanoTime() - t0) / 1e6;
      }
    }
    Arrays.sort(t);
    return t[iters / 2];
  }
}
