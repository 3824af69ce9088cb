package org.spinekit.ops;

import org.spinekit.tensor.Tensors;
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
      // 10,000 rounds in blocks of 2,500. A leak grows RSS in every block; allocator noise
      // (arenas of libtorch's and the kernels' threads) comes and goes. One round makes
      // some 30 tensors; leaking even a 400-byte one per round adds 1 MB per block.
      long[] growth = new long[4];
      for (int b = 0; b < growth.length; b++) {
        long before = Pointer.physicalBytes();
        for (int i = 0; i < 2500; i++) oneRound(heat, grade, pts, tgt, gc, loss);
        growth[b] = Pointer.physicalBytes() - before;
      }
      long trackedAfter = Pointer.totalBytes();
      assertEquals(tracked, trackedAfter, "bytes tracked by JavaCPP after 10,000 rounds");
      long least = Long.MAX_VALUE;
      for (long g : growth) least = Math.min(least, g);
      System.out.printf("native memory: JavaCPP-tracked %d -> %d bytes; RSS growth per block of"
          + " 2,500 rounds: %s bytes%n", tracked, trackedAfter, java.util.Arrays.toString(growth));
      assertTrue(least < 1L << 20, "process RSS grew in every block of 2,500 rounds: "
          + java.util.Arrays.toString(growth) + " bytes");
    }
  }
}
