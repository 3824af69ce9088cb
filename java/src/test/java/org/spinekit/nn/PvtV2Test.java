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
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PVTv2 against the Python reference module python/nn/pvt_v2.py (timm's keys and structure;
 * torchvision has no PVTv2).
 */
class PvtV2Test {
  @TempDir Path dir;

  @TempDir static Path shared;

  private static Oracle.Run b0Run;

  @BeforeAll
  static void init() {
    // One intra-op thread: these networks run hundreds of small ops, and on a busy 2-core
    // machine every parallel region waits for a descheduled second thread (b4's forward
    // measured 10 s with 2 threads, 0.2 s with 1).
    torch.set_num_threads(1);
  }

  /**
   * One oracle run of pvt_v2_b0 shared by the tests that need it: 64 x 96, batch 2, with features.
   * The reductions (8, 4, 2) leave 2 x 3 keys in stages 0-2, and a non-square input catches any
   * height/width mix-up in the token reshapes.
   */
  private static synchronized Oracle.Run b0Run() {
    if (b0Run == null) {
      b0Run = Oracle.run(shared, "pvt_v2_b0", "--size", "64", "96", "--features", "--spread");
    }
    return b0Run;
  }

  @Test
  void parameterCountsEqualTimm() {
    // timm's tables: pvt_v2_b0 3.67M, pvt_v2_b4 62.56M; the reference module gives the same
    // exact counts (asserted against it in the oracle tests below).
    try (PvtV2 b0 = new PvtV2(PvtV2.Config.b0(3, 1000));
        PvtV2 b4 = new PvtV2(PvtV2.Config.b4(3, 1000))) {
      assertEquals(3_666_760L, b0.parameterCount());
      assertEquals(62_556_072L, b4.parameterCount());
    }
  }

  @Test
  void b0MatchesTheReferenceOutputAndFeatures() throws Exception {
    Oracle.Run run = b0Run();
    try (PvtV2 net = new PvtV2(PvtV2.Config.b0(3, 1000))) {
      assertEquals(run.params(), net.parameterCount());
      Oracle.Diff d = Oracle.compare(net, run, NameMap.identity());
      System.out.println("pvt_v2_b0 " + d);
      d.check();
      double[] f = Oracle.compareFeatures(net, run);
      assertEquals(4, f.length);
      for (int i = 0; i < 4; i++) assertTrue(f[i] < 1e-4, "feature " + i + " differs by " + f[i]);
    }
  }

  @Test
  void b4MatchesTheReference() throws Exception {
    Oracle.Run run = Oracle.run(dir, "pvt_v2_b4", "--size", "64", "64", "--batch", "1", "--spread");
    try (PvtV2 net = new PvtV2(PvtV2.Config.b4(3, 1000))) {
      assertEquals(run.params(), net.parameterCount());
      Oracle.Diff d = Oracle.compare(net, run, NameMap.identity());
      System.out.println("pvt_v2_b4 " + d);
      d.check();
    }
  }

  @Test
  void originalPvtKeysLoadThroughTheNameMap() throws Exception {
    Oracle.Run run = b0Run();
    Path orig = dir.resolve("original.safetensors");
    ConvNeXtTest.python(
        "nn_rename.py", "pvt-v2-original", run.weights().toString(), orig.toString());
    try (PvtV2 net = new PvtV2(PvtV2.Config.b0(3, 1000));
        PointerScope scope = new PointerScope()) {
      Map<String, Tensor> keys = org.spinekit.io.safetensors.SafeTensors.read(orig);
      assertTrue(keys.containsKey("block3.1.mlp.dwconv.dwconv.weight"), keys.keySet().toString());
      assertTrue(keys.containsKey("patch_embed4.norm.bias") && keys.containsKey("norm2.weight"));
      NameMap map = NameMap.resource("pvt-v2-original");
      StateDict.Report r = StateDict.load(net, orig, map, true);
      assertTrue(r.complete() && r.adapted().isEmpty(), r.toString());
      // Every tensor landed where timm's key puts it, bit for bit.
      Map<String, Tensor> timm = org.spinekit.io.safetensors.SafeTensors.read(run.weights());
      Map<String, Tensor> loaded = net.stateDict();
      assertEquals(timm.keySet(), loaded.keySet());
      for (Map.Entry<String, Tensor> e : timm.entrySet()) {
        assertTrue(torch.equal(loaded.get(e.getKey()), e.getValue()), e.getKey());
      }
      net.eval();
      try (NoGradGuard g = new NoGradGuard()) {
        Map<String, Tensor> io = org.spinekit.io.safetensors.SafeTensors.read(run.io());
        double d = net.forward(io.get("input")).sub(io.get("output")).abs().max().item_double();
        assertTrue(d <= Math.max(1e-4, 2 * run.noise()), "original-keyed load differs by " + d);
      }
    }
  }

