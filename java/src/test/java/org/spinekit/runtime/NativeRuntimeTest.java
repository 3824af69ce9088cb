package org.spinekit.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.spinekit.nn.Conv2d;
import org.spinekit.nn.Conv3d;
import org.spinekit.nn.Net;

class NativeRuntimeTest {
  @Test
  void environmentIsReadAndMalformedValuesAreNamed() {
    NativeRuntime.Settings s =
        NativeRuntime.Settings.fromEnvironment(
            Map.of(
                "SPINEKIT_THREADS",
                "3",
                "SPINEKIT_BLAS_THREADS",
                " 2 ",
                "SPINEKIT_CONV_GUARD",
                "off"));
    assertEquals(new NativeRuntime.Settings(3, 0, 2, 0, ConvGuard.Mode.OFF, false, true), s);
    assertEquals(
        NativeRuntime.Settings.defaults(), NativeRuntime.Settings.fromEnvironment(Map.of()));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> NativeRuntime.Settings.fromEnvironment(Map.of("SPINEKIT_KERNEL_THREADS", "-1")));
    assertEquals("SPINEKIT_KERNEL_THREADS: expected an integer >= 0, got '-1'", e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> NativeRuntime.Settings.fromEnvironment(Map.of("SPINEKIT_CONV_GUARD", "maybe")));
    assertEquals("SPINEKIT_CONV_GUARD: expected auto, on or off, got 'maybe'", e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> NativeRuntime.Settings.defaults().withThreads(-2));
    assertEquals("threads: expected >= 0, got -2", e.getMessage());
  }

  @Test
  void configureAppliesThreadsAndReportsThem() {
    NativeRuntime.State before = NativeRuntime.state();
    try {
      NativeRuntime.State s =
          NativeRuntime.configure(before.settings().withThreads(1).withKernelThreads(1));
      assertEquals(1, s.threads());
      assertEquals(1, torch.get_num_threads());
      assertEquals(1, s.kernelThreads());
      assertEquals(2, NativeRuntime.withThreads(2, () -> torch.get_num_threads()));
      assertEquals(1, torch.get_num_threads(), "withThreads restores the count");
      assertTrue(s.describe().contains("convolution guard: "), s.describe());
    } finally {
      NativeRuntime.configure(
          before
              .settings()
              .withThreads(Math.max(1, before.threads()))
              .withKernelThreads(before.kernelThreads()));
    }
  }

  @Test
  void onlyDenseFloat32CpuConvolutionsWithLargerKernelsAreRoutable() {
    try (PointerScope scope = new PointerScope()) {
      Tensor f = torch.zeros(1, 1, 4, 4);
      assertTrue(ConvDetour.routable(f, 1, 3, 3));
      assertTrue(ConvDetour.routable(f, 1, 1, 3));
      assertTrue(ConvDetour.routable(f, 1, 3, 3, 3));
      assertFalse(ConvDetour.routable(f, 1, 1, 1), "1x1");
      assertFalse(ConvDetour.routable(f, 2, 3, 3), "grouped");
      assertFalse(ConvDetour.routable(f.to(ScalarType.Double), 1, 3, 3), "float64");
      assertEquals(8, ConvDetour.extraChannels(24));
      assertEquals(7, ConvDetour.extraChannels(9));
      assertEquals(8, ConvDetour.extraChannels(296));
      assertEquals(0, ConvDetour.extraChannels(32));
      assertEquals(0, ConvDetour.extraChannels(8));
      assertEquals(0, ConvDetour.extraChannels(3));
      assertEquals(8, ConvDetour.extraFilters(24));
      assertEquals(15, ConvDetour.extraFilters(1));
      assertEquals(0, ConvDetour.extraFilters(64));
      Tensor p = ConvDetour.pad(torch.ones(2, 3, 4, 5), 5, 1, 2, 0, 1);
      assertEquals("[2, 8, 5, 8]", java.util.Arrays.toString(p.sizes().vec().get()));
      assertEquals(2 * 3 * 4 * 5, p.sum().item_double(), 0);
      assertEquals(0, p.narrow(1, 3, 5).abs().sum().item_double(), 0);
      Tensor w = ConvDetour.padWeight(torch.ones(24, 40, 3, 3), 8, 8);
      assertEquals("[32, 48, 3, 3]", java.util.Arrays.toString(w.sizes().vec().get()));
      assertEquals(24 * 40 * 9, w.sum().item_double(), 0);
      assertEquals(
          "[32]",
          java.util.Arrays.toString(ConvDetour.padBias(torch.ones(24), 8).sizes().vec().get()));
    }
  }

  /** The detour's probes agree with float64 on this machine, whatever libtorch does. */
  @Test
  void theDetourIsRightWhereverItRuns() {
    assertTrue(ConvGuard.probe(2, true) <= ConvGuard.WRONG, "2D detour");
    assertTrue(ConvGuard.probe(3, true) <= ConvGuard.WRONG, "3D detour");
  }

  /**
   * Whatever this machine's libtorch does, SpineKit's float32 convolution layers must agree with
   * float64 (forward and gradients) for channel counts that are not multiples of the SIMD block,
   * with the guard as configured (AUTO) and with it forced on.
   */
  @Test
  void convolutionLayersAreRightWithTheGuard() {
    NativeRuntime.State before = NativeRuntime.state();
    try {
      for (ConvGuard.Mode mode : new ConvGuard.Mode[] {ConvGuard.Mode.AUTO, ConvGuard.Mode.ON}) {
        NativeRuntime.configure(before.settings().withConvGuard(mode));
        try (Conv2d c2 = Conv2d.of(24, 40, 3, 1, 1, 1, true);
            Conv2d p2 = Conv2d.of(24, 8, 1, 1, 0, 1, false);
            Conv3d c3 = new Conv3d(20, 24, 3, 1, 1, true)) {
          check(c2, new long[] {2, 24, 20, 21}, mode + " conv2d 3x3 24->40");
          check(p2, new long[] {2, 24, 20, 21}, mode + " conv2d 1x1 24->8");
          check(c3, new long[] {2, 20, 4, 10, 11}, mode + " conv3d 20->24");
        }
      }
    } finally {
      NativeRuntime.configure(before.settings());
    }
  }

  private static void check(Net layer, long[] shape, String what) {
    try (PointerScope scope = new PointerScope()) {
      torch.manual_seed(7);
      Tensor x = torch.randn(shape);
      Tensor[] f32 = run(layer, x);
      layer.to(new org.bytedeco.pytorch.Device(torch.DeviceType.CPU), ScalarType.Double, false);
      Tensor[] f64 = run(layer, x.to(ScalarType.Double));
      layer.to(new org.bytedeco.pytorch.Device(torch.DeviceType.CPU), ScalarType.Float, false);
      String[] names = {"output", "input gradient", "weight gradient"};
      for (int i = 0; i < 3; i++) {
        double scale = f64[i].abs().max().item_double();
        double err = f32[i].to(ScalarType.Double).sub(f64[i]).abs().max().item_double() / scale;
        assertTrue(err < 1e-5, what + " " + names[i] + ": relative error " + err);
      }
    }
  }

  private static Tensor[] run(Net layer, Tensor x0) {
    Tensor x = x0.detach().requires_grad_(true);
    Tensor w = layer.namedParameters().get("weight");
    if (w.grad().defined()) w.grad().zero_();
    Tensor y = layer.forward(x);
    y.mul(y.detach().cos()).sum().backward();
    return new Tensor[] {y.detach(), x.grad().clone(), w.grad().clone()};
  }
}
