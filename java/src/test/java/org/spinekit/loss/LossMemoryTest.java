package org.spinekit.loss;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.spinekit.ops.HeadLoss;
import org.spinekit.tensor.Tensors;
import org.spinekit.testing.NativeMemory;

/** Native memory stays flat over thousands of loss evaluations with backward, a scope each. */
class LossMemoryTest {
  private static Tensor leaf(Tensor base) {
    Tensor x = base.detach().clone();
    x.requires_grad_(true);
    return x;
  }

  private static void oneRound(
      Tensor logits,
      Tensor cls,
      Tensor bin,
      Tensor pts,
      Tensor packed,
      Tensor packedTarget,
      Loss[] losses) {
    try (PointerScope scope = new PointerScope()) {
      Tensor x = leaf(logits);
      Tensor total =
          losses[0]
              .apply(x, cls)
              .add(losses[1].apply(x, cls))
              .add(losses[2].apply(x, bin))
              .add(losses[3].apply(x, bin))
              .add(losses[4].apply(x, cls))
              .add(losses[5].apply(x, pts));
      total.backward();
      Tensor p = leaf(packed);
      losses[6].apply(p, packedTarget).backward();
      x.grad().sum().item_double();
    }
  }

  @Test
  void thousandsOfCallsKeepNativeMemoryFlat() {
    // One intra-op thread: on a loaded 2-core machine libtorch's pool makes these small
    // ops some 10x slower, and thread count does not change what is allocated.
    int threads = torch.get_num_threads();
    torch.set_num_threads(1);
    try (PointerScope outer = new PointerScope()) {
      Tensor logits = torch.randn(2, 3, 16, 16);
      Tensor cls = torch.randint(3, new long[] {2, 16, 16});
      Tensor bin = torch.randint(2, new long[] {2, 3, 16, 16}).to(ScalarType.Float);
      Tensor pts = torch.rand(2, 3, 2).mul(new Scalar(15.0));
      Tensor packed = torch.randn(2, 6, 16, 16);
      Tensor packedTarget =
          Tensors.of(
              new float[] {3, 4, 0, 8, 9, 1, 12, 2, 2, 5, 5, -1, 7, 7, 2, 10, 3, 0}, 2, 3, 3);
      Loss[] losses = {
        WeightedSum.of("dice", 1, DiceLoss.multiclass().withoutBackground())
            .plus("ce", 1, new CrossEntropy().withClassWeights(1, 2, 3)),
        FocalLoss.multiclass().withClassAlpha(0.5, 1, 1),
        new BinaryCrossEntropy()
            .withPosWeight(2)
            .withNormalisation(BinaryCrossEntropy.Normalisation.ROW_WEIGHTS),
        FocalLoss.binary(),
        DiceLoss.multiclass().withIgnoreIndex(2),
        new JsDivergence(2.0),
        new FusedHeadLoss(new HeadLoss(2.0)),
      };
      for (int i = 0; i < 500; i++) {
        oneRound(logits, cls, bin, pts, packed, packedTarget, losses);
      }
      // 2,000 rounds in blocks of 250. One round makes some 300 tensors; leaking one
      // [2, 3, 16, 16] float tensor (6 kB) per round adds 1.5 MB per block.
      NativeMemory.Reading[] r =
          NativeMemory.acrossBlocks(
              8,
              () -> {
                for (int i = 0; i < 250; i++) {
                  oneRound(logits, cls, bin, pts, packed, packedTarget, losses);
                }
              });
      NativeMemory.assertTrackedFlat(r[0], r[8], "after 2,000 rounds");
      NativeMemory.assertRssFlat(
          r, 512L << 10, "a [2, 3, 16, 16] float tensor leaked per round adds 1.5 MB a block");
    } finally {
      torch.set_num_threads(threads);
    }
  }
}
