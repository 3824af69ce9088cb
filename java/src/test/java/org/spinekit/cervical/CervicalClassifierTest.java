package org.spinekit.cervical;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Set;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.nn.GradChecks;
import org.spinekit.nn.NameMap;
import org.spinekit.nn.Oracle;
import org.spinekit.nn.ResNet;
import org.spinekit.nn.TinyNets;

class CervicalClassifierTest {
  @TempDir Path dir;

  @BeforeAll
  static void init() {
    torch.set_num_threads(2);
  }

  /** The widths of cervical.py's test models. */
  static CervicalClassifier.Config testConfig(int slices, int channels, int outputs) {
    return new CervicalClassifier.Config(slices, channels, 32, 2, 16, outputs, 0.2, 0);
  }

  @Test
  void matchesPyTorchOn24SingleChannelSlices() throws Exception {
    Oracle.Run run =
        Oracle.run(
            dir,
            "cervical_resnet_tiny",
            "--in-ch",
            "24",
            "--size",
            "32",
            "32",
            "--classes",
            "1",
            "--batch",
            "2");
    try (CervicalClassifier net =
        new CervicalClassifier(TinyNets.encoder(1), testConfig(24, 1, 1))) {
      assertEquals(run.params(), net.parameterCount());
      Oracle.Diff d = Oracle.compare(net, run, NameMap.identity());
      System.out.printf(
          "cervical_resnet_tiny (2 x 24 x 32 x 32): params %d, float32 %.3g, "
              + "float64 %.3g, PyTorch noise %.3g%n",
          net.parameterCount(), d.f32(), d.f64(), d.noise());
      d.check();
    }
  }

  @Test
  void matchesPyTorchOnThreeChannelSlicesWithResNet18FromTheZoo() throws Exception {
    Oracle.Run run =
        Oracle.run(
            dir,
            "cervical3_resnet18",
            "--in-ch",
            "4",
            "--size",
            "3",
            "32",
            "32",
            "--classes",
            "2",
            "--batch",
            "2");
    try (CervicalClassifier net = CervicalClassifier.create("resnet18", testConfig(4, 3, 2))) {
      assertEquals(run.params(), net.parameterCount());
      Oracle.Diff d = Oracle.compare(net, run, NameMap.identity());
      System.out.printf(
          "cervical3_resnet18 (2 x 4 x 3 x 32 x 32): params %d, float32 %.3g, "
              + "float64 %.3g, PyTorch noise %.3g%n",
          net.parameterCount(), d.f32(), d.f64(), d.noise());
      d.check();
    }
  }

  @Test
  void keysAreGroupedByPart() {
    try (CervicalClassifier net =
            new CervicalClassifier(TinyNets.encoder(1), testConfig(24, 1, 1));
        PointerScope scope = new PointerScope()) {
      var keys = net.stateDict().keySet();
      assertTrue(keys.contains("encoder.conv1.weight"));
      assertTrue(keys.contains("encoder.layer4.0.bn2.running_var"));
      assertTrue(keys.contains("gru.weight_hh_l1_reverse"));
      assertTrue(keys.contains("attention.0.weight") && keys.contains("attention.2.bias"));
      assertTrue(keys.contains("head.weight") && keys.contains("head.bias"));
      for (String k : keys) {
        assertTrue(k.matches("(encoder|gru|attention|head)\\..*"), k);
      }
      assertEquals("[96, 64]", GradChecks.shape(net.stateDict().get("gru.weight_ih_l0")));
      assertEquals(
          Set.of("encoder.conv1.weight"),
          net.encoder().net().inputConvKeys().stream()
              .map(k -> "encoder." + k)
              .collect(java.util.stream.Collectors.toSet()));
      // The GRU inside keeps the explicit initialisation.
      assertEquals(0, net.stateDict().get("gru.bias_hh_l0").abs().max().item_double());
      Tensor w = net.stateDict().get("gru.weight_hh_l0").narrow(0, 32, 32);
      assertTrue(w.mm(w.t()).sub(torch.eye(32)).abs().max().item_double() < 1e-5);
    }
  }

  @Test
  void shapesAndGradientsWith24Slices() {
    try (CervicalClassifier net =
            new CervicalClassifier(
                TinyNets.encoder(1),
                CervicalClassifier.Config.of(24).withGru(16, 2).withAttentionHidden(8));
        PointerScope scope = new PointerScope()) {
      net.train(true);
      Tensor x = torch.randn(2, 24, 32, 32);
      CervicalClassifier.Output o = net.run(x);
      assertEquals("[2, 1]", GradChecks.shape(o.logits()));
      assertEquals("[2, 24]", GradChecks.shape(o.weights()));
      Tensor rows =
          o.weights().sum(new long[] {1}, false, new org.bytedeco.pytorch.ScalarTypeOptional());
      assertEquals(0, rows.sub(torch.ones(2)).abs().max().item_double(), 1e-6);
      o.logits().sum().backward();
      int n =
          GradChecks.assertFiniteGrads(
              net, "encoder.conv1", "encoder.layer4", "gru.weight", "attention.", "head.");
      assertEquals(net.namedParameters().size(), n);
    }
  }

