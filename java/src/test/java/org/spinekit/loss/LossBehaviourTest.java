package org.spinekit.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.function.Supplier;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.spinekit.ops.HeadLoss;
import org.spinekit.ops.NonFiniteInputException;
import org.spinekit.tensor.Tensors;

/** NaN handling, input checks, the weighted sum and the JS / fused-loss agreement. */
class LossBehaviourTest {
  @BeforeAll
  static void init() {
    torch.set_num_threads(2);
    torch.manual_seed(11);
  }

  private static Tensor labels(long max, long... shape) {
    return torch.randint(max, shape);
  }

  private static Tensor withNaN(Tensor x) {
    return withNaN(x, 1);
  }

  /** A copy of x with NaN at flat index {@code at}. */
  private static Tensor withNaN(Tensor x, long at) {
    Tensor y = x.clone();
    y.view(-1).select(0, at).fill_(new Scalar(Double.NaN));
    return y;
  }

  private static boolean isNaN(Tensor v) {
    return Double.isNaN(v.item_double());
  }

  @Test
  void nanInAPredictionPropagatesToTheLoss() {
    try (PointerScope scope = new PointerScope()) {
      Tensor logits = withNaN(torch.randn(2, 3, 4, 4));
      Tensor cls = labels(3, 2, 4, 4);
      Tensor bin = torch.randint(2, new long[] {2, 3, 4, 4}).to(ScalarType.Float);
      assertTrue(isNaN(DiceLoss.multiclass().apply(logits, cls)), "dice multiclass");
      assertTrue(isNaN(DiceLoss.multilabel().apply(logits, bin)), "dice multilabel");
      assertTrue(isNaN(new CrossEntropy().apply(logits, cls)), "cross entropy");
      assertTrue(isNaN(new BinaryCrossEntropy().apply(logits, bin)), "bce");
      assertTrue(isNaN(FocalLoss.binary().apply(logits, bin)), "focal binary");
      assertTrue(isNaN(FocalLoss.multiclass().apply(logits, cls)), "focal multiclass");
      assertTrue(
          isNaN(new JsDivergence(1.0).apply(logits, torch.rand(2, 3, 2).mul(new Scalar(3.0)))),
          "js");
      // An element at the ignore index is not read: the NaN there does not reach the loss.
      Tensor x = withNaN(torch.randn(4, 3), 4); // row 1
      Tensor y = Tensors.of(new long[] {0, -100, 2, 1}, 4);
      Tensor v = new CrossEntropy().apply(x, y);
      assertTrue(Double.isFinite(v.item_double()), "ignored NaN row: " + v.item_double());
      assertTrue(Double.isFinite(FocalLoss.multiclass().apply(x, y).item_double()));
    }
  }

  @Test
  void fusedHeadLossRefusesNonFiniteLogits() {
    try (PointerScope scope = new PointerScope()) {
      Tensor packed = withNaN(torch.randn(1, 5, 8, 8));
      Tensor target = Tensors.of(new float[] {3, 4, 1, 5, 2, 0}, 1, 2, 3);
      FusedHeadLoss loss = new FusedHeadLoss(new HeadLoss(1.5));
      NonFiniteInputException e =
          assertThrows(NonFiniteInputException.class, () -> loss.apply(packed, target));
      assertTrue(e.getMessage().startsWith("heat: row [n=0, k=0]"), e.getMessage());
    }
  }

