package org.spinekit.loss;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.spinekit.tensor.Checks;
import org.spinekit.tensor.Outputs;

/**
 * Cross entropy of class logits, PyTorch's {@code F.cross_entropy} (computed by the same libtorch
 * op): prediction [N, C] or [N, C, d1, ...] logits, target [N] or [N, d1, ...] class indices (any
 * integer type). Options: class weights {@code w}, label smoothing {@code eps}, {@code
 * ignore_index} (default -100, as PyTorch), and per-call sample weights {@code s} (one per sample
 * [N], or one per element, the target's shape).
 *
 * <p>Per element i with target y: {@code l_i = (1 - eps) w_y (-log p_y) + eps / C * sum_c w_c (-log
 * p_c)} (PyTorch's definition; 0 where the target is ignored). {@link Reduction#MEAN} is {@code
 * sum_i s_i l_i / sum_i s_i w_(y_i)} over non-ignored elements: PyTorch's weighted mean when there
 * are no sample weights. One deliberate difference: when no element counts (all ignored, or zero
 * total weight) the mean is 0 with zero gradient where PyTorch gives NaN. {@link Reduction#SUM} is
 * {@code sum_i s_i l_i}, {@link Reduction#NONE} {@code s_i l_i}.
 *
 * <p>Targets are checked to lie in [0, C) or equal the ignore index (one host read). Immutable; the
 * {@code with} methods return modified copies.
 */
public final class CrossEntropy implements Loss {
  private final double[] classWeights;
  private final long ignoreIndex;
  private final double labelSmoothing;
  private final Reduction reduction;

  /** Unweighted, ignore index -100, no smoothing, mean. */
  public CrossEntropy() {
    this(null, -100, 0, Reduction.MEAN);
  }

  private CrossEntropy(
      double[] classWeights, long ignoreIndex, double labelSmoothing, Reduction reduction) {
    this.classWeights = classWeights;
    this.ignoreIndex = ignoreIndex;
    this.labelSmoothing = labelSmoothing;
    this.reduction = reduction;
  }

  /** One weight (finite, >= 0) per class; null for none. */
  public CrossEntropy withClassWeights(double... weights) {
    return new CrossEntropy(
        LossChecks.nonNegative(weights, "classWeights"), ignoreIndex, labelSmoothing, reduction);
  }

  /** Targets equal to {@code index} do not count (PyTorch's {@code ignore_index}). */
  public CrossEntropy withIgnoreIndex(long index) {
    return new CrossEntropy(classWeights, index, labelSmoothing, reduction);
  }

  /** Label smoothing in [0, 1] (PyTorch's {@code label_smoothing}). */
  public CrossEntropy withLabelSmoothing(double eps) {
    if (!(eps >= 0 && eps <= 1)) {
      throw new IllegalArgumentException("labelSmoothing: expected a value in [0, 1], got " + eps);
    }
    return new CrossEntropy(classWeights, ignoreIndex, eps, reduction);
  }

  public CrossEntropy withReduction(Reduction r) {
    if (r == null) throw new IllegalArgumentException("reduction: expected a value, got null");
    return new CrossEntropy(classWeights, ignoreIndex, labelSmoothing, r);
  }

  public double[] classWeights() {
    return classWeights == null ? null : classWeights.clone();
  }

  public long ignoreIndex() {
    return ignoreIndex;
  }

  public double labelSmoothing() {
    return labelSmoothing;
  }

  public Reduction reduction() {
    return reduction;
  }

  @Override
  public Tensor apply(Tensor prediction, Tensor target) {
    return apply(prediction, target, null);
  }

  /**
   * @param prediction logits [N, C, ...]
   * @param target class indices [N, ...]
   * @param sampleWeights null, [N], or the target's shape
   */
  public Tensor apply(Tensor prediction, Tensor target, Tensor sampleWeights) {
    LossChecks.prediction(prediction, "prediction", 2, "logits [N, C, ...]");
    long c = prediction.size(1);
    long[] ps = Checks.shape(prediction);
    long[] ts = new long[ps.length - 1];
    ts[0] = ps[0];
    System.arraycopy(ps, 2, ts, 1, ps.length - 2);
    LossChecks.classArray(classWeights, "classWeights", c, "class");
    try (PointerScope scope = new PointerScope()) {
      Tensor y = LossChecks.classIndices(target, "target", prediction, ts);
      Tensor s = LossChecks.weights(sampleWeights, "sampleWeights", prediction, ts);
      LossChecks.classRange(y, "target", c, ignoreIndex);
      Tensor w = classWeights == null ? null : LossChecks.vector(classWeights, prediction);
      Tensor per =
          torch.cross_entropy_loss(
              prediction,
              y,
              w == null ? new TensorOptional() : new TensorOptional(w),
              0,
              ignoreIndex,
              labelSmoothing);
      Tensor weighted = s == null ? per : per.mul(s);
      Tensor out;
      switch (reduction) {
        case NONE:
          out = weighted;
          break;
        case SUM:
          out = weighted.sum();
          break;
        default:
          {
            Tensor valid = y.ne(new Scalar(ignoreIndex));
            Tensor den = valid.to(prediction.scalar_type());
            if (w != null) {
              Tensor safe = y.masked_fill(valid.logical_not(), new Scalar(0L));
              den = den.mul(w.index_select(0, safe.reshape(-1)).view(ts));
            }
            if (s != null) den = den.mul(s);
            out = Means.safeDivide(weighted.sum(), den.sum());
          }
      }
      return Outputs.handOut(scope, out);
    }
  }
}