  @Test
  void fiveDimensionalInputWithOneChannelEqualsFourDimensional() {
    try (CervicalClassifier net = new CervicalClassifier(TinyNets.encoder(1), testConfig(8, 1, 1));
        PointerScope scope = new PointerScope();
        NoGradGuard g = new NoGradGuard()) {
      net.eval();
      Tensor x = torch.randn(2, 8, 32, 32);
      Tensor a = net.forward(x);
      Tensor b = net.forward(x.unsqueeze(2));
      assertTrue(a.equal(b));
      // Each crop is classified on its own (the batch is not mixed in eval mode).
      Tensor one = net.forward(x.narrow(0, 1, 1));
      assertEquals(0, one.sub(a.narrow(0, 1, 1)).abs().max().item_double(), 1e-5);
    }
  }

  @Test
  void spatialDropoutZeroesWholeChannelsInTrainingOnly() {
    try (CervicalClassifier net =
            new CervicalClassifier(TinyNets.encoder(1), testConfig(8, 1, 1).withDropout(0.5, 0));
        PointerScope scope = new PointerScope();
        NoGradGuard g = new NoGradGuard()) {
      Tensor maps = torch.ones(4, 32, 3, 3);
      net.train(true);
      Tensor d = net.dropMaps(maps);
      // Per (n, c) map: all 0 or all 1/(1-p) = 2.
      Tensor lo = d.amin(new long[] {2, 3}, false);
      Tensor hi = d.amax(new long[] {2, 3}, false);
      assertTrue(lo.equal(hi), "a channel was partly dropped");
      Tensor zero = lo.eq(new org.bytedeco.pytorch.Scalar(0.0));
      Tensor two = lo.eq(new org.bytedeco.pytorch.Scalar(2.0));
      assertTrue(zero.logical_or(two).all().item_bool(), "values other than 0 and 2");
      long dropped = zero.sum().item_long();
      assertTrue(dropped > 128 * 0.25 && dropped < 128 * 0.75, dropped + " of 128 dropped");
      net.eval();
      assertSame(maps, net.dropMaps(maps));

      // Through the whole model: training-mode outputs vary with the dropout, eval ones not.
      Tensor x = torch.randn(2, 8, 32, 32);
      net.train(true);
      Tensor t1 = net.forward(x);
      Tensor t2 = net.forward(x);
      assertTrue(t1.sub(t2).abs().max().item_double() > 1e-6, "dropout had no effect");
      net.eval();
      assertTrue(net.forward(x).equal(net.forward(x)));
    }
  }

  @Test
  void badInputIsRefused() {
    try (CervicalClassifier net =
            new CervicalClassifier(
                TinyNets.encoder(1), CervicalClassifier.Config.of(24).withGru(8, 1));
        PointerScope scope = new PointerScope()) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class, () -> net.forward(torch.randn(2, 23, 32, 32)));
      assertTrue(
          e.getMessage().contains("[B, 24, H, W]") && e.getMessage().contains("[2, 23, 32, 32]"),
          e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> net.forward(torch.randn(2, 24, 32)));
      assertTrue(e.getMessage().contains("[2, 24, 32]"), e.getMessage());
      e =
          assertThrows(
              IllegalArgumentException.class, () -> net.forward(torch.randn(2, 24, 3, 32, 32)));
      assertTrue(e.getMessage().contains("channels per slice 1"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> net.dropMaps(torch.randn(2, 24)));
      assertTrue(e.getMessage().contains("[N, C, h, w]"), e.getMessage());
    }
    try (CervicalClassifier net =
            new CervicalClassifier(
                TinyNets.encoder(3),
                CervicalClassifier.Config.of(24).withChannelsPerSlice(3).withGru(8, 1));
        PointerScope scope = new PointerScope()) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class, () -> net.forward(torch.randn(2, 24, 32, 32)));
      assertTrue(e.getMessage().contains("[B, 24, 3, H, W]"), e.getMessage());
    }
    try (ResNet enc = TinyNets.encoder(3)) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> new CervicalClassifier(enc, CervicalClassifier.Config.of(24)));
      assertTrue(
          e.getMessage().contains("channelsPerSlice 1") && e.getMessage().contains("3"),
          e.getMessage());
    }
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> CervicalClassifier.Config.of(0));
    assertTrue(e.getMessage().contains("slices"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> CervicalClassifier.Config.of(24).withDropout(1.0, 0));
    assertTrue(e.getMessage().contains("spatialDropout"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class, () -> CervicalClassifier.create("no_such_net", 24));
    assertTrue(e.getMessage().contains("no_such_net"), e.getMessage());
  }
}
