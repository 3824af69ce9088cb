package org.spinekit.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResNeStTest {
  @TempDir Path dir;

  @BeforeAll
  static void init() {
    torch.set_num_threads(2);
  }

  @Test
  void resnest50dMatchesTheReferenceAndAdaptsToOneChannel() throws Exception {
    Oracle.Run run =
        Oracle.run(dir, "resnest50d", "--size", "64", "64", "--batch", "1", "--calib-batch", "32");
    try (Net net = Zoo.create("resnest50d", 3, 1000)) {
      assertTrue(net instanceof ResNeSt);
      // timm's published figure for resnest50d.
      assertEquals(27_483_240L, net.parameterCount());
      assertEquals(run.params(), net.parameterCount());
      Oracle.Diff d = Oracle.compare(net, run, NameMap.identity());
      System.out.println("resnest50d " + d);
      d.check();
    }
    // The same 3-channel weights load into a 1-channel network through the first stem conv.
    try (ResNeSt net = new ResNeSt(ResNeSt.Config.resnest50d(1, 1000))) {
      StateDict.Report r = StateDict.load(net, run.weights(), NameMap.identity(), true);
      assertEquals(List.of("conv1.0.weight"), r.adapted());
      try (PointerScope scope = new PointerScope()) {
        Tensor w =
            org.spinekit.io.safetensors.SafeTensors.read(run.weights()).get("conv1.0.weight");
        Tensor want = w.sum(new long[] {1}, true, new org.bytedeco.pytorch.ScalarTypeOptional());
        assertTrue(
            net.stateDict().get("conv1.0.weight").sub(want).abs().max().item_double() < 1e-6);
      }
    }
  }

  @Test
  void oneChannelResnest14dWithoutHeadMatchesTheReferenceAtEveryStride() throws Exception {
    Oracle.Run run =
        Oracle.run(
            dir,
            "resnest14d",
            "--in-ch",
            "1",
            "--classes",
            "0",
            "--size",
            "64",
            "96",
            "--features",
            "--calib-batch",
            "32");
    try (ResNeSt net = new ResNeSt(ResNeSt.Config.resnest14d(1, 0))) {
      assertEquals(run.params(), net.parameterCount());
      Oracle.Diff d = Oracle.compare(net, run, NameMap.identity());
      System.out.println("resnest14d (1 channel, no head) " + d);
      d.check();
      double[] f = Oracle.compareFeatures(net, run);
      assertEquals(5, f.length);
      for (int i = 0; i < f.length; i++) {
        assertTrue(f[i] <= Math.max(1e-4, 2 * run.noise()), "feature " + i + ": " + f[i]);
      }
    }
  }

  @Test
  void publishedCountsOfTheSmallerVariants() {
    try (ResNeSt a = new ResNeSt(ResNeSt.Config.resnest14d(3, 1000));
        ResNeSt b = new ResNeSt(ResNeSt.Config.resnest26d(3, 1000))) {
      assertEquals(10_611_688L, a.parameterCount());
      assertEquals(17_069_448L, b.parameterCount());
    }
  }

  @Test
  void featuresHaveTheDeclaredStridesAndChannels() {
    try (ResNeSt net = new ResNeSt(ResNeSt.Config.resnest50d(1, 0));
        PointerScope scope = new PointerScope();
        NoGradGuard g = new NoGradGuard()) {
      net.eval();
      List<Tensor> f = net.features(torch.randn(1, 1, 64, 96));
      int[] ch = net.channels();
      int[] st = net.strides();
      assertArrayEquals(new int[] {64, 256, 512, 1024, 2048}, ch);
      assertArrayEquals(new int[] {2, 4, 8, 16, 32}, st);
      assertEquals(5, f.size());
      for (int i = 0; i < 5; i++) {
        assertArrayEquals(
            new long[] {1, ch[i], 64 / st[i], 96 / st[i]},
            f.get(i).sizes().vec().get(),
            "feature " + i);
      }
      assertArrayEquals(
          new long[] {1, 2048}, net.forward(torch.randn(1, 1, 64, 64)).sizes().vec().get());
    }
  }

  @Test
  void trainModeForwardAndBackwardGiveFiniteGradients() {
    torch.manual_seed(3);
    try (ResNeSt net = new ResNeSt(ResNeSt.Config.tiny(3, 5));
        PointerScope scope = new PointerScope()) {
      net.train(true);
      Tensor out = net.forward(torch.randn(2, 3, 64, 64));
      assertArrayEquals(new long[] {2, 5}, out.sizes().vec().get());
      out.square().mean().backward();
      Map<String, Tensor> ps = net.namedParameters();
      double total = 0;
      for (Map.Entry<String, Tensor> e : ps.entrySet()) {
        Tensor g = e.getValue().grad();
        assertTrue(g.defined(), "no gradient for " + e.getKey());
        assertTrue(torch.isfinite(g).all().item_bool(), "non-finite gradient in " + e.getKey());
        total += g.square().sum().item_double();
      }
      assertTrue(total > 0, "all gradients zero");
      // The stem reaches the loss through the shortcuts even with zeroed last BN weights.
      assertTrue(ps.get("conv1.0.weight").grad().abs().max().item_double() > 0);
      assertTrue(ps.get("layer2.0.bn3.weight").grad().abs().max().item_double() > 0);
      assertEquals(
          1L, net.namedBuffers().get("layer1.0.conv2.bn1.num_batches_tracked").item_long());
    }
  }

  @Test
  void badInputAndConfigurationAreRefused() {
    try (ResNeSt net = new ResNeSt(ResNeSt.Config.tiny(3, 0));
        PointerScope scope = new PointerScope()) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class, () -> net.forward(torch.randn(1, 1, 32, 32)));
      assertTrue(
          e.getMessage().contains("[N, 3, H, W]") && e.getMessage().contains("[1, 1, 32,"),
          e.getMessage());
      IllegalArgumentException e2 =
          assertThrows(IllegalArgumentException.class, () -> net.features(torch.randn(3, 32, 32)));
      assertTrue(e2.getMessage().contains("[3, 32, 32]"), e2.getMessage());
    }
    IllegalArgumentException e3 =
        assertThrows(
            IllegalArgumentException.class,
            () -> new ResNeSt.Config(new int[] {1, 1, 1}, 32, 64, 2, 1, 64, true, false, 3, 0));
    assertTrue(e3.getMessage().contains("4 stages"), e3.getMessage());
    IllegalArgumentException e4 =
        assertThrows(IllegalArgumentException.class, () -> Zoo.create("resnest50d", 0, 10));
    assertTrue(e4.getMessage().contains("inChannels"), e4.getMessage());
  }
}
