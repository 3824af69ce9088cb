package org.spinekit.loss;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.spinekit.tensor.Checks;
import org.spinekit.tensor.Outputs;

/**
 * Focal loss (Lin et al. 2017) on logits, binary or multi-class.
 *
 * <p>{@link Mode#BINARY}: torchvision's {@code sigmoid_focal_loss}: prediction logits and target
 * labels of the same shape, {@code p = sigmoid(x)}, {@code ce} the binary cross entropy, {@code p_t
 * = p y + (1 - p)(1 - y)}, {@code l = ce (1 - p_t)^gamma}, times {@code alpha y + (1 - alpha)(1 -
 * y)} when {@code alpha >= 0} ({@code alpha < 0}: no weighting). Mean over all elements.
 *
 * <p>{@link Mode#MULTICLASS}: prediction logits [N, C, ...], target class indices [N, ...]; {@code
 * l = -alpha_y (1 - p_y)^gamma log p_y} with {@code p_y} the softmax probability of the target
 * class ({@code 1 - p_y} computed as {@code -expm1(log p_y)}), optional per-class {@code alpha}
 * (default 1), elements at {@code ignore_index} (default -100) left out. Mean over the non-ignored
 * elements (0 when there are none); with gamma 0 and no alpha this is the unweighted cross entropy.
 * Immutable.
 */
public final class FocalLoss implements Loss {
  /** Sigmoid (independent labels) or softmax (one class per element). */
  public enum Mode {
    BINARY,
    MULTICLASS
  }

  private final Mode mode;
  private final double gamma;
  private final double alpha;
  private final double[] classAlpha;
  private final long ignoreIndex;
  private final Reduction reduction;

  private FocalLoss(
      Mode mode,
      double gamma,
      double alpha,
      double[] classAlpha,
      long ignoreIndex,
      Reduction reduction) {
    this.mode = mode;
    this.gamma = gamma;
    this.alpha = alpha;
    this.classAlpha = classAlpha;
    this.ignoreIndex = ignoreIndex;
    this.reduction = reduction;
  }

  /** Binary focal loss, torchvision's defaults: gamma 2, alpha 0.25, mean. */
  public static FocalLoss binary() {
    return new FocalLoss(Mode.BINARY, 2.0, 0.25, null, -100, Reduction.MEAN);
  }

  /** Multi-class focal loss: gamma 2, no alpha, ignore index -100, mean. */
  public static FocalLoss multiclass() {
    return new FocalLoss(Mode.MULTICLASS, 2.0, -1, null, -100, Reduction.MEAN);
  }

  /** The focusing exponent, >= 0. */
  public FocalLoss withGamma(double g) {
    if (!(g >= 0) || Double.isInfinite(g)) {
      throw new IllegalArgumentException("gamma: expected a finite value >= 0, got " + g);
    }
    return new FocalLoss(mode, g, alpha, classAlpha, ignoreIndex, reduction);
  }

  /** Binary mode: the positive-class weight in [0, 1], or negative for none. */
  public FocalLoss withAlpha(double a) {
    if (mode != Mode.BINARY) {
      throw new IllegalArgumentException(
          "alpha: one value is for BINARY mode; MULTICLASS takes"
              + " one per class (withClassAlpha)");
    }
    if (!(a <= 1) || Double.isNaN(a)) {
      throw new IllegalArgumentException("alpha: expected a value <= 1 (negative: none), got " + a);
    }
    return new FocalLoss(mode, gamma, a, classAlpha, ignoreIndex, reduction);
  }

  /** Multi-class mode: one weight (finite, >= 0) per class; null for none. */
  public FocalLoss withClassAlpha(double... a) {
    if (mode != Mode.MULTICLASS) {
      throw new IllegalArgumentException(
          "classAlpha: per-class weights are for MULTICLASS"
              + " mode; BINARY takes one alpha (withAlpha)");
    }
    return new FocalLoss(
        mode, gamma, alpha, LossChecks.nonNegative(a, "classAlpha"), ignoreIndex, reduction);
  }

  /** Multi-class mode: targets equal to {@code index} do not count. */
  public FocalLoss withIgnoreIndex(long index) {
    return new FocalLoss(mode, gamma, alpha, classAlpha, index, reduction);
  }

  public FocalLoss withReduction(Reduction r) {
    if (r == null) throw new IllegalArgumentException("reduction: expected a value, got null");
    return new FocalLoss(mode, gamma, alpha, classAlpha, ignoreIndex, r);
  }

  public Mode mode() {
    return mode;
  }

  public double gamma() {
    return gamma;
  }

  @Override
  public Tensor apply(Tensor prediction, Tensor target) {
    try (PointerScope scope = new PointerScope()) {
      Tensor out =
          mode == Mode.BINARY ? binary(prediction, target) : multiclass(prediction, target);
      return Outputs.handOut(scope, out);
    }
  }

  private Tensor binary(Tensor x, Tensor target) {
    LossChecks.prediction(x, "prediction", 1, "logits [N, ...]");
    Tensor y = LossChecks.dense(target, "target", x);
    Tensor p = x.sigmoid();
    Tensor ce =
        torch.binary_cross_entropy_with_logits(x, y, new TensorOptional(), new TensorOptional(), 0);
    // p_t = p y + (1 - p)(1 - y)
    Tensor pt = p.mul(y).add(oneMinus(p).mul(oneMinus(y)));
    Tensor l = gamma == 0 ? ce : ce.mul(oneMinus(pt).pow(new Scalar(gamma)));
    if (alpha >= 0) {
      // alpha y + (1 - alpha)(1 - y)
      Tensor at = y.mul(new Scalar(alpha)).add(oneMinus(y).mul(new Scalar(1 - alpha)));
      l = l.mul(at);
    }
    return reduce(l, null);
  }

  private Tensor multiclass(Tensor x, Tensor target) {
    LossChecks.prediction(x, "prediction", 2, "logits [N, C, ...]");
    long c = x.size(1);
    long[] ps = Checks.shape(x);
    long[] ts = new long[ps.length - 1];
    ts[0] = ps[0];
    System.arraycopy(ps, 2, ts, 1, ps.length - 2);
    LossChecks.classArray(classAlpha, "classAlpha", c, "class");
    Tensor y = LossChecks.classIndices(target, "target", x, ts);
    LossChecks.classRange(y, "target", c, ignoreIndex);
    Tensor valid = y.ne(new Scalar(ignoreIndex));
    Tensor safe = y.masked_fill(valid.logical_not(), new Scalar(0L));
    Tensor logp = torch.log_softmax(x, 1).gather(1, safe.unsqueeze(1)).squeeze(1);
    Tensor l = logp.neg();
    if (gamma != 0) l = l.mul(logp.expm1().neg().pow(new Scalar(gamma)));
    if (classAlpha != null) {
      l = l.mul(LossChecks.vector(classAlpha, x).index_select(0, safe.reshape(-1)).view(ts));
    }
    l = l.masked_fill(valid.logical_not(), new Scalar(0.0));
    return reduce(l, valid);
  }

  /** 1 - t (rounded as PyTorch's {@code 1 - t}). */
  private static Tensor oneMinus(Tensor t) {
    return t.neg().add(new Scalar(1.0));
  }

  private Tensor reduce(Tensor l, Tensor valid) {
    switch (reduction) {
      case NONE:
        return l;
      case SUM:
        return l.sum();
      default:
        if (valid == null) return l.mean();
        return Means.safeDivide(l.sum(), valid.to(l.scalar_type()).sum());
    }
  }
}