  private static void assertRefused(Supplier<?> call, String... fragments) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::get);
    for (String f : fragments) {
      assertTrue(e.getMessage().contains(f), "'" + f + "' in: " + e.getMessage());
    }
  }

  @Test
  void badInputsAreRefusedNamingTheArgument() {
    try (PointerScope scope = new PointerScope()) {
      Tensor x = torch.randn(2, 3, 4, 4);
      Tensor cls = labels(3, 2, 4, 4);
      assertRefused(
          () -> new CrossEntropy().apply(x, labels(3, 2, 4, 5)),
          "target",
          "[2, 4, 4]",
          "[2, 4, 5]");
      assertRefused(
          () -> new CrossEntropy().apply(x, cls.to(ScalarType.Float)),
          "target",
          "integer",
          "Float");
      assertRefused(
          () -> new CrossEntropy().apply(cls, cls), "prediction", "floating-point", "Long");
      assertRefused(
          () -> new CrossEntropy().withClassWeights(1, 2).apply(x, cls),
          "classWeights",
          "3 values",
          "got 2");
      assertRefused(() -> new CrossEntropy().withClassWeights(1, -2, 1), "classWeights", ">= 0");
      Tensor bad = cls.clone();
      bad.select(0, 1).select(0, 2).select(0, 3).fill_(new Scalar(7L));
      assertRefused(
          () -> new CrossEntropy().apply(x, bad), "target", "[0, 3)", "got 7", "[1, 2, 3]");
      assertRefused(() -> DiceLoss.multiclass().apply(x, bad), "target", "got 7");
      assertRefused(() -> FocalLoss.multiclass().apply(x, bad), "target", "got 7");
      assertRefused(
          () -> new CrossEntropy().apply(x, cls, torch.ones(3)), "sampleWeights", "[2]", "[3]");
      assertRefused(
          () -> new BinaryCrossEntropy().apply(x, torch.rand(2, 3, 4)), "target", "[2, 3, 4, 4]");
      assertRefused(
          () -> new BinaryCrossEntropy().withPosWeight(1, 2).apply(x, torch.rand(2, 3, 4, 4)),
          "posWeight",
          "4 values",
          "got 2");
      assertRefused(
          () -> new BinaryCrossEntropy().withTargetWeights(new double[] {1}, new double[] {1, 2}),
          "targetWeights",
          "same length");
      assertRefused(
          () -> DiceLoss.multiclass().withClasses(0, 5).apply(x, cls), "classes", "[0, 3)");
      assertRefused(() -> DiceLoss.multilabel().apply(x, cls), "target", "[2, 3, 4, 4]");
      assertRefused(
          () -> new JsDivergence(1.0).apply(x, torch.rand(2, 3, 3)),
          "target",
          "[2, 3, 4, 4]",
          "[2, 3, 2]");
      assertRefused(
          () -> new JsDivergence(1.0).apply(torch.randn(2, 3, 4), torch.rand(2, 3, 4)),
          "prediction",
          "rank >= 4");
      assertRefused(() -> new JsDivergence(0), "sigma", "> 0");
      assertRefused(() -> FocalLoss.binary().withClassAlpha(1, 2), "classAlpha", "MULTICLASS");
      assertRefused(
          () -> new CrossEntropy().withLabelSmoothing(1.5), "labelSmoothing", "[0, 1]", "1.5");
      assertRefused(
          () ->
              new FusedHeadLoss(new HeadLoss(1.5))
                  .apply(torch.randn(1, 4, 8, 8), torch.zeros(1, 2, 3)),
          "prediction",
          "5 channels",
          "[1, 4, 8, 8]");
      assertRefused(
          () ->
              new FusedHeadLoss(new HeadLoss(1.5))
                  .apply(
                      torch.randn(1, 5, 8, 8),
                      Tensors.of(new float[] {3, 4, 0.5f, 5, 2, 0}, 1, 2, 3)),
          "target",
          "whole-number");
    }
  }

  @Test
  void weightedSumAddsValuesAndGradients() {
    try (PointerScope scope = new PointerScope()) {
      Tensor x0 = torch.randn(2, 3, 5, 5);
      Tensor y = labels(3, 2, 5, 5);
      WeightedSum sum =
          WeightedSum.of("dice", 0.7, DiceLoss.multiclass())
              .plus("ce", 1.3, new CrossEntropy().withLabelSmoothing(0.1));
      Tensor a = x0.clone();
      a.requires_grad_(true);
      WeightedSum.Values v = sum.values(a, y);
      v.total().backward();
      Tensor b = x0.clone();
      b.requires_grad_(true);
      Tensor d = DiceLoss.multiclass().apply(b, y);
      Tensor c = new CrossEntropy().withLabelSmoothing(0.1).apply(b, y);
      Tensor want = d.mul(new Scalar(0.7)).add(c.mul(new Scalar(1.3)));
      want.backward();
      assertEquals(want.item_double(), v.total().item_double(), 1e-6);
      Map<String, Tensor> terms = v.terms();
      assertEquals(java.util.List.of("dice", "ce"), java.util.List.copyOf(terms.keySet()));
      assertEquals(d.item_double(), terms.get("dice").item_double(), 1e-7);
      assertEquals(c.item_double(), terms.get("ce").item_double(), 1e-7);
      assertTrue(a.grad().sub(b.grad()).abs().max().item_double() < 1e-7);
      assertTrue(a.grad().abs().max().item_double() > 1e-4, "a gradient reached the logits");
      assertRefused(() -> sum.plus("ce", 1, new CrossEntropy()), "ce", "already");
      WeightedSum perElement =
          WeightedSum.of("none", 1, new CrossEntropy().withReduction(Reduction.NONE));
      assertRefused(() -> perElement.apply(x0, y), "none", "scalar", "[2, 5, 5]");
    }
  }

  @Test
  void jsDivergenceEqualsTheFusedKernelsJsTerm() {
    try (PointerScope scope = new PointerScope()) {
      Tensor heat = torch.randn(2, 3, 10, 12);
      Tensor grade = torch.randn(2, 3, 10, 12);
      Tensor points =
          Tensors.of(new float[] {2.5f, 3, 7, 1.5f, 10, 8, 4, 4, Float.NaN, 1, 6, 5}, 2, 3, 2);
      Tensor grades = Tensors.of(new long[] {0, 1, 2, -1, 0, 1}, 2, 3);
      HeadLoss fused = new HeadLoss(1.7, 1.0, 0.0, new float[] {1, 2, 4});
      Tensor a = heat.clone();
      a.requires_grad_(true);
      Tensor js = new JsDivergence(1.7).apply(a, points);
      js.backward();
      try (HeadLoss.Result r = fused.compute(heat, grade, points, grades)) {
        assertEquals(r.js(), js.item_double(), 1e-6 * Math.abs(r.js()) + 1e-7);
        assertEquals(r.loss(), js.item_double(), 1e-6 * Math.abs(r.js()) + 1e-7);
        double gd = r.gradHeat.sub(a.grad()).abs().max().item_double();
        double gm = a.grad().abs().max().item_double();
        assertTrue(gd <= 1e-4 * gm, "gradient differs by " + gd + " (max " + gm + ")");
      }
      // And the adapter, as an autograd node, yields the kernel's gradient.
      Tensor b = heat.clone();
      b.requires_grad_(true);
      Tensor g = grade.clone();
      g.requires_grad_(true);
      Tensor v = new FusedHeadLoss(new HeadLoss(1.7)).apply(b, g, points, grades);
      v.mul(new Scalar(3.0)).backward();
      try (HeadLoss.Result r = new HeadLoss(1.7).compute(heat, grade, points, grades)) {
        assertEquals(r.loss(), v.item_double(), 0.0);
        assertEquals(
            0.0, b.grad().sub(r.gradHeat.mul(new Scalar(3.0))).abs().max().item_double(), 1e-7);
        assertEquals(
            0.0, g.grad().sub(r.gradGrade.mul(new Scalar(3.0))).abs().max().item_double(), 1e-7);
      }
    }
  }

  @Test
  void focalWithGammaZeroIsCrossEntropy() {
    try (PointerScope scope = new PointerScope()) {
      Tensor x = torch.randn(3, 4, 6).to(ScalarType.Double);
      Tensor y = labels(4, 3, 6);
      y.select(0, 0).select(0, 2).fill_(new Scalar(-100L));
      double f = FocalLoss.multiclass().withGamma(0).apply(x, y).item_double();
      double c = new CrossEntropy().apply(x, y).item_double();
      assertEquals(c, f, 1e-12);
    }
  }
}
