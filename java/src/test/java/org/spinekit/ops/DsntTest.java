package org.spinekit.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

class DsntTest {
  @BeforeAll
  static void setUp() {
    TestSupport.init();
  }

  static Stream<Arguments> shapes() {
    return Stream.of(
        Arguments.of(new long[] {2, 5, 16, 16}, 1.0),
        Arguments.of(new long[] {1, 1, 7, 13}, 1.0),
        Arguments.of(new long[] {3, 2, 1, 1}, 1.0),
        Arguments.of(new long[] {2, 3, 1, 9}, 1.0),
        Arguments.of(new long[] {4, 5, 80, 80}, 1.0),
        Arguments.of(new long[] {2, 3, 33, 17}, 40.0),
        Arguments.of(new long[] {1, 2, 5, 6, 7}, 1.0),
        Arguments.of(new long[] {2, 3, 4, 9, 11}, 30.0),
        Arguments.of(new long[] {1, 1, 1, 1, 1}, 1.0));
  }

  @ParameterizedTest
  @MethodSource("shapes")
  void valuesAndGradientsMatchAutogradComposite(long[] shape, double scale) {
    try (PointerScope scope = new PointerScope()) {
      torch.manual_seed(7);
      Tensor logits = torch.randn(shape).mul(new Scalar(scale));
      int ndim = shape.length == 4 ? 2 : 3;
      long n = shape[0], k = shape[1];
      long d = ndim == 3 ? shape[2] : 1, h = shape[shape.length - 2], w = shape[shape.length - 1];

      Dsnt.Result r = Dsnt.forward(logits);

      Tensor leaf = logits.clone().requires_grad_(true);
      Tensor p = Composite.spatialSoftmax(leaf);
      Tensor px = Composite.dsntCoords(p, d, h, w, ndim);
      Tensor nx = Composite.normalise(px, d, h, w, ndim);
      TestSupport.assertClose(r.probs.reshape(n, k, -1), p, 1e-7, 2e-5, "probs");
      TestSupport.assertClose(r.coords, px, 2e-5, 2e-5, "coords");
      TestSupport.assertClose(r.coordsNorm, nx, 2e-6, 2e-5, "coordsNorm");

      Tensor gpx = torch.randn(n, k, ndim);
      Tensor gnx = torch.randn(n, k, ndim);
      Tensor gp = torch.randn(n, k, d * h * w).mul(new Scalar(0.1));
      Tensor obj = px.mul(gpx).sum().add(nx.mul(gnx).sum()).add(p.mul(gp).sum());
      obj.backward();
      Tensor grad = r.backward(gpx, gnx, gp.reshape(shape));
      TestSupport.assertClose(
          grad.reshape(n, k, -1), leaf.grad().reshape(n, k, -1), 1e-6, 1e-4, "grad logits");
    }
  }

  @Test
  void finiteDifferenceInDoubleAgreesWithKernelGradient() {
    try (PointerScope scope = new PointerScope()) {
      torch.manual_seed(3);
      long[] shape = {1, 2, 5, 6};
      Tensor logits = torch.randn(shape).mul(new Scalar(2.0));
      Tensor gpx = torch.randn(1, 2, 2);
      Dsnt.Result r = Dsnt.forward(logits);
      float[] grad = Tensors.floats(r.backward(gpx, null, null));
      // objective f = sum(coords * gpx) in double
      Tensor ld = logits.to(ScalarType.Double);
      Tensor gd = gpx.to(ScalarType.Double);
      double hstep = 1e-6;
      float[] base = Tensors.floats(logits);
      for (int i = 0; i < base.length; i += 7) {
        double fp = objective(ld, gd, i, hstep);
        double fm = objective(ld, gd, i, -hstep);
        double fd = (fp - fm) / (2 * hstep);
        assertEquals(fd, grad[i], 1e-4 + 1e-3 * Math.abs(fd), "d f / d logits[" + i + "]");
      }
    }
  }