  @Test
  void featuresHaveTheDeclaredStridesAndChannels() {
    try (PvtV2 net = new PvtV2(PvtV2.Config.b0(1, 0));
        PointerScope scope = new PointerScope();
        NoGradGuard g = new NoGradGuard()) {
      net.eval();
      assertArrayEquals(new int[] {4, 8, 16, 32}, net.strides());
      assertArrayEquals(new int[] {32, 64, 160, 256}, net.channels());
      Tensor x = torch.randn(2, 1, 64, 96);
      List<Tensor> f = net.features(x);
      assertEquals(4, f.size());
      for (int i = 0; i < 4; i++) {
        assertArrayEquals(
            new long[] {2, net.channels()[i], 64 / net.strides()[i], 96 / net.strides()[i]},
            f.get(i).sizes().vec().get(),
            "feature " + i);
      }
      // Sizes that are not multiples of 32 round up (padded overlapping embeddings).
      List<Tensor> odd = net.features(torch.randn(1, 1, 50, 70));
      long[][] want = {{13, 18}, {7, 9}, {4, 5}, {2, 3}};
      for (int i = 0; i < 4; i++) {
        assertArrayEquals(
            new long[] {1, net.channels()[i], want[i][0], want[i][1]},
            odd.get(i).sizes().vec().get(),
            "odd feature " + i);
      }
      Tensor got = net.forward(x);
      Tensor pooled = f.get(3).mean(new long[] {2, 3}, false, new ScalarTypeOptional());
      assertTrue(got.sub(pooled).abs().max().item_double() < 1e-6);
      assertTrue(net.stateDict().keySet().stream().noneMatch(k -> k.startsWith("head")));
    }
  }

  @Test
  void oneChannelNetworkMatchesTheReference() throws Exception {
    Oracle.Run run =
        Oracle.run(
            dir, "pvt_v2_b0", "--in-ch", "1", "--size", "64", "64", "--batch", "1", "--spread");
    try (PvtV2 net = new PvtV2(PvtV2.Config.b0(1, 1000))) {
      assertEquals(run.params(), net.parameterCount());
      Oracle.compare(net, run, NameMap.identity()).check();
    }
  }

  @Test
  void threeChannelWeightsAdaptToAOneChannelEncoder() throws Exception {
    Path file = dir.resolve("rgb.safetensors");
    try (PvtV2 net = new PvtV2(PvtV2.Config.b0(3, 7))) {
      StateDict.save(net, file, Map.of());
    }
    try (PvtV2 net = new PvtV2(PvtV2.Config.b0(1, 0));
        PointerScope scope = new PointerScope()) {
      // An encoder without the head: drop head.* by rule, adapt the input conv.
      StateDict.Report r = StateDict.load(net, file, NameMap.of("head\\..*", "-"), true);
      assertEquals(List.of("patch_embed.proj.weight"), r.adapted());
      Tensor w = org.spinekit.io.safetensors.SafeTensors.read(file).get("patch_embed.proj.weight");
      Tensor want = w.sum(new long[] {1}, true, new ScalarTypeOptional());
      assertTrue(
          net.stateDict().get("patch_embed.proj.weight").sub(want).abs().max().item_double()
              < 1e-6);
    }
  }

