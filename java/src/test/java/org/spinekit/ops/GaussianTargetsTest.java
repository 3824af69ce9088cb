package org.spinekit.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.spinekit.tensor.Tensors;

class GaussianTargetsTest {
  @BeforeAll
  static void setUp() {
    TestSupport.init();
  }

  @Test
  void twoDimensionalTargetsMatchComposite() {
    try (PointerScope scope = new PointerScope()) {
      Tensor pts = Tensors.of(new float[] {3.5f, 2f, 0f, 0f, 12.2f, 6.9f, Float.NaN, 1f}, 2, 2, 2);
      for (boolean norm : new boolean[] {true, false}) {
        Tensor t = GaussianTargets.render(pts, new long[] {7, 13}, 1.7, norm);
        Tensor ref = Composite.gaussian(pts, 1, 7, 13, 2, 1.7, norm);
        TestSupport.assertClose(t.reshape(2, 2, -1), ref, 1e-7, 1e-5, "targets norm=" + norm);
      }
      float[] v = Tensors.floats(GaussianTargets.render(pts, new long[] {7, 13}, 1.7, true));
      double sum = 0, nanRow = 0;
      for (int i = 0; i < 91; i++) sum += v[i];
      for (int i = 3 * 91; i < 4 * 91; i++) nanRow += Math.abs(v[i]);
      assertEquals(1.0, sum, 1e-5, "normalised row sums to 1");
      assertEquals(0.0, nanRow, "a NaN point renders zeros");
      float[] peak = Tensors.floats(GaussianTargets.render(pts, new long[] {7, 13}, 1.7, false));
      assertEquals(1f, peak[91], 1e-6, "unnormalised peak at an integer point is 1");
    }
  }

  @Test
  void pointsFarOutsideTheMapStillGiveADistribution() {
    try (PointerScope scope = new PointerScope()) {
      Tensor pts = Tensors.of(new float[] {-300f, 5f, 6f, 60f}, 1, 2, 2);
      Tensor t = GaussianTargets.render(pts, new long[] {7, 13}, 1.5, true);
      // The reference in double: in float32, (x - 300)^2 keeps only ~3 digits of the offsets.
      Tensor ref =
          Composite.gaussian(
              pts.to(org.bytedeco.pytorch.global.torch.ScalarType.Double), 1, 7, 13, 2, 1.5, true);
      TestSupport.assertClose(t.reshape(1, 2, -1), ref, 1e-7, 1e-5, "far points");
      float[] v = Tensors.floats(t);
      double s0 = 0, s1 = 0;
      for (int i = 0; i < 91; i++) {
        s0 += v[i];
        s1 += v[91 + i];
      }
      assertEquals(1.0, s0, 1e-5);
      assertEquals(1.0, s1, 1e-5);
      float[] raw = Tensors.floats(GaussianTargets.render(pts, new long[] {7, 13}, 1.5, false));
      float max = 0;
      for (float x : raw) max = Math.max(max, x);
      assertEquals(0f, max, "unnormalised Gaussians of far points underflow to zero");
    }
  }

  @Test
  void threeDimensionalTargetsMatchComposite() {
    try (PointerScope scope = new PointerScope()) {
      Tensor pts = Tensors.of(new float[] {4f, 3f, 2f, 0.5f, 8.25f, 5.75f}, 1, 2, 3);
      Tensor t = GaussianTargets.render(pts, new long[] {6, 9, 10}, 2.0, true);
      TestSupport.assertClose(
          t.reshape(1, 2, -1),
          Composite.gaussian(pts, 6, 9, 10, 3, 2.0, true),
          1e-7,
          1e-5,
          "3D targets");
    }
  }

  @Test
  void doublePointsRenderInDoubleAsTheCompositeDoes() {
    try (PointerScope scope = new PointerScope()) {
      org.bytedeco.pytorch.global.torch.ScalarType f64 =
          org.bytedeco.pytorch.global.torch.ScalarType.Double;
      Tensor p2 =
          Tensors.of(new float[] {3.5f, 2f, -300f, 5f, 12.2f, 6.9f, Float.NaN, 1f}, 2, 2, 2)
              .to(f64);
      Tensor p3 = Tensors.of(new float[] {4f, 3f, 2f, 0.5f, 8.25f, 5.75f}, 1, 2, 3).to(f64);
      for (boolean norm : new boolean[] {true, false}) {
        Tensor t2 = GaussianTargets.render(p2, new long[] {7, 13}, 1.7, norm);
        assertEquals(f64.value, t2.scalar_type().value, "dtype of the targets");
        // Compared in double: equal to double rounding (float32 would differ by ~1e-7).
        assertEquals(
            0,
            t2.reshape(2, 2, -1)
                .sub(Composite.gaussian(p2, 1, 7, 13, 2, 1.7, norm))
                .abs()
                .max()
                .item_double(),
            1e-12,
            "2D f64 norm=" + norm);
        Tensor t3 = GaussianTargets.render(p3, new long[] {6, 9, 10}, 2.0, norm);
        assertEquals(
            0,
            t3.reshape(1, 2, -1)
                .sub(Composite.gaussian(p3, 6, 9, 10, 3, 2.0, norm))
                .abs()
                .max()
                .item_double(),
            1e-12,
            "3D f64 norm=" + norm);
      }
    }
  }

  @Test
  void badArgumentsAreNamed() {
    try (PointerScope scope = new PointerScope()) {
      Tensor pts = Tensors.of(new float[] {1f, 2f}, 1, 1, 2);
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> GaussianTargets.render(pts, new long[] {4, 4}, 0.0, true));
      assertEquals("sigma: expected a finite value > 0, got 0.0", e.getMessage());
      e =
          assertThrows(
              IllegalArgumentException.class,
              () -> GaussianTargets.render(pts, new long[] {2, 4, 4}, 1.0, true));
      assertEquals(
          "size: expected 2 values (H, W) for points of shape [1, 1, 2], got [2, 4, 4]",
          e.getMessage());
    }
  }
}
