package org.spinekit.ops;

import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.spinekit.io.Volume;
import org.spinekit.testing.NativeMemory;

/**
 * Native memory stays flat over 10,000 rounds of the stacking, crop, mask and window calls (tensor
 * and Volume inputs), each round in its own scope; as {@link NativeMemoryTest}.
 */
class StackMemoryTest {
  @BeforeAll
  static void setUp() {
    TestSupport.init();
  }

  private static void oneRound(
      Tensor t,
      Volume v,
      Tensor labels,
      Stack25d.Options o,
      CropSample.Box b,
      CropSample.Options co) {
    try (PointerScope scope = new PointerScope()) {
      Stack25d.images(t, 1, -1024, o);
      Stack25d.images(v, o);
      Stack25d.masks(labels, o, ScalarType.Byte);
      CropSample.sample(t, 1, -1024, b, co);
      CropSample.sample(v, b, co);
      Window.channels(t, 1, -1024, List.of(Window.SOFT_TISSUE, Window.BONE));
    }
  }

  @Test
  void tenThousandRoundsKeepNativeMemoryFlat() {
    try (PointerScope outer = new PointerScope()) {
      Volume v = Stack25dTest.ctVolume(4, 12, 10, 1);
      Tensor t = Stack25dTest.tensorOf(v);
      Tensor labels =
          torch.randint(0, 8, new long[] {4, 12, 10}, new TensorOptions(ScalarType.Short));
      Stack25d.Options o =
          Stack25d.Options.defaults().withSize(8, 8).withWindow(Window.SOFT_TISSUE);
      CropSample.Box b = new CropSample.Box(1, 3, 2, 9, -1, 6);
      CropSample.Options co = CropSample.Options.of(6, 6).withSlices(5).withMargin(1, 1, 1);
      for (int i = 0; i < 3000; i++) oneRound(t, v, labels, o, b, co);
      // 10,000 rounds in blocks of 1,250; leaking even 400 bytes per round adds 500 kB per
      // block.
      NativeMemory.Reading[] r =
          NativeMemory.acrossBlocks(
              8,
              () -> {
                for (int i = 0; i < 1250; i++) oneRound(t, v, labels, o, b, co);
              });
      NativeMemory.assertTrackedFlat(r[0], r[8], "after 10,000 rounds");
      NativeMemory.assertRssFlat(r, 256L << 10, "400 bytes leaked per round add 500 kB a block");
    }
  }
}