  private static double objective(Tensor logitsD, Tensor gD, int flat, double delta) {
    Tensor l = logitsD.clone();
    Tensor flatView = l.view(-1);
    flatView.select(0, flat).add_(new Scalar(delta));
    Tensor p = Composite.spatialSoftmax(l);
    Tensor c = p.matmul(Composite.grid(l, 1, 5, 6, 2).to(ScalarType.Double));
    return c.mul(gD).sum().item_double();
  }

  @Test
  void nanRowThrowsNamingTheRowAndPropagatePolicyMarksOnlyThatRow() {
    try (PointerScope scope = new PointerScope()) {
      Tensor logits = torch.randn(2, 3, 4, 4);
      logits.select(0, 1).select(0, 2).select(0, 1).select(0, 3).fill_(new Scalar(Float.NaN));
      NonFiniteInputException e =
          assertThrows(NonFiniteInputException.class, () -> Dsnt.forward(logits));
      assertTrue(e.getMessage().contains("[n=1, k=2]"), e.getMessage());
      assertEquals(5, e.index());

      Dsnt.Result r = Dsnt.forward(logits, NonFinitePolicy.PROPAGATE);
      float[] c = Tensors.floats(r.coords);
      for (int row = 0; row < 6; row++) {
        boolean nan = Float.isNaN(c[row * 2]) && Float.isNaN(c[row * 2 + 1]);
        assertEquals(row == 5, nan, "row " + row + " NaN");
      }
    }
  }

  @Test
  void infinitiesFollowTheDocumentedRules() {
    try (PointerScope scope = new PointerScope()) {
      // -inf entries in a finite row get probability 0; +inf or all -inf rows are errors.
      Tensor logits = torch.zeros(1, 1, 2, 2);
      logits.view(-1).select(0, 0).fill_(new Scalar(Float.NEGATIVE_INFINITY));
      Dsnt.Result r = Dsnt.forward(logits);
      float[] p = Tensors.floats(r.probs);
      assertEquals(0f, p[0]);
      assertEquals(1f / 3, p[1], 1e-6);
      Tensor plusInf = torch.zeros(1, 1, 2, 2);
      plusInf.view(-1).select(0, 3).fill_(new Scalar(Float.POSITIVE_INFINITY));
      assertThrows(NonFiniteInputException.class, () -> Dsnt.forward(plusInf));
      Tensor allNeg = torch.full(new long[] {1, 1, 2, 2}, new Scalar(Float.NEGATIVE_INFINITY));
      assertThrows(NonFiniteInputException.class, () -> Dsnt.forward(allNeg));
    }
  }

  @Test
  void badArgumentsAreRejectedBeforeNativeCode() {
    try (PointerScope scope = new PointerScope()) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> Dsnt.forward(torch.randn(2, 3, 4)));
      assertTrue(
          e.getMessage().startsWith("logits: expected rank [4, 5], got rank 3"), e.getMessage());
      e =
          assertThrows(
              IllegalArgumentException.class,
              () -> Dsnt.forward(torch.randn(1, 1, 4, 4).to(ScalarType.Double)));
      assertTrue(e.getMessage().contains("expected dtype Float, got Double"), e.getMessage());
      e =
          assertThrows(
              IllegalArgumentException.class,
              () -> Dsnt.forward(torch.randn(1, 1, 4, 6).transpose(2, 3)));
      assertTrue(e.getMessage().contains("contiguous"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> Dsnt.forward(torch.randn(1, 0, 4, 4)));
      assertTrue(e.getMessage().contains("non-empty"), e.getMessage());
      Dsnt.Result r = Dsnt.forward(torch.randn(1, 2, 4, 4));
      e =
          assertThrows(
              IllegalArgumentException.class, () -> r.backward(torch.randn(1, 2, 3), null, null));
      assertTrue(e.getMessage().startsWith("gradCoords: expected shape [1, 2, 2]"), e.getMessage());
    }
  }
}
