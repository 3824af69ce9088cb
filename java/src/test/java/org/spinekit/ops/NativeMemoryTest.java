package org.spinekit.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Native memory stays flat over 10,000 calls of every kernel, each call in its own scope. */
class NativeMemoryTest {
  @BeforeAll
  static void setUp() {
    TestSupport.init();
  }

  private static void oneRound(Tensor heat, Tensor grade, Tensor pts, Tensor tgt, Tensor gc,
      HeadLoss loss) {
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
      long tracked = Pointer.totalBytes();
      long rss = Pointer.physicalBytes();
      for (int i = 0; i < 10_000; i++) oneRound(heat, grade, pts, tgt, gc, loss);
      long trackedAfter = Pointer.totalBytes();
      long rssAfter = Pointer.physicalBytes();
      assertEquals(tracked, trackedAfter, "bytes tracked by JavaCPP after 10,000 rounds");
      // One round allocates about 60 KB in some 30 tensors; leaking the smallest of them (a
      // few hundred bytes with its TensorImpl) every round would add several MB.
      long growth = rssAfter - rss;
      System.out.printf("native memory: JavaCPP-tracked %d -> %d bytes, RSS grew %d KiB over"
          + " 10,000 rounds%n", tracked, trackedAfter, growth >> 10);
      assertTrue(growth < 4L << 20, "process RSS grew by " + (growth >> 10) + " KiB");
    }
  }
}
