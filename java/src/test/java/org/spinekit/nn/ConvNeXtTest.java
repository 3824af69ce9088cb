package org.spinekit.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.testing.Subprocess;

class ConvNeXtTest {
  @TempDir Path dir;

  @TempDir static Path shared;

  private static Oracle.Run tinyRun;

  @BeforeAll
  static void init() {
    // One intra-op thread: these networks run hundreds of small ops, and on a busy 2-core
    // machine every parallel region waits for a descheduled second thread (b4's forward
    // measured 10 s with 2 threads, 0.2 s with 1).
    torch.set_num_threads(1);
  }

  /** One oracle run of convnext_tiny (64 x 64, batch 2) shared by the tests that need it. */
  private static synchronized Oracle.Run tinyRun() {
    if (tinyRun == null) tinyRun = Oracle.run(shared, "convnext_tiny", "--spread");
    return tinyRun;
  }

  @Test
  void parameterCountsEqualTorchvision() {
    try (ConvNeXt tiny = new ConvNeXt(ConvNeXt.Config.tiny(3, 1000));
        ConvNeXt base = new ConvNeXt(ConvNeXt.Config.base(3, 1000))) {
      assertEquals(28_589_128L, tiny.parameterCount());
      assertEquals(88_591_464L, base.parameterCount());
    }
  }

  @Test
  void convnextTinyMatchesTorchvision() throws Exception {
    Oracle.Run run = tinyRun();
    try (ConvNeXt net = new ConvNeXt(ConvNeXt.Config.tiny(3, 1000))) {
      assertEquals(run.params(), net.parameterCount());
      Oracle.Diff d = Oracle.compare(net, run, NameMap.identity());
      System.out.println("convnext_tiny " + d);
      d.check();
    }
  }

  @Test
  void convnextBaseMatchesTorchvision() throws Exception {
    Oracle.Run run =
        Oracle.run(dir, "convnext_base", "--size", "32", "64", "--batch", "1", "--spread");
    try (ConvNeXt net = new ConvNeXt(ConvNeXt.Config.base(3, 1000))) {
      assertEquals(run.params(), net.parameterCount());
      Oracle.Diff d = Oracle.compare(net, run, NameMap.identity());
      System.out.println("convnext_base " + d);
      d.check();
    }
  }

  @Test
  void timmKeysLoadThroughTheNameMap() throws Exception {
    Oracle.Run run = tinyRun();
    Path timm = dir.resolve("timm.safetensors");
    python("nn_rename.py", "convnext-timm", run.weights().toString(), timm.toString());
    try (ConvNeXt net = new ConvNeXt(ConvNeXt.Config.tiny(3, 1000));
        PointerScope scope = new PointerScope();
        NoGradGuard g = new NoGradGuard()) {
      Map<String, Tensor> renamed = org.spinekit.io.safetensors.SafeTensors.read(timm);
      assertArrayEquals(
          new long[] {96}, renamed.get("stages.0.blocks.0.gamma").sizes().vec().get());
      assertNotNull(renamed.get("stages.2.blocks.8.mlp.fc2.weight"));
      // Without the map nothing matches.
      assertThrows(
          IllegalArgumentException.class,
          () -> StateDict.load(net, timm, NameMap.identity(), true));
      StateDict.Report r = StateDict.load(net, timm, NameMap.resource("timm-convnext"), true);
      assertTrue(r.complete(), r.toString());
      // Exactly the 18 gammas ([C] into [C, 1, 1]) were adapted.
      assertEquals(18, r.adapted().size(), r.adapted().toString());
      assertTrue(r.adapted().stream().allMatch(k -> k.endsWith(".layer_scale")), r.toString());
      // Every tensor landed where torchvision's own key puts it, bit for bit.
      Map<String, Tensor> original = org.spinekit.io.safetensors.SafeTensors.read(run.weights());
      Map<String, Tensor> loaded = net.stateDict();
      assertEquals(original.keySet(), loaded.keySet());
      for (Map.Entry<String, Tensor> e : original.entrySet()) {
        assertTrue(torch.equal(loaded.get(e.getKey()), e.getValue()), e.getKey());
      }
      // And the network gives torchvision's output.
      net.eval();
      Map<String, Tensor> io = org.spinekit.io.safetensors.SafeTensors.read(run.io());
      double d = net.forward(io.get("input")).sub(io.get("output")).abs().max().item_double();
      assertTrue(d <= Math.max(1e-4, 2 * run.noise()), "timm-keyed load differs by " + d);
    }
  }

