package org.spinekit.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.io.safetensors.SafeTensors;

class EfficientNetTest {
  /** The stride 2..32 stages of torchvision's efficientnet_b0, as EfficientNet documents. */
  private static final String B0_FEATURES =
      "features.0,features.2,features.3,features.5," + "features.7";

  @TempDir static Path shared;

  @TempDir Path dir;

  private static Oracle.Run b0;

  private static int threads;

  @BeforeAll
  static void init() {
    // One thread: these networks run thousands of small ops (float64 depthwise convolutions
    // go group by group), and on a busy machine every OpenMP barrier stalls.
    threads = torch.get_num_threads();
    torch.set_num_threads(1);
  }

  @AfterAll
  static void restore() {
    torch.set_num_threads(threads);
  }

  /** The oracle with batch norm calibrated on its input, single-threaded as this JVM. */
  private static Oracle.Run oracle(Path dir, String arch, String... options) {
    String[] all = java.util.Arrays.copyOf(options, options.length + 3);
    all[options.length] = "--calibrate-on-input";
    all[options.length + 1] = "--threads";
    all[options.length + 2] = "1";
    return Oracle.run(dir, arch, all);
  }

  /** One torchvision efficientnet_b0 oracle run (2 x 3 x 64 x 64) shared by several tests. */
  private static synchronized Oracle.Run b0Run() {
    if (b0 == null) {
      b0 =
          oracle(
              shared.resolve("b0"),
              "efficientnet_b0",
              "--feature-modules",
              B0_FEATURES,
              "--train-seed",
              "5");
    }
    return b0;
  }

  @Test
  void parameterCountsEqualTorchvision() {
    Map<String, Long> want =
        Map.of(
            "efficientnet_b0",
            5_288_548L,
            "efficientnet_b4",
            19_341_616L,
            "efficientnet_v2_s",
            21_458_488L,
            "tf_efficientnetv2_s",
            21_458_488L);
    for (Map.Entry<String, Long> e : want.entrySet()) {
      try (Net net = Zoo.create(e.getKey(), 3, 1000)) {
        assertEquals(e.getValue(), net.parameterCount(), e.getKey());
      }
    }
  }

  @Test
  void b0MatchesTorchvisionOutputAndFeatures() throws Exception {
    Oracle.Run run = b0Run();
    try (EfficientNet net = new EfficientNet(EfficientNet.Config.b0(3, 1000))) {
      assertEquals(run.params(), net.parameterCount());
      Oracle.Diff d = Oracle.compare(net, run, NameMap.identity());
      System.out.println("efficientnet_b0 " + d);
      d.check();
      net.eval();
      double[] f = Oracle.compareFeatures(net, run);
      System.out.println("efficientnet_b0 features f32 " + java.util.Arrays.toString(f));
      try (PointerScope scope = new PointerScope();
          NoGradGuard g = new NoGradGuard()) {
        Map<String, Tensor> io = SafeTensors.read(run.io());
        net.to(torch.ScalarType.Double, false);
        List<Tensor> got64 = net.features(io.get("input").to(torch.ScalarType.Double));
        net.to(torch.ScalarType.Float, false);
        double[] d64 = new double[5];
        for (int i = 0; i < 5; i++) {
          Tensor want64 = io.get("feature64." + i);
          // PyTorch's own float32 rounding at this depth sets the float32 tolerance.
          double noise =
              io.get("feature." + i)
                  .to(torch.ScalarType.Double)
                  .sub(want64)
                  .abs()
                  .max()
                  .item_double();
          assertTrue(
              f[i] <= Math.max(1e-4, 3 * noise),
              "feature "
                  + i
                  + " float32 differs by "
                  + f[i]
                  + " (PyTorch's own float32 rounding "
                  + noise
                  + ")");
          d64[i] = got64.get(i).sub(want64).abs().max().item_double();
          assertTrue(d64[i] <= 1e-9, "feature " + i + " float64 differs by " + d64[i]);
        }
        System.out.println("efficientnet_b0 features f64 " + java.util.Arrays.toString(d64));
      }
    }
  }

