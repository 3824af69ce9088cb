package org.spinekit.loss;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** Small reductions shared by the losses. */
final class Means {
  private Means() {}

  /** {@code num / den}, or 0 (with zero gradient) where {@code den} is 0. */
  static Tensor safeDivide(Tensor num, Tensor den) {
    Tensor zero = den.eq(new Scalar(0.0));
    return torch.where(zero, new Scalar(0.0), num.div(den.masked_fill(zero, new Scalar(1.0))));
  }
}
