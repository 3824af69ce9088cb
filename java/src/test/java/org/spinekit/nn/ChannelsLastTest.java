package org.spinekit.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.runtime.NativeRuntime;
import org.spinekit.tensor.Tensors;

/** {@link Net#channelsLast}: the same network and numbers, in NHWC order. */
class ChannelsLastTest {
  @TempDir Path dir;

  @BeforeAll
  static void init() {
    torch.set_num_threads(2);
  }

  private static ResNet net(int inChannels) {
    NativeRuntime.seed(3);
    ResNet n = new ResNet(ResNet.Config.resnet18(inChannels, 7));
    // Batch norm that is not an identity, so its buffers matter.
    try (PointerScope s = new PointerScope();
        NoGradGuard g = new NoGradGuard()) {
      for (Net d : n.descendants()) {
        if (d instanceof BatchNorm b) {
          b.runningMean.copy_(torch.randn(b.channels).mul(new org.bytedeco.pytorch.Scalar(0.1)));
          b.runningVar.copy_(torch.rand(b.channels).add(new org.bytedeco.pytorch.Scalar(0.5)));
        }
      }
    }
    n.eval();
    return n;
  }

  private static float[] forward(Net n, Tensor x) {
    try (PointerScope s = new PointerScope();
        NoGradGuard g = new NoGradGuard()) {
      return Tensors.floats(n.forward(x));
    }
  }

  @Test
  void sameOutputsAndNhwcWeightsAlsoForOneInputChannel() {
    for (int in : new int[] {1, 3}) {
      try (ResNet a = net(in);
          ResNet b = net(in);
          PointerScope s = new PointerScope()) {
        Tensor x = torch.randn(2, in, 64, 48);
        float[] want = forward(a, x);
        assertTrue(b == b.channelsLast());
        float[] got = forward(b, x);
        assertEquals(want.length, got.length);
        double max = 0, diff = 0;
        for (int i = 0; i < want.length; i++) {
          max = Math.max(max, Math.abs(want[i]));
          diff = Math.max(diff, Math.abs(want[i] - got[i]));
        }
        assertTrue(max > 0.1, "a forward that says something: max |y| " + max);
        assertTrue(diff <= 1e-5 * max, in + " input channels: max |diff| " + diff + " of " + max);
        int convs = 0;
        for (Net d : b.descendants()) {
          if (d instanceof Conv2d c) {
            convs++;
            // NHWC strides, also where the input has one channel (NCHW strides of such a
            // weight count as channels-last contiguous but libtorch reads them as NCHW).
            assertEquals(
                torch.MemoryFormat.ChannelsLast.value,
                c.weight.suggest_memory_format().value,
                "" + c.in);
            long[] st = c.weight.strides().vec().get();
            assertEquals(1, st[1], "channel stride of a " + c.in + "-channel weight");
          }
        }
        assertTrue(convs >= 20);
        if (in > 1) {
          Conv2d stem = (Conv2d) b.descendants().get(1);
          assertFalse(stem.weight.is_contiguous(), "the stem's weight is stored NHWC");
        }
      }
    }
  }

  @Test
  void savedWeightsAreUnchanged() throws Exception {
    try (ResNet a = net(1);
        ResNet b = net(1)) {
      b.channelsLast();
      Path fa = dir.resolve("a.safetensors"), fb = dir.resolve("b.safetensors");
      StateDict.save(a, fa, Map.of());
      StateDict.save(b, fb, Map.of());
      assertArrayEquals(Files.readAllBytes(fa), Files.readAllBytes(fb));
      // And they load back into an NHWC network as the same values.
      try (ResNet c =
              StateDict.loadForInference(new ResNet(ResNet.Config.resnet18(1, 7)), fb, null);
          PointerScope s = new PointerScope()) {
        Tensor x = torch.randn(1, 1, 32, 32);
        assertEquals(
            torch.MemoryFormat.ChannelsLast.value,
            c.descendants().stream()
                .filter(d -> d instanceof Conv2d)
                .map(d -> ((Conv2d) d).weight)
                .findFirst()
                .orElseThrow()
                .suggest_memory_format()
                .value);
        float[] want = forward(a, x), got = forward(c, x);
        for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 1e-5);
      }
    }
  }
}