  @Test
  void trainingForwardMatchesTorchvisionUnderTheSameSeed() throws Exception {
    // Stochastic depth, classifier dropout and batch statistics: libtorch's generator draws
    // the same masks as PyTorch's after the same manual_seed.
    Oracle.Run run = b0Run();
    try (EfficientNet net = new EfficientNet(EfficientNet.Config.b0(3, 1000))) {
      assertTrue(StateDict.load(net, run.weights(), NameMap.identity(), true).complete());
      net.train(true);
      try (PointerScope scope = new PointerScope();
          NoGradGuard g = new NoGradGuard()) {
        Map<String, Tensor> io = SafeTensors.read(run.io());
        torch.manual_seed(5);
        Tensor got = net.forward(io.get("input"));
        Tensor want = io.get("train_output");
        double d = got.sub(want).abs().max().item_double();
        System.out.println("efficientnet_b0 training mode f32 " + d);
        assertTrue(d <= 1e-4, "training-mode output differs by " + d);
        // The masks matter: another seed gives another output.
        torch.manual_seed(6);
        assertTrue(net.forward(io.get("input")).sub(want).abs().max().item_double() > 1e-2);
      }
    }
  }

  @Test
  void v2sMatchesTorchvision() throws Exception {
    Oracle.Run run = oracle(dir, "efficientnet_v2_s");
    try (EfficientNet net = new EfficientNet(EfficientNet.Config.v2s(3, 1000))) {
      assertEquals(run.params(), net.parameterCount());
      Oracle.Diff d = Oracle.compare(net, run, NameMap.identity());
      System.out.println("efficientnet_v2_s " + d);
      d.check();
    }
  }

  @Test
  void b4MatchesTorchvision() throws Exception {
    // Batch 1 needs a 4 x 4 map at stride 32 for well-conditioned batch-norm statistics.
    Oracle.Run run = oracle(dir, "efficientnet_b4", "--batch", "1", "--size", "128", "128");
    try (EfficientNet net = new EfficientNet(EfficientNet.Config.b4(3, 1000))) {
      assertEquals(run.params(), net.parameterCount());
      Oracle.Diff d = Oracle.compare(net, run, NameMap.identity());
      System.out.println("efficientnet_b4 " + d);
      d.check();
    }
  }

  @Test
  void timmB0KeysLoadThroughTheNameMap() throws Exception {
    Oracle.Run run = oracle(dir, "timm_efficientnet_b0");
    NameMap timm = NameMap.resource("timm-efficientnet");
    try (EfficientNet net = new EfficientNet(EfficientNet.Config.b0(3, 1000))) {
      Oracle.Diff d = Oracle.compare(net, run, timm);
      System.out.println("timm efficientnet_b0 " + d);
      d.check();
    }
    try (EfficientNet enc = new EfficientNet(EfficientNet.Config.b0(3, 0))) {
      StateDict.Report r =
          StateDict.load(
              enc,
              run.weights(),
              NameMap.of("conv_head\\..*|bn2\\..*|classifier\\..*", "-").then(timm),
              true);
      assertTrue(r.complete(), r.toString());
      // The encoder has no head convolution: its parameters are the features' only.
      assertFalse(enc.stateDict().keySet().stream().anyMatch(k -> k.startsWith("features.8.")));
    }
  }

  @Test
  void timmB4KeysLoadThroughTheNameMap() throws Exception {
    Oracle.Run run = oracle(dir, "timm_efficientnet_b4", "--batch", "1", "--size", "128", "128");
    try (EfficientNet net = new EfficientNet(EfficientNet.Config.b4(3, 1000))) {
      Oracle.Diff d = Oracle.compare(net, run, NameMap.resource("timm-efficientnet"));
      System.out.println("timm efficientnet_b4 " + d);
      d.check();
    }
  }

