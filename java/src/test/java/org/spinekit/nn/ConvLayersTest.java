package org.spinekit.nn;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.spinekit.runtime.ConvDetour;
import org.spinekit.runtime.ConvGuard;
import org.spinekit.runtime.NativeRuntime;

/**
 * Float32 CPU convolutions (values, input and weight gradients) against the same modules in
 * float64, which libtorch computes without oneDNN, for the shapes that libtorch 2.10's oneDNN
 * computes wrong on AVX-512 (or AVX2) machines unless {@link ConvDetour} takes them: with the
 * convolution guard as it configures itself on this machine (AUTO), and forced on (ON), so the
 * detour is checked on machines where libtorch is right too.
 */
class ConvLayersTest {
  /**
   * Max abs differences float32 vs float64 of the value, the input gradient and the weight gradient
   * (of {@code sum(y * r)}, r random), then the largest float64 value and weight gradient.
   */
  private static double[] f32VsF64(Net conv, Tensor weight, long[] inputShape) {
    try (PointerScope scope = new PointerScope()) {
      torch.manual_seed(11);
      Tensor x = torch.randn(inputShape);
      Tensor[] y = new Tensor[2];
      Tensor[] dx = new Tensor[2];
      Tensor[] dw = new Tensor[2];
      Tensor r = null;
      for (int p = 0; p < 2; p++) {
        ScalarType t = p == 0 ? ScalarType.Float : ScalarType.Double;
        conv.to(t, false);
        Tensor xi = x.to(t).detach().requires_grad_(true);
        Tensor out = conv.forward(xi);
        if (r == null) r = torch.randn(out.sizes().vec().get());
        out.mul(r.to(t)).sum().backward();
        y[p] = out.detach().to(ScalarType.Double);
        dx[p] = xi.grad().to(ScalarType.Double);
        dw[p] = weight.grad().to(ScalarType.Double);
        weight.grad().zero_();
      }
      conv.to(ScalarType.Float, false);
      return new double[] {
        y[0].sub(y[1]).abs().max().item_double(),
        dx[0].sub(dx[1]).abs().max().item_double(),
        dw[0].sub(dw[1]).abs().max().item_double(),
        y[1].abs().max().item_double(),
        dw[1].abs().max().item_double()
      };
    }
  }

  private static void check(String what, Net conv, Tensor weight, long... inputShape) {
    double[] d = f32VsF64(conv, weight, inputShape);
    System.out.printf(
        "%s: value %.3g (of %.3g), input grad %.3g, weight grad %.3g (of %.3g)%n",
        what, d[0], d[3], d[1], d[2], d[4]);
    assertTrue(d[0] <= 1e-4 * Math.max(1, d[3]), what + ": float32 value differs by " + d[0]);
    assertTrue(d[1] <= 1e-4, what + ": float32 input gradient differs by " + d[1]);
    assertTrue(
        d[2] <= 1e-5 * Math.max(1, d[4]),
        what + ": float32 weight gradient differs by " + d[2] + " of " + d[4]);
  }

  /** Runs {@code body} under each guard mode, then restores the runtime's settings. */
  private static void inEachMode(Runnable body) {
    NativeRuntime.State before = NativeRuntime.state();
    try {
      for (ConvGuard.Mode mode : new ConvGuard.Mode[] {ConvGuard.Mode.AUTO, ConvGuard.Mode.ON}) {
        NativeRuntime.configure(before.settings().withConvGuard(mode));
        body.run();
      }
    } finally {
      NativeRuntime.configure(before.settings());
    }
  }

  @Test
  void denseConv2dWithUnalignedChannelsMatchesFloat64() {
    inEachMode(ConvLayersTest::conv2dCases);
  }