  @Test
  void trainingForwardDropsPathsAndBackpropagatesFiniteGradients() {
    PvtV2.Config small =
        new PvtV2.Config(
            new int[] {1, 1, 2, 1},
            new int[] {8, 16, 24, 32},
            new int[] {1, 2, 3, 4},
            new int[] {8, 4, 2, 1},
            new double[] {2, 2, 2, 2},
            0.0,
            3,
            5);
    torch.manual_seed(5);
    try (PvtV2 plain = new PvtV2(small);
        PvtV2 dropping = new PvtV2(small.withDropPath(0.9));
        PointerScope scope = new PointerScope()) {
      StateDict.load(dropping, plain.stateDict(), NameMap.identity(), true, "plain");
      Tensor x = torch.randn(4, 3, 64, 64);
      plain.eval();
      Tensor eval = plain.forward(x);
      plain.train(true);
      assertTrue(
          plain.forward(x).sub(eval).abs().max().item_double() < 1e-6,
          "no drop path: train equals eval");
      dropping.train(true);
      torch.manual_seed(11);
      Tensor a = dropping.forward(x);
      torch.manual_seed(11);
      Tensor b = dropping.forward(x);
      assertTrue(a.sub(b).abs().max().item_double() == 0.0, "same seed, same drops");
      assertTrue(a.sub(eval).abs().max().item_double() > 1e-5, "paths were dropped");
      Tensor loss = a.pow(new Scalar(2)).mean();
      loss.backward();
      int nonZero = 0;
      Map<String, Tensor> params = dropping.namedParameters();
      for (Map.Entry<String, Tensor> e : params.entrySet()) {
        Tensor gr = e.getValue().grad();
        assertTrue(gr.defined(), "no gradient for " + e.getKey());
        assertTrue(torch.isfinite(gr).all().item_bool(), "non-finite gradient " + e.getKey());
        if (gr.abs().max().item_double() > 0) nonZero++;
      }
      assertTrue(nonZero > params.size() / 2, "non-zero gradients " + nonZero);
    }
  }

  @Test
  void zooBuildsTheNamedArchitectures() {
    try (Net b0 = Zoo.create("pvt_v2_b0", 1, 0)) {
      assertTrue(b0 instanceof PvtV2);
      assertEquals(1, ((Encoder) b0).inChannels());
      // b0 without its 256 x 1000 head and with a 1-channel 7x7 input conv (32 outputs).
      assertEquals(3_666_760L - 257_000L - 2 * 32 * 49, b0.parameterCount());
    }
    assertTrue(Zoo.names().contains("pvt_v2_b4"));
  }

  @Test
  void badInputIsRefusedWithAClearMessage() {
    try (PvtV2 net = new PvtV2(PvtV2.Config.b0(3, 4));
        PointerScope scope = new PointerScope()) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class, () -> net.forward(torch.randn(1, 1, 64, 64)));
      assertTrue(
          e.getMessage().contains("PvtV2")
              && e.getMessage().contains("[N, 3, H, W]")
              && e.getMessage().contains("[1, 1, 64, 64]"),
          e.getMessage());
      IllegalArgumentException small =
          assertThrows(
              IllegalArgumentException.class, () -> net.forward(torch.randn(1, 3, 64, 16)));
      assertTrue(small.getMessage().contains(">= 32"), small.getMessage());
    }
    IllegalArgumentException c =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new PvtV2.Config(
                    new int[] {1, 1, 1, 1},
                    new int[] {8, 16, 24, 30},
                    new int[] {1, 2, 3, 4},
                    new int[] {8, 4, 2, 1},
                    new double[] {2, 2, 2, 2},
                    0,
                    3,
                    5));
    assertTrue(
        c.getMessage().contains("stage 3") && c.getMessage().contains("heads 4"), c.getMessage());
  }
}