  @Test
  void timmTfV2sKeysLoadThroughTheNameMapWithSamePadding() throws Exception {
    // Odd sizes: TensorFlow "SAME" padding is asymmetric there and differs from PyTorch's.
    Oracle.Run run = oracle(dir, "timm_tf_efficientnetv2_s", "--size", "67", "57");
    NameMap timm = NameMap.resource("timm-efficientnetv2");
    try (EfficientNet net = new EfficientNet(EfficientNet.Config.v2s(3, 1000).tf())) {
      assertEquals(run.params(), net.parameterCount());
      Oracle.Diff d = Oracle.compare(net, run, timm);
      System.out.println("timm tf_efficientnetv2_s " + d);
      d.check();
    }
    // Without the tf flag the same weights give another function: the flag is needed.
    try (EfficientNet net = new EfficientNet(EfficientNet.Config.v2s(3, 1000))) {
      assertTrue(StateDict.load(net, run.weights(), timm, true).complete());
      net.eval();
      try (PointerScope scope = new PointerScope();
          NoGradGuard g = new NoGradGuard()) {
        Map<String, Tensor> io = SafeTensors.read(run.io());
        double d = net.forward(io.get("input")).sub(io.get("output")).abs().max().item_double();
        assertTrue(d > 1e-2, "symmetric padding should not match, differs by " + d);
      }
    }
  }

  @Test
  void featuresHaveTheDeclaredStridesAndChannels() {
    List<EfficientNet.Config> configs =
        List.of(
            EfficientNet.Config.b0(1, 0),
            EfficientNet.Config.b4(1, 0),
            EfficientNet.Config.v2s(1, 0),
            EfficientNet.Config.tinyB(1, 0),
            EfficientNet.Config.tinyV2(1, 0));
    int[][] channels = {
      {32, 24, 40, 112, 320},
      {48, 32, 56, 160, 448},
      {24, 48, 64, 160, 256},
      {8, 8, 16, 32, 80},
      {8, 16, 16, 40, 64}
    };
    for (int c = 0; c < configs.size(); c++) {
      try (EfficientNet net = new EfficientNet(configs.get(c));
          PointerScope scope = new PointerScope();
          NoGradGuard g = new NoGradGuard()) {
        net.eval();
        String name = configs.get(c).name();
        assertArrayEquals(channels[c], net.channels(), name);
        assertArrayEquals(new int[] {2, 4, 8, 16, 32}, net.strides(), name);
        List<Tensor> f = net.features(torch.randn(1, 1, 64, 96));
        assertEquals(5, f.size(), name);
        for (int i = 0; i < 5; i++) {
          assertArrayEquals(
              new long[] {1, channels[c][i], 64 / net.strides()[i], 96 / net.strides()[i]},
              f.get(i).sizes().vec().get(),
              name + " feature " + i);
        }
        int last = channels[c][4];
        assertArrayEquals(
            new long[] {1, last},
            net.forward(torch.randn(1, 1, 40, 40)).sizes().vec().get(),
            name + " pooled stride-32 features without a head");
      }
    }
  }

  @Test
  void threeChannelWeightsAdaptToOneChannel() throws Exception {
    Oracle.Run run = b0Run();
    try (EfficientNet net = new EfficientNet(EfficientNet.Config.b0(1, 1000))) {
      StateDict.Report r = StateDict.load(net, run.weights(), NameMap.identity(), true);
      assertEquals(List.of("features.0.0.weight"), r.adapted());
      try (PointerScope scope = new PointerScope();
          NoGradGuard g = new NoGradGuard()) {
        Tensor w = SafeTensors.read(run.weights()).get("features.0.0.weight");
        Tensor want = w.sum(new long[] {1}, true, new ScalarTypeOptional());
        assertTrue(
            net.stateDict().get("features.0.0.weight").sub(want).abs().max().item_double() < 1e-6);
        net.eval();
        Tensor y = net.forward(torch.randn(2, 1, 48, 48));
        assertArrayEquals(new long[] {2, 1000}, y.sizes().vec().get());
        assertTrue(torch.isfinite(y).all().item_bool());
      }
    }
  }