  private static void conv2dCases() {
    // tf_efficientnetv2_s's first stages (24 channels, TF "SAME" padding included), the
    // decoder of a UNet on EfficientNet-B0 (296 = 256 + 40), and channel counts around 16.
    Object[][] cases = {
      {"24->24 3x3", Conv2d.of(24, 24, 3, 1, 1, 1, false), new long[] {2, 24, 40, 36}},
      {"24->96 3x3/2 same", Conv2d.samePadding(24, 96, 3, 2, 1, false), new long[] {2, 24, 41, 36}},
      {"296->64 3x3", Conv2d.of(296, 64, 3, 1, 1, 1, false), new long[] {1, 296, 16, 16}},
      {"40->40 5x5/2 bias", Conv2d.of(40, 40, 5, 2, 2, 1, true), new long[] {2, 40, 20, 20}},
      {"32->24 3x3 bias", Conv2d.of(32, 24, 3, 1, 1, 1, true), new long[] {2, 32, 20, 20}},
      {"48->64 3x3/2", Conv2d.of(48, 64, 3, 2, 1, 1, false), new long[] {2, 48, 20, 20}},
      {"96->9 3x3 bias", Conv2d.of(96, 9, 3, 1, 1, 1, true), new long[] {2, 96, 16, 16}},
      {
        "64->64 3x3 dilation 2", Conv2d.of(64, 64, 3, 1, 2, 2, 1, false), new long[] {2, 64, 20, 20}
      },
      {"12->16 3x3", Conv2d.of(12, 16, 3, 1, 1, 1, false), new long[] {2, 12, 24, 24}},
      {"17->8 3x3", Conv2d.of(17, 8, 3, 1, 1, 1, false), new long[] {2, 17, 24, 24}},
      {"24->24 1x1", Conv2d.of(24, 24, 1, 1, 0, 1, false), new long[] {2, 24, 24, 24}},
      {"48->48 3x3 groups 2", Conv2d.of(48, 48, 3, 1, 1, 2, false), new long[] {2, 48, 24, 24}},
    };
    for (Object[] c : cases) {
      try (Conv2d conv = (Conv2d) c[1]) {
        check((String) c[0], conv, conv.weight, (long[]) c[2]);
      }
    }
  }

  @Test
  void channelsLastInputsTrainThroughTheNativeConvolution() {
    // ConvNeXt and PVTv2 feed permuted (channels-last) maps to strided convolutions.
    try (Conv2d conv = Conv2d.of(48, 64, 2, 2, 0, 1, true);
        PointerScope scope = new PointerScope()) {
      torch.manual_seed(12);
      Tensor base = torch.randn(2, 20, 20, 48);
      Tensor[] dx = new Tensor[2];
      Tensor[] y = new Tensor[2];
      for (int p = 0; p < 2; p++) {
        ScalarType t = p == 0 ? ScalarType.Float : ScalarType.Double;
        conv.to(t, false);
        Tensor leaf = base.to(t).detach().requires_grad_(true);
        Tensor x = leaf.permute(0, 3, 1, 2);
        y[p] = conv.forward(x);
        y[p].sum().backward();
        dx[p] = leaf.grad().to(ScalarType.Double);
        y[p] = y[p].detach().to(ScalarType.Double);
        conv.weight.grad().zero_();
      }
      conv.to(ScalarType.Float, false);
      assertTrue(y[0].sub(y[1]).abs().max().item_double() < 1e-4);
      assertTrue(dx[0].sub(dx[1]).abs().max().item_double() < 1e-4);
    }
  }

  @Test
  void denseConv3dWithUnalignedChannelsMatchesFloat64() {
    inEachMode(ConvLayersTest::conv3dCases);
  }

  private static void conv3dCases() {
    try (Conv3d conv = new Conv3d(24, 16, 3, 1, 1, true)) {
      check("conv3d 24->16 3x3x3", conv, conv.weight, 2, 24, 6, 10, 10);
    }
    try (Conv3d conv = new Conv3d(16, 24, 3, 1, 1, true)) {
      check("conv3d 16->24 3x3x3", conv, conv.weight, 2, 16, 6, 10, 10);
    }
    try (Conv3d conv = new Conv3d(40, 24, 3, 2, 1, true)) {
      check("conv3d 40->24 3x3x3/2", conv, conv.weight, 2, 40, 7, 10, 9);
    }
  }
}
