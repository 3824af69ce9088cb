package org.spinekit.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.spinekit.tensor.Tensors;

class HeadLossTest {
  private static final float[] WEIGHTS = {1f, 2f, 4f};

  @BeforeAll
  static void setUp() {
    TestSupport.init();
  }

  /** Random points inside the map (some NaN) and targets in [-1, C). */
  static Tensor points(long n, long k, long[] spatial, Random rnd, boolean someMissing) {
    int ndim = spatial.length;
    float[] v = new float[(int) (n * k * ndim)];
    for (int r = 0; r < n * k; r++) {
      boolean missing = someMissing && r % 4 == 3;
      for (int j = 0; j < ndim; j++) {
        long size = spatial[ndim - 1 - j]; // x <- W, y <- H, z <- D
        v[r * ndim + j] = missing ? Float.NaN : (float) (rnd.nextDouble() * (size - 1));
      }
    }
    return Tensors.of(v, n, k, ndim);
  }

  static Tensor targets(long n, long k, int c, Random rnd, boolean someUnlabelled) {
    long[] v = new long[(int) (n * k)];
    for (int i = 0; i < v.length; i++) {
      v[i] = someUnlabelled && i % 5 == 4 ? -1 : rnd.nextInt(c);
    }
    return Tensors.of(v, n, k);
  }

  static Stream<Arguments> shapes() {
    return Stream.of(
        Arguments.of(new long[] {2, 5, 16, 16}, 1.0, 2.0),
        Arguments.of(new long[] {1, 1, 7, 13}, 1.0, 1.5),
        Arguments.of(new long[] {3, 2, 1, 1}, 1.0, 1.0),
        Arguments.of(new long[] {2, 5, 20, 24}, 30.0, 2.0),
        Arguments.of(new long[] {4, 5, 80, 80}, 3.0, 3.0),
        Arguments.of(new long[] {1, 3, 5, 6, 7}, 1.0, 1.0),
        Arguments.of(new long[] {2, 10, 6, 20, 20}, 2.0, 2.0));
  }

  @ParameterizedTest
  @MethodSource("shapes")
  void lossCoordsPooledAndGradientsMatchAutogradComposite(
      long[] shape, double scale, double sigma) {
    try (PointerScope scope = new PointerScope()) {
      Random rnd = new Random(shape.length * 1000 + shape[shape.length - 1]);
      torch.manual_seed(5);
      long n = shape[0], k = shape[1];
      long[] spatial = java.util.Arrays.copyOfRange(shape, 2, shape.length);
      long[] gshape = shape.clone();
      gshape[1] = 3;
      Tensor heat = torch.randn(shape).mul(new Scalar(scale));
      Tensor grade = torch.randn(gshape).mul(new Scalar(scale));
      Tensor pts = points(n, k, spatial, rnd, true);
      Tensor tgt = targets(n, k, 3, rnd, true);
      HeadLoss loss = new HeadLoss(sigma, 0.7, 1.3, WEIGHTS);
      HeadLoss.Result r = loss.compute(heat, grade, pts, tgt, true, NonFinitePolicy.THROW);

      Tensor h = heat.clone().requires_grad_(true);
      Tensor g = grade.clone().requires_grad_(true);
      Composite.HeadLossTerms ref = Composite.headLoss(h, g, pts, tgt, WEIGHTS, sigma, 0.7, 1.3);
      assertEquals(
          ref.js().item_double(), r.js(), 1e-5 + 1e-4 * Math.abs(ref.js().item_double()), "JS");
      assertEquals(ref.nll().item_double(), r.nll(), 1e-5 + 1e-4 * ref.nll().item_double(), "NLL");
      assertEquals(
          ref.loss().item_double(), r.loss(), 1e-5 + 1e-4 * ref.loss().item_double(), "loss");
      TestSupport.assertClose(r.coords, ref.coords(), 2e-4, 2e-5, "coords");
      TestSupport.assertClose(r.pooled, ref.pooled(), 1e-6, 1e-4, "pooled");
      TestSupport.assertClose(
          r.probs.reshape(n, k, -1), Composite.spatialSoftmax(heat), 1e-7, 2e-5, "probs");
      ref.loss().backward();
      TestSupport.assertClose(r.gradHeat, h.grad(), 1e-7, 1e-3, "grad heat");
      TestSupport.assertClose(r.gradGrade, g.grad(), 1e-7, 1e-3, "grad grade");
    }
  }