  @Test
  void seededInitFollowsTorchvision() throws Exception {
    // The oracle's weights are torchvision's init under torch.manual_seed(7) (only batch norm
    // is randomised afterwards), so the same seed must give the same conv and linear weights.
    Oracle.Run run = b0Run();
    torch.manual_seed(7);
    try (EfficientNet net = new EfficientNet(EfficientNet.Config.b0(3, 1000));
        PointerScope scope = new PointerScope()) {
      Map<String, Tensor> want = SafeTensors.read(run.weights());
      int checked = 0;
      for (Map.Entry<String, Tensor> e : net.namedParameters().entrySet()) {
        if (e.getValue().dim() < 2
            && !e.getKey().endsWith("fc1.bias")
            && !e.getKey().endsWith("fc2.bias")
            && !e.getKey().equals("classifier.1.bias")) {
          continue;
        }
        Tensor w = want.get(e.getKey());
        assertNotNull(w, e.getKey());
        double diff = e.getValue().sub(w).abs().max().item_double();
        double scale = w.abs().max().item_double();
        assertTrue(diff <= 1e-6 * Math.max(scale, 1e-3), e.getKey() + " differs by " + diff);
        checked++;
      }
      // 81 convolutions, the linear layer; 32 squeeze-excitation biases, the linear bias.
      assertEquals(82 + 33, checked);
    }
  }

  @Test
  void tinyTrainStepGivesFiniteGradientsForEveryParameter() {
    for (EfficientNet.Config c :
        List.of(EfficientNet.Config.tinyB(3, 5), EfficientNet.Config.tinyV2(3, 5))) {
      torch.manual_seed(1);
      try (EfficientNet net = new EfficientNet(c);
          PointerScope scope = new PointerScope()) {
        net.train(true);
        Tensor y = net.forward(torch.randn(2, 3, 64, 64));
        assertArrayEquals(new long[] {2, 5}, y.sizes().vec().get());
        y.pow(new org.bytedeco.pytorch.Scalar(2.0)).mean().backward();
        Map<String, Tensor> ps = net.namedParameters();
        assertTrue(ps.size() > 40, c.name() + " has " + ps.size() + " parameters");
        for (Map.Entry<String, Tensor> e : ps.entrySet()) {
          Tensor g = e.getValue().grad();
          assertTrue(g.defined(), c.name() + " " + e.getKey() + " has no gradient");
          assertTrue(torch.isfinite(g).all().item_bool(), c.name() + " " + e.getKey());
        }
        // Training updated the batch-norm statistics.
        assertEquals(1L, net.namedBuffers().get("features.0.1.num_batches_tracked").item_long());
      }
    }
  }

  @Test
  void seededTrainForwardRepeatsAndStochasticDepthIsDrawn() {
    torch.manual_seed(3);
    try (EfficientNet net = new EfficientNet(EfficientNet.Config.tinyV2(3, 0));
        PointerScope scope = new PointerScope();
        NoGradGuard g = new NoGradGuard()) {
      net.train(true);
      Tensor x = torch.randn(4, 3, 48, 48);
      torch.manual_seed(11);
      Tensor a = net.forward(x);
      torch.manual_seed(11);
      Tensor b = net.forward(x);
      torch.manual_seed(12);
      Tensor c = net.forward(x);
      assertTrue(torch.equal(a, b), "same seed, same training-mode output");
      assertFalse(torch.equal(a, c), "another seed drops other residual branches");
      net.eval();
      torch.manual_seed(12);
      Tensor e1 = net.forward(x);
      torch.manual_seed(13);
      assertTrue(torch.equal(e1, net.forward(x)), "eval mode draws nothing");
    }
    // Without stochastic depth (and no classifier dropout) training mode draws nothing.
    EfficientNet.Config t = EfficientNet.Config.tinyV2(3, 0);
    EfficientNet.Config noDrop =
        new EfficientNet.Config(
            t.name(),
            t.stages(),
            t.lastChannel(),
            t.bnEps(),
            t.bnMomentum(),
            0,
            0,
            false,
            t.featureStages(),
            3,
            0);
    try (EfficientNet net = new EfficientNet(noDrop);
        PointerScope scope = new PointerScope();
        NoGradGuard g = new NoGradGuard()) {
      net.train(true);
      Tensor x = torch.randn(4, 3, 48, 48);
      torch.manual_seed(11);
      Tensor a = net.forward(x);
      torch.manual_seed(12);
      assertTrue(torch.equal(a, net.forward(x)));
    }
  }

