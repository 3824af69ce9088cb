package org.spinekit.nn;

import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

/**
 * Stochastic depth ("drop path", torchvision's {@code StochasticDepth(p, "row")}, timm's {@code
 * DropPath}): in training each sample's residual branch is zeroed with probability {@code p} and
 * the survivors are scaled by {@code 1 / (1 - p)}. The mask is drawn from libtorch's default
 * generator (seed it with {@code NativeRuntime.seed}), in the input's dtype and on its device; in
 * eval mode, or with {@code p == 0}, the input is returned as is.
 */
public final class DropPath {
  private DropPath() {}

  /** {@code x} with whole samples (dim 0) dropped at rate {@code p} when training. */
  public static Tensor apply(Tensor x, double p, boolean training) {
    if (!(p >= 0 && p <= 1)) {
      throw new IllegalArgumentException("DropPath: p must be in [0, 1], got " + p);
    }
    if (!training || p == 0) return x;
    double keep = 1 - p;
    long[] shape = new long[(int) x.dim()];
    java.util.Arrays.fill(shape, 1);
    shape[0] = x.size(0);
    Tensor mask = x.new_empty(shape).bernoulli_(keep, new GeneratorOptional());
    if (keep > 0) mask.div_(new Scalar(keep));
    return x.mul(mask);
  }

  /**
   * The linearly increasing rates of {@code total} blocks, 0 for the first and {@code rate} for the
   * last (torchvision's and timm's stochastic depth decay rule).
   */
  public static double[] rates(double rate, int total) {
    if (!(rate >= 0 && rate <= 1)) {
      throw new IllegalArgumentException("DropPath: rate must be in [0, 1], got " + rate);
    }
    double[] r = new double[total];
    for (int i = 0; i < total && total > 1; i++) r[i] = rate * i / (total - 1.0);
    return r;
  }
}
