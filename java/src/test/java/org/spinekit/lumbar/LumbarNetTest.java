package org.spinekit.lumbar;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.nn.GradChecks;
import org.spinekit.nn.NameMap;
import org.spinekit.nn.Net;
import org.spinekit.nn.Oracle;
import org.spinekit.nn.ResNet;
import org.spinekit.nn.TinyNets;
import org.spinekit.ops.Composite;
import org.spinekit.ops.Dsnt;
import org.spinekit.ops.HeadLoss;
import org.spinekit.ops.HeatmapPool;

class LumbarNetTest {
  @TempDir Path dir;

  @BeforeAll
  static void init() {
    torch.set_num_threads(2);
  }

  static ResNet tiny() {
    return TinyNets.encoder(1);
  }

  @Test
  void twoDimensionalMatchesPyTorch() throws Exception {
    Oracle.Run run =
        Oracle.run(
            dir,
            "lumbar2d_resnet_tiny",
            "--in-ch",
            "1",
            "--size",
            "64",
            "64",
            "--classes",
            "5",
            "--batch",
            "2");
    try (LumbarNet net = LumbarNet.of(2, tiny(), 5, 3, 32, 16, 8)) {
      assertEquals(run.params(), net.parameterCount());
      Oracle.Diff d = Oracle.compare(net, run, NameMap.identity());
      System.out.printf(
          "lumbar2d_resnet_tiny (2 x 1 x 64 x 64 -> 2 x (5+3) x 16 x 16): params %d,"
              + " float32 %.3g, float64 %.3g, PyTorch noise %.3g%n",
          net.parameterCount(), d.f32(), d.f64(), d.noise());
      d.check();
    }
  }

  @Test
  void threeDimensionalMatchesPyTorch() throws Exception {
    Oracle.Run run =
        Oracle.run(
            dir,
            "lumbar3d_resnet_tiny",
            "--in-ch",
            "1",
            "--size",
            "3",
            "64",
            "64",
            "--classes",
            "10",
            "--batch",
            "2");
    try (LumbarNet net = LumbarNet.of(3, tiny(), 10, 3, 32, 16, 8)) {
      assertEquals(run.params(), net.parameterCount());
      Oracle.Diff d = Oracle.compare(net, run, NameMap.identity());
      System.out.printf(
          "lumbar3d_resnet_tiny (2 x 1 x 3 x 64 x 64 -> 2 x (10+3) x 3 x 16 x 16):"
              + " params %d, float32 %.3g, float64 %.3g, PyTorch noise %.3g%n",
          net.parameterCount(), d.f32(), d.f64(), d.noise());
      d.check();
    }
  }

  @Test
  void outputsAreAtAQuarterOfTheInput() {
    try (LumbarNet net2 = LumbarNet.of(2, tiny(), 5, 3, 32, 16, 8);
        LumbarNet net3 = LumbarNet.of(3, tiny(), 10, 3, 32, 16, 8);
        PointerScope scope = new PointerScope();
        NoGradGuard g = new NoGradGuard()) {
      net2.eval();
      net3.eval();
      LumbarNet.Output o = net2.heads(torch.randn(1, 1, 128, 128));
      assertEquals("[1, 5, 32, 32]", GradChecks.shape(o.heat()));
      assertEquals("[1, 3, 32, 32]", GradChecks.shape(o.grade()));
      assertEquals("[1, 8, 32, 24]", GradChecks.shape(net2.forward(torch.randn(1, 1, 128, 96))));
      o = net3.heads(torch.randn(1, 1, 2, 128, 128));
      assertEquals("[1, 10, 2, 32, 32]", GradChecks.shape(o.heat()));
      assertEquals("[1, 3, 2, 32, 32]", GradChecks.shape(o.grade()));
      // The write-up's resolution: 320 x 320 in, 80 x 80 out.
      o = net2.heads(torch.randn(1, 1, 320, 320));
      assertEquals("[1, 5, 80, 80]", GradChecks.shape(o.heat()));
      assertEquals("[1, 3, 80, 80]", GradChecks.shape(o.grade()));
      // Slices do not mix in the encoder, and the 3D net sees each volume on its own.
      Tensor x = torch.randn(2, 1, 2, 64, 64);
      Tensor both = net3.forward(x);
      Tensor second = net3.forward(x.narrow(0, 1, 1));
      assertEquals(0, both.narrow(0, 1, 1).sub(second).abs().max().item_double(), 1e-5);
    }
  }