  @Test
  void classifierDropoutIsDrawnInTrainingOnly() {
    EfficientNet.Config t = EfficientNet.Config.tinyB(3, 4);
    EfficientNet.Config onlyDropout =
        new EfficientNet.Config(
            t.name(),
            t.stages(),
            t.lastChannel(),
            t.bnEps(),
            t.bnMomentum(),
            0.5,
            0,
            false,
            t.featureStages(),
            3,
            4);
    try (EfficientNet net = new EfficientNet(onlyDropout);
        PointerScope scope = new PointerScope();
        NoGradGuard g = new NoGradGuard()) {
      net.train(true);
      Tensor x = torch.randn(2, 3, 48, 48);
      torch.manual_seed(11);
      Tensor a = net.forward(x);
      torch.manual_seed(11);
      assertTrue(torch.equal(a, net.forward(x)));
      torch.manual_seed(12);
      assertFalse(torch.equal(a, net.forward(x)));
    }
  }

  @Test
  void stochasticDepthDropsWholeRowsAndRescales() {
    try (PointerScope scope = new PointerScope()) {
      torch.manual_seed(5);
      Tensor x = torch.ones(4000, 3, 2, 2);
      Tensor y = EfficientNet.stochasticDepth(x, 0.25, true);
      float[] v = org.spinekit.tensor.Tensors.floats(y);
      int zeros = 0;
      for (int r = 0; r < 4000; r++) {
        float first = v[r * 12];
        assertTrue(first == 0f || Math.abs(first - 1 / 0.75f) < 1e-6, "row " + r + ": " + first);
        for (int k = 1; k < 12; k++) assertEquals(first, v[r * 12 + k], "row " + r);
        if (first == 0f) zeros++;
      }
      assertEquals(0.25, zeros / 4000.0, 0.03);
      assertTrue(torch.equal(x, EfficientNet.stochasticDepth(x, 0.25, false)));
      assertEquals(0.0, EfficientNet.stochasticDepth(x, 1.0, true).abs().sum().item_double());
      assertThrows(
          IllegalArgumentException.class, () -> EfficientNet.stochasticDepth(x, 1.5, true));
    }
  }

  @Test
  void dropProbabilitiesRiseLinearlyOverTheBlocks() {
    try (EfficientNet net = new EfficientNet(EfficientNet.Config.b0(3, 10))) {
      double[] p = net.dropProbabilities();
      assertEquals(16, p.length);
      for (int i = 0; i < 16; i++) assertEquals(0.2 * i / 16, p[i], 1e-15);
    }
  }

