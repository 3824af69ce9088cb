package org.spinekit.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.spinekit.ops.Stack25dTest.assertMessage;

import java.util.Arrays;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.spinekit.tensor.Checks;
import org.spinekit.tensor.Tensors;

/** {@link Window} against Java loops (windows: 1e-6 absolute; normalisations: 1e-5). */
class WindowTest {
  @BeforeAll
  static void setUp() {
    TestSupport.init();
  }

  @Test
  void windowsAsChannelsMatchJavaLoops() {
    try (PointerScope scope = new PointerScope()) {
      torch.manual_seed(3);
      Tensor hu =
          torch.randint(-1000, 3000, new long[] {3, 17, 19}, new TensorOptions(ScalarType.Short));
      List<Window> ws = List.of(Window.SOFT_TISSUE, Window.BONE, new Window(-600, 1500));
      Tensor out = Window.channels(hu, 1, -1024, ws);
      assertArrayEquals(new long[] {3, 3, 17, 19}, Checks.shape(out));
      float[] got = Tensors.floats(out);
      float[] src = Tensors.floats(hu);
      int inner = 17 * 19;
      for (int o = 0; o < 3; o++) {
        for (int c = 0; c < 3; c++) {
          for (int i = 0; i < inner; i++) {
            double e = StackReference.window(src[o * inner + i] - 1024.0, ws.get(c));
            assertEquals(e, got[(o * 3 + c) * inner + i], 1e-6, "(" + o + "," + c + "," + i + ")");
          }
        }
      }
      Tensor f = torch.randn(2, 5).mul(new org.bytedeco.pytorch.Scalar(500));
      f.data_ptr_float().put(3, Float.NaN);
      Tensor fo = Window.channels(f, Window.BONE);
      assertTrue(Float.isNaN(fo.data_ptr_float().get(3)), "NaN propagates");
      assertEquals(1, fo.isnan().sum().item_long());
    }
  }

  @Test
  void percentileMatchesNumpysLinearPercentiles() {
    try (PointerScope scope = new PointerScope()) {
      torch.manual_seed(4);
      Tensor x = torch.rand(6, 11, 13).mul(new org.bytedeco.pytorch.Scalar(900));
      float[] v = Tensors.floats(x);
      double[] s = new double[v.length];
      for (int i = 0; i < v.length; i++) s[i] = v[i];
      Arrays.sort(s);
      double lo = linear(s, 1), hi = linear(s, 99);
      float[] got = Tensors.floats(Window.percentile(x));
      for (int i = 0; i < v.length; i++) {
        double e = Math.min(Math.max((v[i] - lo) / (hi - lo), 0), 1);
        assertEquals(e, got[i], 1e-5, "at " + i);
      }
      Tensor c = torch.full(new long[] {3, 3}, new org.bytedeco.pytorch.Scalar(5.0));
      assertEquals(0, Window.percentile(c).abs().max().item_double(), "constant image -> 0");
      x.data_ptr_float().put(7, Float.NaN);
      assertTrue(Window.percentile(x).isnan().all().item_bool(), "NaN -> all NaN (numpy)");
    }
  }

  static double linear(double[] sorted, double q) {
    double pos = q / 100 * (sorted.length - 1);
    int i0 = (int) Math.floor(pos);
    int i1 = Math.min(i0 + 1, sorted.length - 1);
    return sorted[i0] + (sorted[i1] - sorted[i0]) * (pos - i0);
  }

  @Test
  void zScoreHasZeroMeanUnitStd() {
    try (PointerScope scope = new PointerScope()) {
      torch.manual_seed(5);
      Tensor x =
          torch
              .randn(4, 9, 9)
              .mul(new org.bytedeco.pytorch.Scalar(120))
              .add(new org.bytedeco.pytorch.Scalar(300));
      float[] v = Tensors.floats(x);
      double m = 0;
      for (float f : v) m += f;
      m /= v.length;
      double var = 0;
      for (float f : v) var += (f - m) * (f - m);
      double sd = Math.sqrt(var / v.length);
      float[] got = Tensors.floats(Window.zScore(x));
      for (int i = 0; i < v.length; i++) assertEquals((v[i] - m) / sd, got[i], 1e-5, "at " + i);
    }
  }

  @Test
  void badInputIsRejectedNamingTheArgument() {
    try (PointerScope scope = new PointerScope()) {
      assertMessage(() -> Window.channels(torch.zeros(2, 2), 1, 0, List.of()), "windows:");
      assertMessage(
          () ->
              Window.channels(
                  torch.zeros(new long[] {2, 2}, new TensorOptions(ScalarType.Double)),
                  Window.BONE),
          "x: expected dtype");
      assertMessage(
          () -> Window.channels(torch.zeros(0, 2), Window.BONE), "x: expected a non-empty");
      assertMessage(() -> Window.percentile(torch.zeros(2, 2), 50, 10), "percentiles:");
      assertMessage(() -> Window.zScore(torch.zeros(0)), "x: expected a non-empty");
      assertMessage(() -> new Window(Double.NaN, 10), "center:");
      assertMessage(() -> Window.ofRange(3, 3), "range:");
    }
  }
}
