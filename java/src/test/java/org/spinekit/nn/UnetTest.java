package org.spinekit.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UnetTest {
  @TempDir Path dir;

  @BeforeAll
  static void init() {
    torch.set_num_threads(2);
  }

  /** A ResNet whose stride-2 map is hidden: an encoder starting at stride 4, as ConvNeXt. */
  private static final class StrideFour implements Encoder {
    private final ResNet net;

    StrideFour(ResNet net) {
      this.net = net;
    }

    @Override
    public List<Tensor> features(Tensor x) {
      List<Tensor> f = net.features(x);
      return f.subList(1, f.size());
    }

    @Override
    public int[] strides() {
      return new int[] {4, 8, 16, 32};
    }

    @Override
    public int[] channels() {
      int[] c = net.channels();
      return java.util.Arrays.copyOfRange(c, 1, c.length);
    }

    @Override
    public int inChannels() {
      return net.inChannels();
    }

    @Override
    public Net net() {
      return net;
    }
  }

  @Test
  void resnet18UnetMatchesTheReferenceAndAdaptsToOneChannel() throws Exception {
    Oracle.Run run = Oracle.run(dir, "unet_resnet18", "--classes", "9", "--batch", "1");
    try (Unet net = Unet.create("resnet18", 3, 9)) {
      assertEquals(14_329_369L, net.parameterCount());
      assertEquals(run.params(), net.parameterCount());
      Oracle.Diff d = Oracle.compare(net, run, NameMap.identity());
      System.out.println("unet_resnet18 " + d);
      d.check();
    }
    try (Unet net = Unet.create("resnet18", 1, 9)) {
      assertEquals(Set.of("encoder.conv1.weight"), net.inputConvKeys());
      StateDict.Report r = StateDict.load(net, run.weights(), NameMap.identity(), true);
      assertEquals(List.of("encoder.conv1.weight"), r.adapted());
    }
  }

  @Test
  void parameterCountEqualsSegmentationModelsPytorch() {
    // smp.Unet("resnet18", encoder_weights=None) (3 channels, 1 class): 14,328,209.
    try (Unet net = Unet.create("resnet18", 3, 1)) {
      assertEquals(14_328_209L, net.parameterCount());
      Map<String, Tensor> sd;
      try (PointerScope scope = new PointerScope()) {
        sd = net.stateDict();
        assertArrayEquals(
            new long[] {256, 768, 3, 3},
            sd.get("decoder.blocks.0.conv1.0.weight").sizes().vec().get());
        assertArrayEquals(
            new long[] {32, 128, 3, 3},
            sd.get("decoder.blocks.3.conv1.0.weight").sizes().vec().get());
        assertArrayEquals(
            new long[] {16, 32, 3, 3},
            sd.get("decoder.blocks.4.conv1.0.weight").sizes().vec().get());
        assertArrayEquals(
            new long[] {1, 16, 3, 3}, sd.get("segmentation_head.0.weight").sizes().vec().get());
        assertTrue(sd.containsKey("decoder.blocks.4.conv2.1.running_var"));
        assertTrue(!sd.containsKey("decoder.blocks.0.conv1.0.bias"), "decoder convs have bias");
        assertTrue(!sd.containsKey("encoder.fc.weight"), "encoder has a classifier");
      }
    }
  }

  @Test
  void resnest14dUnetMatchesTheReference() throws Exception {
    Oracle.Run run =
        Oracle.run(dir, "unet_resnest14d", "--classes", "9", "--batch", "1", "--calib-batch", "16");
    try (Unet net = Unet.create("resnest14d", 3, 9)) {
      assertEquals(run.params(), net.parameterCount());
      Oracle.Diff d = Oracle.compare(net, run, NameMap.identity());
      System.out.println("unet_resnest14d " + d);
      d.check();
    }
  }

  @Test
  void strideFourEncoderOnOneChannelMatchesTheReference() throws Exception {
    Oracle.Run run =
        Oracle.run(dir, "unet_resnet18_s4", "--in-ch", "1", "--classes", "9", "--batch", "1");
    try (Unet net = new Unet(new StrideFour(new ResNet(ResNet.Config.resnet18(1, 0))), 9)) {
      assertEquals(14_304_665L, net.parameterCount());
      assertEquals(run.params(), net.parameterCount());
      // The stride-2 block has no skip: 32 input channels only.
      try (PointerScope scope = new PointerScope()) {
        assertArrayEquals(
            new long[] {32, 64, 3, 3},
            net.stateDict().get("decoder.blocks.3.conv1.0.weight").sizes().vec().get());
      }
      Oracle.Diff d = Oracle.compare(net, run, NameMap.identity());
      System.out.println("unet_resnet18_s4 (1 channel) " + d);
      d.check();
    }
  }

  @Test
  void outputIsAtInputResolution() {
    try (Unet net = Unet.create("resnet18", 1, 9);
        PointerScope scope = new PointerScope();
        NoGradGuard g = new NoGradGuard()) {
      net.eval();
      assertEquals(32, net.sizeMultiple());
      assertEquals(1, net.inChannels());
      assertArrayEquals(
          new long[] {1, 9, 64, 96}, net.forward(torch.randn(1, 1, 64, 96)).sizes().vec().get());
      assertArrayEquals(
          new long[] {2, 9, 32, 32}, net.forward(torch.randn(2, 1, 32, 32)).sizes().vec().get());
    }
  }

  @Test
  void trainModeForwardAndBackwardReachEveryParameter() {
    torch.manual_seed(5);
    ResNet enc = new ResNet(new ResNet.Config(new int[] {1, 1, 1, 1}, false, 8, 3, 0));
    try (Unet net = new Unet(enc, new int[] {32, 16, 8, 8, 4}, 9);
        PointerScope scope = new PointerScope()) {
      net.train(true);
      Tensor out = net.forward(torch.randn(2, 3, 64, 64));
      assertArrayEquals(new long[] {2, 9, 64, 64}, out.sizes().vec().get());
      out.square().mean().backward();
      Map<String, Tensor> ps = net.namedParameters();
      assertTrue(ps.containsKey("decoder.blocks.4.conv2.1.weight"));
      for (Map.Entry<String, Tensor> e : ps.entrySet()) {
        Tensor g = e.getValue().grad();
        assertTrue(g.defined(), "no gradient for " + e.getKey());
        assertTrue(torch.isfinite(g).all().item_bool(), "non-finite gradient in " + e.getKey());
        assertTrue(g.abs().max().item_double() > 0, "zero gradient for " + e.getKey());
      }
      assertEquals(
          1L, net.namedBuffers().get("decoder.blocks.0.conv1.1.num_batches_tracked").item_long());
    }
  }

  @Test
  void badInputIsRefusedNamingTheSize() {
    try (Unet net = Unet.create("resnet18", 3, 9);
        PointerScope scope = new PointerScope()) {
      IllegalArgumentException h =
          assertThrows(
              IllegalArgumentException.class, () -> net.forward(torch.randn(1, 3, 65, 64)));
      assertTrue(
          h.getMessage().contains("multiples of 32") && h.getMessage().contains("65 x 64"),
          h.getMessage());
      IllegalArgumentException w =
          assertThrows(
              IllegalArgumentException.class, () -> net.forward(torch.randn(1, 3, 64, 48)));
      assertTrue(
          w.getMessage().contains("64 x 48") && w.getMessage().contains("64 x 64"), w.getMessage());
      IllegalArgumentException c =
          assertThrows(
              IllegalArgumentException.class, () -> net.forward(torch.randn(1, 1, 64, 64)));
      assertTrue(
          c.getMessage().contains("[N, 3, H, W]") && c.getMessage().contains("[1, 1, 64,"),
          c.getMessage());
      assertThrows(
          UnsupportedOperationException.class,
          () -> net.decoder().forward(torch.randn(1, 512, 2, 2)));
      IllegalArgumentException f =
          assertThrows(
              IllegalArgumentException.class,
              () -> net.decoder().decode(List.of(torch.randn(1, 512, 2, 2))));
      assertTrue(f.getMessage().contains("expected 5 feature maps"), f.getMessage());
    }
    ResNet enc = new ResNet(ResNet.Config.resnet18(3, 0));
    IllegalArgumentException d =
        assertThrows(
            IllegalArgumentException.class, () -> new Unet(enc, new int[] {256, 128, 64, 32}, 9));
    assertTrue(d.getMessage().contains("deepest encoder stride is 32"), d.getMessage());
    IllegalArgumentException k =
        assertThrows(IllegalArgumentException.class, () -> new Unet(enc, 0));
    assertTrue(k.getMessage().contains("classes must be >= 1, got 0"), k.getMessage());
    enc.close();
    IllegalArgumentException a =
        assertThrows(IllegalArgumentException.class, () -> Unet.create("no_such_net", 3, 9));
    assertTrue(a.getMessage().contains("no_such_net"), a.getMessage());
  }

  @Test
  void theZooBuildsSmpUnetsByArchName() {
    // segmentation_models_pytorch 0.5, 9 classes: Unet("resnet18") 14,329,369 parameters;
    // Unet("efficientnet-b0") and Unet("timm-efficientnet-b0") 6,252,629, of which 412,160
    // in the encoder's head, which smp keeps but never runs.
    long[] want = {14_329_369L, 6_252_629L - 412_160L, 6_252_629L - 412_160L};
    String[] archs = {"unet:resnet18", "unet:efficientnet_b0", "unet:efficientnet-b0"};
    for (int i = 0; i < archs.length; i++) {
      try (Net net = Zoo.create(archs[i], 3, 9)) {
        assertTrue(net instanceof Unet, archs[i]);
        assertEquals(9, ((Unet) net).classes(), archs[i]);
        assertEquals(want[i], net.parameterCount(), archs[i]);
      }
    }
    try (Net net = Zoo.create("unet:efficientnet-b0", 1, 2)) {
      assertArrayEquals(
          new int[] {0, 0, 0, 1, 0},
          ((EfficientNet) ((Unet) net).encoder()).config().featureBlocks());
      assertEquals(Set.of("encoder.features.0.0.weight"), net.inputConvKeys());
    }
    for (String encoder : List.of("resnet18", "efficientnet_b0", "pvt_v2_b0", "convnext_tiny")) {
      assertTrue(Zoo.names().contains(Zoo.UNET + encoder), encoder);
    }
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Zoo.create("unet:resnet18", 3, 0));
    assertTrue(e.getMessage().contains("classes must be >= 1, got 0"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Zoo.create("unet:resnet19", 3, 9));
    assertTrue(e.getMessage().contains("unknown arch 'unet:resnet19'"), e.getMessage());
  }
}