  @Test
  void badInputsAndConfigsAreRefused() {
    try (EfficientNet net = new EfficientNet(EfficientNet.Config.tinyB(3, 10));
        PointerScope scope = new PointerScope()) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class, () -> net.forward(torch.randn(1, 1, 32, 32)));
      assertTrue(
          e.getMessage().contains("[N, 3, H, W]") && e.getMessage().contains("[1, 1, 32,"),
          e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> net.features(torch.randn(3, 32, 32)));
      assertTrue(e.getMessage().contains("[3, 32, 32]"), e.getMessage());
      net.train(true);
      e =
          assertThrows(
              IllegalArgumentException.class, () -> net.forward(torch.randn(1, 3, 32, 32)));
      assertTrue(e.getMessage().contains("batch 1"), e.getMessage());
    }
    EfficientNet.Config t = EfficientNet.Config.tinyB(3, 0);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new EfficientNet(
                    new EfficientNet.Config(
                        t.name(),
                        t.stages(),
                        t.lastChannel(),
                        t.bnEps(),
                        t.bnMomentum(),
                        0.2,
                        0.2,
                        false,
                        new int[] {0, 1, 3, 5, 7},
                        3,
                        0)));
    assertTrue(
        e.getMessage().contains("featureStages") && e.getMessage().contains("[0, 1, 3, 5, 7]"),
        e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class, () -> EfficientNet.Config.b("x", 0, 1, 0.2, 3, 10));
    assertTrue(e.getMessage().contains("width=0.0"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class, () -> new EfficientNet(EfficientNet.Config.b0(0, 10)));
    assertTrue(e.getMessage().contains("inChannels"), e.getMessage());
  }

  @Test
  void makeDivisibleFollowsTorchvision() {
    // torchvision's _make_divisible on the channel counts B4 scales (width 1.4).
    assertEquals(48, EfficientNet.makeDivisible(32 * 1.4, 8));
    assertEquals(24, EfficientNet.makeDivisible(16 * 1.4, 8));
    assertEquals(32, EfficientNet.makeDivisible(24 * 1.4, 8));
    assertEquals(56, EfficientNet.makeDivisible(40 * 1.4, 8));
    assertEquals(272, EfficientNet.makeDivisible(192 * 1.4, 8));
    assertEquals(16, EfficientNet.makeDivisible(10, 8));
  }

  @Test
  void efficientNetPytorchB0TakesItsStride16MapAfterTheFirst112ChannelBlock() {
    // The same weights in tf_efficientnet_b0 (TF "SAME" padding from each input): at 64 x 64
    // every map before a stride-2 convolution is even, where the padding computed for 224 is
    // the same; only the stride-16 map differs (after features.5.0, not after features.5).
    try (EfficientNet lm = (EfficientNet) Zoo.create("efficientnet-b0", 3, 0);
        EfficientNet tf = (EfficientNet) Zoo.create("tf_efficientnet_b0", 3, 0);
        PointerScope scope = new PointerScope();
        NoGradGuard g = new NoGradGuard()) {
      assertArrayEquals(new int[] {32, 24, 40, 112, 320}, lm.channels());
      assertArrayEquals(new int[] {0, 0, 0, 1, 0}, lm.config().featureBlocks());
      assertEquals(0.01, lm.config().bnMomentum());
      // Formula weights (FidelityTest's): the network's own init leaves some branches tiny.
      Map<String, Tensor> w = new java.util.LinkedHashMap<>();
      for (Map.Entry<String, Tensor> e : lm.stateDict().entrySet()) {
        if (e.getKey().endsWith("num_batches_tracked")) continue;
        w.put(e.getKey(), FormulaWeights.tensor(e.getKey(), e.getValue().sizes().vec().get()));
      }
      assertTrue(StateDict.load(lm, w, NameMap.identity(), true, "formula").complete());
      assertTrue(StateDict.load(tf, w, NameMap.identity(), true, "formula").complete());
      lm.eval();
      tf.eval();
      torch.manual_seed(3);
      Tensor x = torch.randn(1, 3, 64, 64);
      List<Tensor> a = lm.features(x);
      List<Tensor> b = tf.features(x);
      for (int i = 0; i < 5; i++) {
        assertArrayEquals(b.get(i).sizes().vec().get(), a.get(i).sizes().vec().get());
        double d = a.get(i).sub(b.get(i)).abs().max().item_double();
        if (i == 3) {
          assertTrue(d > 1e-3, "stride-16 maps should differ, by " + d);
        } else {
          assertEquals(0, d, 1e-6, "feature " + i);
        }
      }
      assertEquals(0, lm.forward(x).sub(tf.forward(x)).abs().max().item_double(), 1e-6);
      // At 65 x 65 the stem's padding differs: 32 x 32 maps (padding for 224), not 33 x 33.
      Tensor y = torch.randn(1, 3, 65, 65);
      assertArrayEquals(new long[] {1, 32, 32, 32}, lm.features(y).get(0).sizes().vec().get());
      assertArrayEquals(new long[] {1, 32, 33, 33}, tf.features(y).get(0).sizes().vec().get());
    }
  }

  @Test
  void staticSamePaddingIsComputedOnceForTheNominalSize() {
    try (Conv2d fixed = Conv2d.staticSamePadding(2, 3, 5, 2, 1, false, 224);
        Conv2d same = Conv2d.samePadding(2, 3, 5, 2, 1, false);
        PointerScope scope = new PointerScope();
        NoGradGuard g = new NoGradGuard()) {
      same.weight.copy_(fixed.weight);
      torch.manual_seed(4);
      Tensor even = torch.randn(1, 2, 16, 10);
      assertTrue(torch.equal(fixed.forward(even), same.forward(even)), "even sizes: (1, 2)");
      // 15: TF "SAME" pads (2, 2) to 8 outputs; the padding for 224 stays (1, 2): 7.
      Tensor odd = torch.randn(1, 2, 15, 15);
      assertArrayEquals(new long[] {1, 3, 7, 7}, fixed.forward(odd).sizes().vec().get());
      assertArrayEquals(new long[] {1, 3, 8, 8}, same.forward(odd).sizes().vec().get());
      Tensor manual =
          torch.conv2d(
              torch.constant_pad_nd(
                  odd, new long[] {1, 2, 1, 2}, new org.bytedeco.pytorch.Scalar(0.0)),
              fixed.weight,
              new org.bytedeco.pytorch.TensorOptional(),
              new long[] {2, 2},
              new long[] {0, 0},
              new long[] {1, 1},
              1);
      assertTrue(torch.equal(manual, fixed.forward(odd)));
    }
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Conv2d.staticSamePadding(2, 3, 3, 2, 1, false, 0));
    assertTrue(e.getMessage().contains("imageSize"), e.getMessage());
  }

  @Test
  void featureBlocksAndStaticPaddingAreChecked() {
    EfficientNet.Config t = EfficientNet.Config.tinyB(3, 0);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new EfficientNet(
                    new EfficientNet.Config(
                        t.name(),
                        t.stages(),
                        t.lastChannel(),
                        t.bnEps(),
                        t.bnMomentum(),
                        0.2,
                        0.2,
                        false,
                        t.featureStages(),
                        3,
                        0,
                        0,
                        new int[] {0, 0, 0, 5, 0})));
    assertTrue(
        e.getMessage().contains("featureBlocks") && e.getMessage().contains("features.5"),
        e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new EfficientNet.Config(
                    t.name(),
                    t.stages(),
                    t.lastChannel(),
                    t.bnEps(),
                    t.bnMomentum(),
                    0.2,
                    0.2,
                    false,
                    t.featureStages(),
                    3,
                    0,
                    0,
                    new int[] {0, 1}));
    assertTrue(e.getMessage().contains("one entry per feature stage"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new EfficientNet.Config(
                    t.name(),
                    t.stages(),
                    t.lastChannel(),
                    t.bnEps(),
                    t.bnMomentum(),
                    0.2,
                    0.2,
                    false,
                    t.featureStages(),
                    3,
                    0,
                    224,
                    null));
    assertTrue(e.getMessage().contains("staticImageSize"), e.getMessage());
  }
}
