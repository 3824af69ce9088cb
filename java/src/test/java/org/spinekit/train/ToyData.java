package org.spinekit.train;

import java.util.Map;
import java.util.SplittableRandom;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.spinekit.tensor.Tensors;

/**
 * Synthetic two-class images for the training tests: sample i is class i % 2, a [1, 12, 12] (or
 * larger) image of Gaussian noise (drawn from the sample's generator, so it changes every epoch
 * like an augmentation) plus, for class 1, a bright (+2) 4 x 4 square; target {class}.
 */
final class ToyData implements Dataset {
  static final int SIDE = 12;
  final int n;
  final int side;

  ToyData(int n) {
    this(n, SIDE);
  }

  /** Images of {@code side} x {@code side} (at least 8). */
  ToyData(int n, int side) {
    this.n = n;
    this.side = side;
  }

  @Override
  public int size() {
    return n;
  }

  @Override
  public Example get(int index, SplittableRandom rng) {
    int c = index % 2;
    float[] v = new float[side * side];
    for (int i = 0; i < v.length; i++) {
      double u1 = 1 - rng.nextDouble();
      double u2 = rng.nextDouble();
      v[i] = (float) (0.5 * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2));
    }
    if (c == 1) {
      for (int y = 4; y < 8; y++) for (int x = 4; x < 8; x++) v[y * side + x] += 2f;
    }
    return new Example(Tensors.of(v, 1, side, side), new float[] {c});
  }

  /** The tests' step: BCE with logits of a one-logit network, metric "acc". */
  static <M extends org.spinekit.nn.Net> Step.Result step(M model, Batch b) {
    Tensor logits = model.forward(b.inputs());
    Tensor loss = torch.binary_cross_entropy_with_logits(logits, b.targets());
    double acc =
        logits
            .gt(new org.bytedeco.pytorch.Scalar(0.0))
            .eq(b.targets().gt(new org.bytedeco.pytorch.Scalar(0.5)))
            .to(torch.ScalarType.Float)
            .mean()
            .item_double();
    return Step.Result.of(loss, Map.of("acc", acc));
  }
}