  @Test
  void featuresHaveTheDeclaredStridesAndChannels() {
    try (ConvNeXt net = new ConvNeXt(ConvNeXt.Config.tiny(1, 0));
        PointerScope scope = new PointerScope();
        NoGradGuard g = new NoGradGuard()) {
      net.eval();
      Tensor x = torch.randn(1, 1, 64, 96);
      List<Tensor> f = net.features(x);
      assertEquals(4, f.size());
      assertArrayEquals(new int[] {4, 8, 16, 32}, net.strides());
      assertArrayEquals(new int[] {96, 192, 384, 768}, net.channels());
      for (int i = 0; i < 4; i++) {
        assertArrayEquals(
            new long[] {1, net.channels()[i], 64 / net.strides()[i], 96 / net.strides()[i]},
            f.get(i).sizes().vec().get(),
            "feature " + i);
      }
      // Headless: forward is the global average pool of the last feature map.
      Tensor want = f.get(3).mean(new long[] {2, 3}, false, new ScalarTypeOptional());
      Tensor got = net.forward(x);
      assertArrayEquals(new long[] {1, 768}, got.sizes().vec().get());
      assertTrue(got.sub(want).abs().max().item_double() < 1e-6);
      assertTrue(net.stateDict().keySet().stream().noneMatch(k -> k.startsWith("classifier")));
    }
  }

  @Test
  void threeChannelWeightsAdaptToOneChannel() throws Exception {
    ConvNeXt.Config rgb =
        new ConvNeXt.Config(new int[] {1, 1, 1, 1}, new int[] {8, 8, 8, 8}, 0.0, 1e-6, 3, 4);
    Path file = dir.resolve("rgb.safetensors");
    try (ConvNeXt net = new ConvNeXt(rgb)) {
      StateDict.save(net, file, Map.of());
    }
    try (ConvNeXt net =
            new ConvNeXt(new ConvNeXt.Config(rgb.depths(), rgb.dims(), 0.0, 1e-6, 1, 4));
        PointerScope scope = new PointerScope()) {
      StateDict.Report r = StateDict.load(net, file, NameMap.identity(), true);
      assertEquals(List.of("features.0.0.weight"), r.adapted());
      Tensor w = org.spinekit.io.safetensors.SafeTensors.read(file).get("features.0.0.weight");
      Tensor want = w.sum(new long[] {1}, true, new ScalarTypeOptional());
      assertTrue(
          net.stateDict().get("features.0.0.weight").sub(want).abs().max().item_double() < 1e-6);
    }
  }