  @Test
  void zooEncoderByName() {
    try (LumbarNet net = LumbarNet.create2d("resnet18", 1, 5, 3)) {
      assertArrayEquals(new int[] {64, 128, 256, 512}, net.head().encoderChannels());
      assertArrayEquals(new int[] {256, 128, 64}, net.head().decoderChannels());
      assertEquals(2, net.head().dims());
    }
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> LumbarNet.create3d("no_such_net", 1, 10, 3));
    assertTrue(e.getMessage().contains("no_such_net"), e.getMessage());
  }

  @Test
  void keysAndDefaultWidths() {
    try (LumbarNet net = LumbarNet.of(3, tiny(), 10, 3);
        PointerScope scope = new PointerScope()) {
      Map<String, Tensor> sd = net.stateDict();
      for (String k : sd.keySet()) assertTrue(k.matches("(encoder|head)\\..*"), k);
      assertArrayEquals(new int[] {8, 16, 32, 64}, LumbarNet.usedChannels(net.encoder()));
      assertArrayEquals(new int[] {256, 128, 64}, net.head().decoderChannels());
      assertEquals("[256, 96, 3, 3, 3]", GradChecks.shape(sd.get("head.block.0.conv1.0.weight")));
      assertEquals("[256]", GradChecks.shape(sd.get("head.block.0.conv1.1.running_mean")));
      assertEquals("[64, 64, 3, 3, 3]", GradChecks.shape(sd.get("head.block.2.conv2.0.weight")));
      assertEquals("[10, 64, 1, 1, 1]", GradChecks.shape(sd.get("head.heatmap.weight")));
      assertEquals("[3]", GradChecks.shape(sd.get("head.grade.bias")));
      assertTrue(sd.containsKey("encoder.layer4.0.downsample.1.weight"));
      assertEquals(java.util.Set.of("encoder.conv1.weight"), net.inputConvKeys());
    }
  }

  private static void assertArrayEquals(int[] want, int[] got) {
    org.junit.jupiter.api.Assertions.assertArrayEquals(want, got);
  }

  @Test
  void twoDimensionalTrainsThroughDsntAndHeatmapPool() {
    trainsThroughKernels(2);
  }

  @Test
  void threeDimensionalTrainsThroughDsntAndHeatmapPool() {
    trainsThroughKernels(3);
  }

  /**
   * A loss on the DSNT coordinates and the pooled grades, back-propagated through the kernels' own
   * backward functions into the network, gives the parameter gradients libtorch's autograd gives
   * for the same loss composed from libtorch ops.
   */
  private void trainsThroughKernels(int dims) {
    torch.manual_seed(3);
    int points = dims == 2 ? 5 : 10;
    try (LumbarNet net = LumbarNet.of(dims, tiny(), points, 3, 16, 16, 8);
        PointerScope scope = new PointerScope()) {
      net.train(true);
      Tensor x = dims == 2 ? torch.randn(2, 1, 64, 64) : torch.randn(2, 1, 2, 64, 64);
      long[] coordShape = {2, points, dims};
      Tensor a = torch.randn(coordShape);
      Tensor b = torch.randn(2, points, 3);

      // Kernels: Dsnt and HeatmapPool forward on detached tensors, their backward fed to autograd.
      LumbarNet.Output o = net.heads(x);
      Dsnt.Result r = Dsnt.forward(o.heat().detach());
      Tensor gradeProbs = torch.softmax(o.grade(), 1);
      Tensor gp = gradeProbs.detach();
      Tensor pooled = HeatmapPool.forward(r.probs, gp);
      HeatmapPool.Grads pg = HeatmapPool.backward(r.probs, gp, b);
      Tensor gradHeat = r.backward(a, null, pg.heat());
      torch.backward(
          new TensorVector(o.heat(), gradeProbs),
          new TensorVector(gradHeat, pg.grade()),
          new BoolOptional(),
          false,
          new TensorVector());
      GradChecks.assertFiniteGrads(
          net, "encoder.conv1", "encoder.layer4", "head.block", "head.heatmap", "head.grade");
      Map<String, Tensor> kernelGrads = grads(net);

      // The same loss in libtorch ops.
      LumbarNet.Output o2 = net.heads(x);
      Tensor heat = o2.heat();
      long d = dims == 3 ? heat.size(2) : 1;
      Tensor probs = Composite.spatialSoftmax(heat);
      Tensor coords = Composite.dsntCoords(probs, d, heat.size(-2), heat.size(-1), dims);
      Tensor pooled2 = Composite.heatmapPool(probs, torch.softmax(o2.grade(), 1));
      assertEquals(0, coords.sub(r.coords).abs().max().item_double(), 1e-4);
      assertEquals(0, pooled2.sub(pooled).abs().max().item_double(), 1e-5);
      coords.mul(a).sum().add(pooled2.mul(b).sum()).backward();
      Map<String, Tensor> autograd = grads(net);
      double largest = 0;
      for (Tensor t : autograd.values()) largest = Math.max(largest, t.abs().max().item_double());
      double worst = 0;
      for (String k : autograd.keySet()) {
        Tensor want = autograd.get(k);
        // Relative to the parameter's own gradient, with a floor for gradients that are zero in
        // exact arithmetic (the heat bias: a spatial softmax ignores a constant shift).
        double tol = 1e-3 * want.abs().max().item_double() + 1e-5 * largest;
        double diff = kernelGrads.get(k).sub(want).abs().max().item_double();
        assertTrue(diff <= tol, k + ": kernel-path gradient differs by " + diff + " > " + tol);
        worst = Math.max(worst, diff / largest);
      }
      System.out.printf(
          "lumbar %dD: kernel-path vs autograd gradients, max diff / largest grad " + "%.3g%n",
          dims, worst);
    }
  }

  /** Copies of the parameters' gradients, which are then zeroed. */
  private static Map<String, Tensor> grads(Net net) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    try (NoGradGuard g = new NoGradGuard()) {
      for (Map.Entry<String, Tensor> e : net.namedParameters().entrySet()) {
        Tensor grad = e.getValue().grad();
        out.put(e.getKey(), grad.clone());
        grad.zero_();
      }
    }
    return out;
  }

  @Test
  void fusedHeadLossPlugsIn() {
    try (LumbarNet net = LumbarNet.of(3, tiny(), 10, 3, 16, 16, 8);
        PointerScope scope = new PointerScope()) {
      net.train(true);
      LumbarNet.Output o = net.heads(torch.randn(1, 1, 4, 64, 64));
      Tensor points = torch.rand(1, 10, 3).mul(new org.bytedeco.pytorch.Scalar(3.0));
      Tensor targets =
          org.spinekit.tensor.Tensors.of(new long[] {0, 1, 2, 0, 1, 2, 0, 1, 2, -1}, 1, 10);
      try (HeadLoss.Result r = new HeadLoss(1.5).compute(o.heat(), o.grade(), points, targets)) {
        assertTrue(Float.isFinite(r.loss()) && r.loss() > 0, "loss " + r.loss());
        r.backward(o.heat(), o.grade());
      }
      GradChecks.assertFiniteGrads(net, "encoder.conv1", "head.heatmap", "head.grade");
    }
  }

  @Test
  void badInputIsRefused() {
    try (LumbarNet net2 = LumbarNet.of(2, tiny(), 5, 3, 16, 16, 8);
        LumbarNet net3 = LumbarNet.of(3, tiny(), 10, 3, 16, 16, 8);
        PointerScope scope = new PointerScope()) {
      // A 2D net takes a slice stack: each slice decoded alone, the maps stacked along D.
      LumbarNet.Output stack = net2.heads(torch.randn(2, 1, 3, 64, 64));
      org.junit.jupiter.api.Assertions.assertArrayEquals(
          new long[] {2, 5, 3, 16, 16}, stack.heat().sizes().vec().get());
      org.junit.jupiter.api.Assertions.assertArrayEquals(
          new long[] {2, 3, 3, 16, 16}, stack.grade().sizes().vec().get());
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class, () -> net2.forward(torch.randn(1, 1, 1, 3, 64, 64)));
      assertTrue(
          e.getMessage().contains("[B, 1, H, W]")
              && e.getMessage().contains("[1, 1, 1, 3, 64, 64]"),
          e.getMessage());
      e =
          assertThrows(
              IllegalArgumentException.class, () -> net2.forward(torch.randn(1, 3, 64, 64)));
      assertTrue(e.getMessage().contains("[1, 3, 64, 64]"), e.getMessage());
      e =
          assertThrows(
              IllegalArgumentException.class, () -> net2.forward(torch.randn(1, 1, 100, 64)));
      assertTrue(
          e.getMessage().contains("multiples") && e.getMessage().contains("32"), e.getMessage());
      e =
          assertThrows(
              IllegalArgumentException.class, () -> net3.forward(torch.randn(1, 1, 64, 64)));
      assertTrue(e.getMessage().contains("[B, 1, D, H, W]"), e.getMessage());
      assertThrows(
          UnsupportedOperationException.class, () -> net2.head().forward(torch.randn(1, 64, 2, 2)));
      e =
          assertThrows(
              IllegalArgumentException.class,
              () -> net2.head().decode(List.of(torch.randn(1, 8, 16, 16))));
      assertTrue(e.getMessage().contains("expected 4 feature maps"), e.getMessage());
    }
    try (ResNet enc = tiny()) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> new LumbarHead2d(new int[] {8, 16, 32, 64}, new int[] {16, 8}, 5, 3));
      assertTrue(
          e.getMessage().contains("decoderChannels") && e.getMessage().contains("3"),
          e.getMessage());
      try (LumbarHead2d wrong =
          new LumbarHead2d(new int[] {8, 16, 32, 65}, new int[] {8, 8, 8}, 5, 3)) {
        e = assertThrows(IllegalArgumentException.class, () -> new LumbarNet(enc, wrong));
        assertTrue(e.getMessage().contains("[8, 16, 32, 64]"), e.getMessage());
      }
      e = assertThrows(IllegalArgumentException.class, () -> LumbarNet.of(4, enc, 5, 3));
      assertTrue(e.getMessage().contains("dims"), e.getMessage());
      e =
          assertThrows(
              IllegalArgumentException.class,
              () -> new LumbarHead3d(new int[] {8, 16}, new int[] {8}, 0, 3));
      assertTrue(e.getMessage().contains("points"), e.getMessage());
    }
  }
}
