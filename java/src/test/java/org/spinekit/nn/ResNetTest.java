package org.spinekit.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResNetTest {
  @TempDir Path dir;

  @BeforeAll
  static void init() {
    torch.set_num_threads(2);
  }

  @Test
  void resnet18MatchesTorchvision() throws Exception {
    Oracle.Run run = Oracle.run(dir, "resnet18");
    try (ResNet net = new ResNet(ResNet.Config.resnet18(3, 1000))) {
      assertEquals(11_689_512L, net.parameterCount());
      assertEquals(run.params(), net.parameterCount());
      Oracle.compare(net, run, NameMap.identity()).check();
    }
  }

  @Test
  void resnet50MatchesTorchvision() throws Exception {
    Oracle.Run run = Oracle.run(dir, "resnet50", "--size", "48", "40", "--batch", "1");
    try (ResNet net = new ResNet(ResNet.Config.resnet50(3, 1000))) {
      assertEquals(25_557_032L, net.parameterCount());
      assertEquals(run.params(), net.parameterCount());
      Oracle.compare(net, run, NameMap.identity()).check();
    }
  }

  @Test
  void featuresHaveTheDeclaredStridesAndChannels() {
    try (ResNet net = new ResNet(ResNet.Config.resnet50(1, 0));
        PointerScope scope = new PointerScope();
        NoGradGuard g = new NoGradGuard()) {
      net.eval();
      List<Tensor> f = net.features(torch.randn(1, 1, 64, 96));
      assertEquals(5, f.size());
      int[] ch = net.channels();
      int[] st = net.strides();
      assertArrayEquals(new int[] {64, 256, 512, 1024, 2048}, ch);
      for (int i = 0; i < 5; i++) {
        assertArrayEquals(
            new long[] {1, ch[i], 64 / st[i], 96 / st[i]},
            f.get(i).sizes().vec().get(),
            "feature " + i);
      }
    }
  }

  @Test
  void threeChannelWeightsAdaptToOneChannel() throws Exception {
    Oracle.Run run = Oracle.run(dir, "resnet18", "--size", "32", "32", "--batch", "1");
    try (ResNet net = new ResNet(ResNet.Config.resnet18(1, 1000))) {
      StateDict.Report r = StateDict.load(net, run.weights(), NameMap.identity(), true);
      assertEquals(List.of("conv1.weight"), r.adapted());
      try (PointerScope scope = new PointerScope()) {
        Tensor w = org.spinekit.io.safetensors.SafeTensors.read(run.weights()).get("conv1.weight");
        Tensor want = w.sum(new long[] {1}, true, new org.bytedeco.pytorch.ScalarTypeOptional());
        assertTrue(net.stateDict().get("conv1.weight").sub(want).abs().max().item_double() < 1e-6);
      }
    }
  }

  @Test
  void wrongShapesAndNamesAreRefusedNamingTheKey() throws Exception {
    Oracle.Run run = Oracle.run(dir, "resnet18", "--classes", "10", "--size", "32", "32");
    try (ResNet net = new ResNet(ResNet.Config.resnet18(3, 1000))) {
      float before = org.spinekit.tensor.Tensors.floats(net.stateDict().get("conv1.weight"))[0];
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> StateDict.load(net, run.weights(), NameMap.identity(), true));
      assertTrue(
          e.getMessage().contains("fc.weight") && e.getMessage().contains("[10, 512]"),
          e.getMessage());
      // Nothing was copied by the refused load.
      assertEquals(
          before, org.spinekit.tensor.Tensors.floats(net.stateDict().get("conv1.weight"))[0]);
      NameMap renamed = NameMap.of("layer1\\.(.*)", "stage1.$1");
      IllegalArgumentException e2 =
          assertThrows(
              IllegalArgumentException.class,
              () -> StateDict.load(net, run.weights(), renamed, true));
      assertTrue(
          e2.getMessage().contains("missing") && e2.getMessage().contains("layer1.0"),
          e2.getMessage());
    }
    try (ResNet net = new ResNet(ResNet.Config.resnet18(3, 0))) {
      // An encoder without the head: drop fc.* by rule, everything else loads.
      StateDict.Report r = StateDict.load(net, run.weights(), NameMap.of("fc\\..*", "-"), true);
      assertTrue(r.complete());
    }
  }

  @Test
  void badInputShapeIsRefused() {
    try (ResNet net = new ResNet(ResNet.Config.resnet18(3, 10));
        PointerScope scope = new PointerScope()) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class, () -> net.forward(torch.randn(1, 1, 32, 32)));
      assertTrue(e.getMessage().contains("[N, 3, H, W]"), e.getMessage());
    }
  }
}