  @Test
  void finiteDifferencesInDoubleAgreeWithKernelGradients() {
    try (PointerScope scope = new PointerScope()) {
      Random rnd = new Random(9);
      torch.manual_seed(9);
      long[] shape = {2, 3, 5, 6};
      Tensor heat = torch.randn(shape);
      Tensor grade = torch.randn(2, 3, 5, 6);
      Tensor pts = points(2, 3, new long[] {5, 6}, rnd, false);
      Tensor tgt = targets(2, 3, 3, rnd, false);
      HeadLoss.Result r = new HeadLoss(1.2).compute(heat, grade, pts, tgt);
      float[] gh = Tensors.floats(r.gradHeat);
      float[] gg = Tensors.floats(r.gradGrade);
      Tensor hd = heat.to(ScalarType.Double);
      Tensor gd = grade.to(ScalarType.Double);
      Tensor pd = pts.to(ScalarType.Double);
      double eps = 1e-6;
      for (int i = 0; i < gh.length; i += 5) {
        double fd =
            (lossAt(hd, gd, pd, tgt, 0, i, eps) - lossAt(hd, gd, pd, tgt, 0, i, -eps)) / (2 * eps);
        assertEquals(fd, gh[i], 2e-5 + 2e-3 * Math.abs(fd), "d loss / d heat[" + i + "]");
      }
      for (int i = 0; i < gg.length; i += 5) {
        double fd =
            (lossAt(hd, gd, pd, tgt, 1, i, eps) - lossAt(hd, gd, pd, tgt, 1, i, -eps)) / (2 * eps);
        assertEquals(fd, gg[i], 2e-5 + 2e-3 * Math.abs(fd), "d loss / d grade[" + i + "]");
      }
    }
  }

  private static double lossAt(
      Tensor heat, Tensor grade, Tensor pts, Tensor tgt, int which, int flat, double delta) {
    Tensor h = heat.clone();
    Tensor g = grade.clone();
    (which == 0 ? h : g).view(-1).select(0, flat).add_(new Scalar(delta), new Scalar(1));
    return Composite.headLoss(h, g, pts, tgt, WEIGHTS, 1.2, 1.0, 1.0).loss().item_double();
  }

  /**
   * A tiny two-layer network trained by SGD twice from the same weights: once with the fused
   * kernel's gradients fed to autograd, once with the composite loss and autograd alone.
   */
  @Test
  void tinyNetworkTrainsToTheSameWeightsAsWithTheCompositeLoss() {
    try (PointerScope scope = new PointerScope()) {
      Random rnd = new Random(21);
      torch.manual_seed(21);
      long n = 2, k = 5, c = 3, f = 6, hid = 8, hh = 12, ww = 10;
      Tensor x = torch.randn(n, f, hh * ww);
      Tensor pts = points(n, k, new long[] {hh, ww}, rnd, true);
      Tensor tgt = targets(n, k, 3, rnd, true);
      Tensor[] fused = {torch.randn(hid, f).mul(new Scalar(0.5)), torch.randn(k + c, hid)};
      Tensor[] comp = {fused[0].clone(), fused[1].clone()};
      HeadLoss loss = new HeadLoss(1.5);
      double lr = 0.5;
      float firstLoss = Float.NaN, lastLoss = Float.NaN;
      for (int step = 0; step < 8; step++) {
        try (PointerScope stepScope = new PointerScope()) {
          // fused
          Tensor w1 = fused[0].detach().requires_grad_(true);
          Tensor w2 = fused[1].detach().requires_grad_(true);
          Tensor logits = w2.matmul(w1.matmul(x).tanh()); // [n, k+c, S]
          Tensor heat = logits.narrow(1, 0, k).contiguous().view(n, k, hh, ww);
          Tensor grade = logits.narrow(1, k, c).contiguous().view(n, c, hh, ww);
          HeadLoss.Result r = loss.compute(heat.detach(), grade.detach(), pts, tgt);
          r.backward(heat, grade);
          if (step == 0) firstLoss = r.loss();
          lastLoss = r.loss();
          Tensor nf0 = w1.detach().sub(w1.grad().mul(new Scalar(lr)));
          Tensor nf1 = w2.detach().sub(w2.grad().mul(new Scalar(lr)));
          // composite
          Tensor v1 = comp[0].detach().requires_grad_(true);
          Tensor v2 = comp[1].detach().requires_grad_(true);
          Tensor lg = v2.matmul(v1.matmul(x).tanh());
          Tensor ch = lg.narrow(1, 0, k).contiguous().view(n, k, hh, ww);
          Tensor cg = lg.narrow(1, k, c).contiguous().view(n, c, hh, ww);
          Composite.headLoss(ch, cg, pts, tgt, WEIGHTS, 1.5, 1.0, 1.0).loss().backward();
          Tensor nc0 = v1.detach().sub(v1.grad().mul(new Scalar(lr)));
          Tensor nc1 = v2.detach().sub(v2.grad().mul(new Scalar(lr)));
          for (Tensor t : new Tensor[] {nf0, nf1, nc0, nc1}) t.retainReference();
          fused = new Tensor[] {nf0, nf1};
          comp = new Tensor[] {nc0, nc1};
        }
      }
      assertTrue(
          lastLoss < firstLoss, "training lowers the loss: " + firstLoss + " -> " + lastLoss);
      // float32 kernels vs float32 autograd over 8 steps: agreement to 1e-4 relative.
      TestSupport.assertClose(fused[0], comp[0], 1e-5, 1e-4, "layer 1 weights");
      TestSupport.assertClose(fused[1], comp[1], 1e-5, 1e-4, "layer 2 weights");
    }
  }

