package org.spinekit.ops;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.spinekit.tensor.Tensors;
import org.spinekit.testing.NativeMemory;

/** Native memory stays flat over 12,000 calls of every kernel, each call in its own scope. */
class NativeMemoryTest {
  @BeforeAll
  static void setUp() {
    TestSupport.init();
  }

  private static void oneRound(
      Tensor heat, Tensor grade, Tensor pts, Tensor tgt, Tensor gc, HeadLoss loss) {
    try (PointerScope scope = new PointerScope()) {
      Dsnt.Result r = Dsnt.forward(heat);
      r.backward(gc, null, null);
      Tensor pooled = HeatmapPool.forward(r.probs, grade);
      HeatmapPool.backward(r.probs, grade, pooled);
      GaussianTargets.render(pts, new long[] {16, 16}, 2.0, true);
      loss.compute(heat, grade, pts, tgt).loss();
    }
  }

  @Test
  void tenThousandCallsKeepNativeMemoryFlat() {
    try (PointerScope outer = new PointerScope()) {
      Tensor heat = torch.randn(2, 5, 16, 16);
      Tensor grade = torch.randn(2, 3, 16, 16).softmax(1).contiguous();
      Tensor pts = torch.rand(2, 5, 2).mul(new org.bytedeco.pytorch.Scalar(15.0));
      Tensor tgt = Tensors.of(new long[] {0, 1, 2, 0, 1, 2, 0, 1, 2, -1}, 2, 5);
      Tensor gc = torch.randn(2, 5, 2);
      HeadLoss loss = new HeadLoss(2.0);
      // Warm-up: JIT compilation and malloc arenas settle first.
      for (int i = 0; i < 3000; i++) oneRound(heat, grade, pts, tgt, gc, loss);
      // 12,000 rounds in blocks of 1,000. One round makes some 30 tensors; leaking even
      // 400 bytes per round adds 400 kB per block. Twelve blocks: the first test of a JVM
      // still sees the compiler's malloc arena grow in three or so of them.
      NativeMemory.Reading[] r =
          NativeMemory.acrossBlocks(
              12,
              () -> {
                for (int i = 0; i < 1000; i++) oneRound(heat, grade, pts, tgt, gc, loss);
              });
      NativeMemory.assertTrackedFlat(r[0], r[12], "after 12,000 rounds");
      NativeMemory.assertRssFlat(r, 200L << 10, "400 bytes leaked per round add 400 kB a block");
    }
  }
}