  @Test
  void onlySizeOneDimensionsAreReshapedOnLoad() {
    ConvNeXt.Config c =
        new ConvNeXt.Config(new int[] {1, 1, 1, 1}, new int[] {8, 8, 8, 8}, 0.0, 1e-6, 3, 4);
    try (ConvNeXt net = new ConvNeXt(c);
        PointerScope scope = new PointerScope()) {
      Map<String, Tensor> sd = new java.util.LinkedHashMap<>(net.stateDict());
      // A [C] vector for the [C, 1, 1] layer scale loads, values in order.
      Tensor gamma = torch.arange(new org.bytedeco.pytorch.Scalar(8)).to(torch.ScalarType.Float);
      sd.put("features.1.0.layer_scale", gamma);
      StateDict.Report r = StateDict.load(net, sd, NameMap.identity(), true, "flat");
      assertEquals(List.of("features.1.0.layer_scale"), r.adapted());
      assertTrue(
          torch.equal(net.stateDict().get("features.1.0.layer_scale").flatten(0, -1), gamma));
      // A different number of values is refused, naming the key and both shapes.
      sd.put("features.1.0.layer_scale", torch.ones(9));
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> StateDict.load(net, sd, NameMap.identity(), true, "long"));
      assertTrue(
          e.getMessage().contains("features.1.0.layer_scale")
              && e.getMessage().contains("[9]")
              && e.getMessage().contains("[8, 1, 1]"),
          e.getMessage());
      // So is the same values in another arrangement of sizes above 1.
      sd.put("features.1.0.layer_scale", torch.ones(8, 1, 1));
      sd.put("features.0.0.weight", torch.ones(8, 3, 2, 8));
      assertThrows(
          IllegalArgumentException.class,
          () -> StateDict.load(net, sd, NameMap.identity(), true, "permuted"));
    }
  }

  @Test
  void trainingForwardDropsPathsAndBackpropagatesFiniteGradients() {
    ConvNeXt.Config small =
        new ConvNeXt.Config(new int[] {1, 1, 2, 1}, new int[] {8, 16, 24, 32}, 0.0, 1.0, 3, 5);
    torch.manual_seed(3);
    try (ConvNeXt plain = new ConvNeXt(small);
        ConvNeXt dropping = new ConvNeXt(small.withStochasticDepth(0.9));
        PointerScope scope = new PointerScope()) {
      StateDict.load(dropping, plain.stateDict(), NameMap.identity(), true, "plain");
      Tensor x = torch.randn(4, 3, 32, 32);
      plain.eval();
      Tensor eval = plain.forward(x);
      // Without stochastic depth there is nothing random: train mode equals eval mode.
      plain.train(true);
      assertTrue(plain.forward(x).sub(eval).abs().max().item_double() < 1e-6);
      // With it, train mode differs from eval, and the same seed draws the same paths.
      dropping.train(true);
      torch.manual_seed(11);
      Tensor a = dropping.forward(x);
      torch.manual_seed(11);
      Tensor b = dropping.forward(x);
      assertTrue(a.sub(b).abs().max().item_double() == 0.0, "same seed, same drops");
      assertTrue(a.sub(eval).abs().max().item_double() > 1e-5, "paths were dropped");
      // Backward: every parameter gets a finite gradient, and some are non-zero.
      Tensor loss = a.pow(new org.bytedeco.pytorch.Scalar(2)).mean();
      loss.backward();
      int nonZero = 0;
      for (Map.Entry<String, Tensor> e : dropping.namedParameters().entrySet()) {
        Tensor gr = e.getValue().grad();
        assertTrue(gr.defined(), "no gradient for " + e.getKey());
        assertTrue(torch.isfinite(gr).all().item_bool(), "non-finite gradient " + e.getKey());
        if (gr.abs().max().item_double() > 0) nonZero++;
      }
      assertTrue(nonZero > dropping.namedParameters().size() / 2, "non-zero gradients " + nonZero);
      assertTrue(torch.isfinite(loss).item_bool());
    }
  }

  @Test
  void zooBuildsTheNamedArchitectures() {
    try (Net tiny = Zoo.create("convnext_tiny", 1, 0)) {
      assertTrue(tiny instanceof ConvNeXt);
      assertEquals(1, ((Encoder) tiny).inChannels());
      assertTrue(tiny.stateDict().containsKey("features.7.2.layer_scale"));
    }
    assertTrue(Zoo.names().contains("convnext_base"));
  }

  @Test
  void badInputIsRefusedWithAClearMessage() {
    try (ConvNeXt net =
            new ConvNeXt(
                new ConvNeXt.Config(
                    new int[] {1, 1, 1, 1}, new int[] {8, 8, 8, 8}, 0.0, 1e-6, 3, 4));
        PointerScope scope = new PointerScope()) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class, () -> net.forward(torch.randn(1, 1, 32, 32)));
      assertTrue(
          e.getMessage().contains("[N, 3, H, W]") && e.getMessage().contains("[1, 1, 32, " + "32]"),
          e.getMessage());
      IllegalArgumentException small =
          assertThrows(
              IllegalArgumentException.class, () -> net.forward(torch.randn(1, 3, 16, 64)));
      assertTrue(small.getMessage().contains(">= 32"), small.getMessage());
      assertThrows(IllegalArgumentException.class, () -> net.forward(torch.randn(3, 32, 32)));
    }
    IllegalArgumentException c =
        assertThrows(
            IllegalArgumentException.class,
            () -> new ConvNeXt.Config(new int[] {1, 1, 1}, new int[] {8, 8, 8}, 0, 1e-6, 3, 4));
    assertTrue(c.getMessage().contains("4 entries"), c.getMessage());
    assertFalse(
        assertThrows(IllegalArgumentException.class, () -> ConvNeXt.Config.tiny(0, 10))
            .getMessage()
            .isEmpty());
  }

  /** Runs one of the test-resource Python scripts; fails the test on a non-zero exit. */
  static String python(String script, String... args) throws Exception {
    var url = ConvNeXtTest.class.getResource("/python/" + script);
    assertNotNull(url, "test resource python/" + script);
    List<String> cmd =
        new ArrayList<>(List.of(Oracle.PYTHON.toString(), Path.of(url.toURI()).toString()));
    cmd.addAll(List.of(args));
    return Subprocess.run(cmd, Duration.ofSeconds(120)).succeeded().stdout();
  }
}