  @Test
  void nonFiniteLogitsAndBadTargetsAreNamed() {
    try (PointerScope scope = new PointerScope()) {
      Random rnd = new Random(1);
      Tensor heat = torch.randn(2, 5, 8, 8);
      Tensor grade = torch.randn(2, 3, 8, 8);
      Tensor pts = points(2, 5, new long[] {8, 8}, rnd, false);
      Tensor tgt = targets(2, 5, 3, rnd, false);
      HeadLoss loss = new HeadLoss(2.0);
      Tensor badHeat = heat.clone();
      badHeat.select(0, 1).select(0, 3).select(0, 4).select(0, 4).fill_(new Scalar(Float.NaN));
      NonFiniteInputException e =
          assertThrows(NonFiniteInputException.class, () -> loss.compute(badHeat, grade, pts, tgt));
      assertTrue(e.getMessage().startsWith("heat: row [n=1, k=3]"), e.getMessage());
      Tensor badGrade = grade.clone();
      badGrade
          .select(0, 1)
          .select(0, 2)
          .select(0, 0)
          .select(0, 5)
          .fill_(new Scalar(Float.POSITIVE_INFINITY));
      e = assertThrows(NonFiniteInputException.class, () -> loss.compute(heat, badGrade, pts, tgt));
      assertTrue(e.getMessage().startsWith("grade: pixel [n=1, s=5]"), e.getMessage());
      Tensor badTgt = Tensors.of(new long[] {0, 1, 2, 0, 1, 2, 3, 0, 1, 2}, 2, 5);
      IllegalArgumentException t =
          assertThrows(
              IllegalArgumentException.class, () -> loss.compute(heat, grade, pts, badTgt));
      assertTrue(t.getMessage().contains("[n=1, k=1]"), t.getMessage());
      t =
          assertThrows(
              IllegalArgumentException.class,
              () -> loss.compute(heat, torch.randn(2, 4, 8, 8), pts, tgt));
      assertTrue(t.getMessage().startsWith("grade: expected shape [2, 3, 8, 8]"), t.getMessage());
      t =
          assertThrows(
              IllegalArgumentException.class,
              () -> loss.compute(heat, grade, pts, tgt.to(ScalarType.Int)));
      assertTrue(t.getMessage().startsWith("targets: expected dtype Long"), t.getMessage());
    }
  }

  @Test
  void noLabelsGiveZeroLossAndZeroGradients() {
    try (PointerScope scope = new PointerScope()) {
      Tensor heat = torch.randn(1, 2, 4, 4);
      Tensor grade = torch.randn(1, 3, 4, 4);
      Tensor pts = Tensors.of(new float[] {Float.NaN, 0, 1, Float.NaN}, 1, 2, 2);
      Tensor tgt = Tensors.of(new long[] {-1, -1}, 1, 2);
      HeadLoss.Result r = new HeadLoss(1.0).compute(heat, grade, pts, tgt);
      assertEquals(0f, r.loss());
      assertEquals(0.0, r.gradHeat.abs().max().item_double());
      assertEquals(0.0, r.gradGrade.abs().max().item_double());
    }
  }
}
