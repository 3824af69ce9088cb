package org.spinekit.ops;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class HeatmapPoolTest {
  @BeforeAll
  static void setUp() {
    TestSupport.init();
  }

  static Stream<Arguments> shapes() {
    return Stream.of(
        Arguments.of(new long[] {2, 5, 16, 16}, 3L),
        Arguments.of(new long[] {1, 1, 7, 13}, 1L),
        Arguments.of(new long[] {3, 2, 1, 1}, 3L),
        Arguments.of(new long[] {2, 5, 96, 100}, 3L),
        Arguments.of(new long[] {1, 3, 5, 6, 7}, 4L),
        Arguments.of(new long[] {2, 10, 6, 40, 40}, 3L));
  }

  @ParameterizedTest
  @MethodSource("shapes")
  void valuesAndGradientsMatchBmmWithAutograd(long[] shape, long c) {
    try (PointerScope scope = new PointerScope()) {
      torch.manual_seed(11);
      long[] gshape = shape.clone();
      gshape[1] = c;
      Tensor heat = Composite.spatialSoftmax(torch.randn(shape)).reshape(shape).contiguous();
      Tensor grade = torch.randn(gshape).softmax(1).contiguous();
      Tensor pooled = HeatmapPool.forward(heat, grade);

      Tensor h = heat.clone().requires_grad_(true);
      Tensor g = grade.clone().requires_grad_(true);
      Tensor ref = Composite.heatmapPool(h, g);
      TestSupport.assertClose(pooled, ref, 1e-6, 1e-5, "pooled");

      Tensor gp = torch.randn(shape[0], shape[1], c);
      ref.mul(gp).sum().backward();
      HeatmapPool.Grads grads = HeatmapPool.backward(heat, grade, gp);
      TestSupport.assertClose(grads.heat(), h.grad(), 1e-6, 1e-5, "grad heat");
      TestSupport.assertClose(grads.grade(), g.grad(), 1e-6, 1e-5, "grad grade");
    }
  }

  @Test
  void mismatchedShapesAreRejected() {
    try (PointerScope scope = new PointerScope()) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> HeatmapPool.forward(torch.rand(2, 5, 8, 8), torch.rand(2, 3, 8, 9)));
      assertTrue(e.getMessage().startsWith("grade: expected spatial size"), e.getMessage());
      e =
          assertThrows(
              IllegalArgumentException.class,
              () -> HeatmapPool.forward(torch.rand(2, 5, 8, 8), torch.rand(1, 3, 8, 8)));
      assertTrue(e.getMessage().startsWith("grade: expected batch size 2"), e.getMessage());
      e =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  HeatmapPool.backward(
                      torch.rand(2, 5, 8, 8), torch.rand(2, 3, 8, 8), torch.rand(2, 3, 5)));
      assertTrue(e.getMessage().startsWith("gradPooled: expected shape [2, 5, 3]"), e.getMessage());
    }
  }
}
