package org.spinekit.loss;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.spinekit.tensor.Checks;
import org.spinekit.tensor.Outputs;

/**
 * Binary cross entropy on logits, PyTorch's {@code F.binary_cross_entropy_with_logits} (computed by
 * the same libtorch op): prediction logits of any shape [N, ..., K], target probabilities of the
 * same shape (0/1 labels or soft labels, any real type).
 *
 * <p>Weights, all optional, multiply per element: {@code posWeight} (PyTorch's {@code pos_weight}:
 * one per entry of the last axis, scaling only the positive term), {@code targetWeights(neg, pos)}
 * (one pair per entry of the last axis: the element's weight is {@code y pos + (1 - y) neg}, a
 * weight that depends on the label), and per-call {@code weights} ([N] one per sample, or one per
 * element).
 *
 * <p>{@link Reduction#MEAN} divides by {@link Normalisation}: the element count (PyTorch's mean),
 * the sum of the weights, or per row (the first axis) {@code sum(w l) / sum(w)} then the mean over
 * rows. The RSNA 2022 cervical metric, weights 1 / 2 for a vertebra's negative / positive label and
 * 7 / 14 for patient_overall, averaged per exam:
 *
 * <pre>{@code
 * new BinaryCrossEntropy()
 *     .withTargetWeights(new double[] {1, 1, 1, 1, 1, 1, 1, 7},
 *                        new double[] {2, 2, 2, 2, 2, 2, 2, 14})
 *     .withNormalisation(BinaryCrossEntropy.Normalisation.ROW_WEIGHTS)
 * }</pre>
 *
 * applied to logits and labels [exams, 8] (C1..C7, patient_overall). Immutable.
 */
public final class BinaryCrossEntropy implements Loss {
  /** What {@link Reduction#MEAN} divides by. */
  public enum Normalisation {
    /** The number of elements: {@code mean(w l)}, PyTorch's mean. */
    COUNT,
    /** The sum of the weights: {@code sum(w l) / sum(w)} (0 when the weights sum to 0). */
    WEIGHTS,
    /** Per row (first axis) {@code sum(w l) / sum(w)}, then the mean over the rows. */
    ROW_WEIGHTS
  }

  private final double[] posWeight;
  private final double[] negTargetWeights;
  private final double[] posTargetWeights;
  private final Reduction reduction;
  private final Normalisation normalisation;

  /** Unweighted mean, as PyTorch's default. */
  public BinaryCrossEntropy() {
    this(null, null, null, Reduction.MEAN, Normalisation.COUNT);
  }

  private BinaryCrossEntropy(
      double[] posWeight, double[] neg, double[] pos, Reduction r, Normalisation n) {
    this.posWeight = posWeight;
    this.negTargetWeights = neg;
    this.posTargetWeights = pos;
    this.reduction = r;
    this.normalisation = n;
  }

  /** PyTorch's {@code pos_weight}: one value per entry of the last axis (or one for all). */
  public BinaryCrossEntropy withPosWeight(double... weights) {
    return new BinaryCrossEntropy(
        LossChecks.nonNegative(weights, "posWeight"),
        negTargetWeights,
        posTargetWeights,
        reduction,
        normalisation);
  }

  /**
   * Label-dependent element weights {@code y pos[k] + (1 - y) neg[k]}, k the index on the last
   * axis; both arrays of the same length (or one value for all).
   */
  public BinaryCrossEntropy withTargetWeights(double[] neg, double[] pos) {
    double[] n = LossChecks.nonNegative(neg, "targetWeights.neg");
    double[] p = LossChecks.nonNegative(pos, "targetWeights.pos");
    if (n == null || p == null || n.length != p.length) {
      throw new IllegalArgumentException(
          "targetWeights: expected two arrays of the same length,"
              + " got "
              + (n == null ? "null" : n.length)
              + " and "
              + (p == null ? "null" : p.length));
    }
    return new BinaryCrossEntropy(posWeight, n, p, reduction, normalisation);
  }

  public BinaryCrossEntropy withReduction(Reduction r) {
    if (r == null) throw new IllegalArgumentException("reduction: expected a value, got null");
    return new BinaryCrossEntropy(posWeight, negTargetWeights, posTargetWeights, r, normalisation);
  }

  public BinaryCrossEntropy withNormalisation(Normalisation n) {
    if (n == null) {
      throw new IllegalArgumentException("normalisation: expected a value, got null");
    }
    return new BinaryCrossEntropy(posWeight, negTargetWeights, posTargetWeights, reduction, n);
  }

  public Reduction reduction() {
    return reduction;
  }

  public Normalisation normalisation() {
    return normalisation;
  }

  @Override
  public Tensor apply(Tensor prediction, Tensor target) {
    return apply(prediction, target, null);
  }

  /**
   * @param prediction logits [N, ...]
   * @param target labels in [0, 1], the prediction's shape
   * @param weights null, [N], or the prediction's shape
   */
  public Tensor apply(Tensor prediction, Tensor target, Tensor weights) {
    LossChecks.prediction(prediction, "prediction", 1, "logits [N, ...]");
    long[] ps = Checks.shape(prediction);
    long last = ps[ps.length - 1];
    lastAxis(posWeight, "posWeight", last);
    lastAxis(negTargetWeights, "targetWeights", last);
    if (reduction == Reduction.MEAN
        && normalisation == Normalisation.ROW_WEIGHTS
        && ps.length < 2) {
      throw new IllegalArgumentException(
          "prediction: ROW_WEIGHTS needs rows [N, K, ...], got"
              + " shape "
              + Checks.shapeString(prediction));
    }
    try (PointerScope scope = new PointerScope()) {
      Tensor y = LossChecks.dense(target, "target", prediction);
      Tensor s = LossChecks.weights(weights, "weights", prediction, ps);
      Tensor pw = posWeight == null ? null : LossChecks.vector(posWeight, prediction);
      Tensor per =
          torch.binary_cross_entropy_with_logits(
              prediction,
              y,
              new TensorOptional(),
              pw == null ? new TensorOptional() : new TensorOptional(pw),
              0);
      Tensor w = s;
      if (negTargetWeights != null) {
        Tensor neg = LossChecks.vector(negTargetWeights, prediction);
        Tensor pos = LossChecks.vector(posTargetWeights, prediction);
        // y pos + (1 - y) neg = neg + y (pos - neg)
        Tensor tw = y.mul(pos.sub(neg)).add(neg);
        w = w == null ? tw : w.mul(tw);
      }
      Tensor wl = w == null ? per : per.mul(w);
      Tensor out;
      switch (reduction) {
        case NONE:
          out = wl;
          break;
        case SUM:
          out = wl.sum();
          break;
        default:
          out = mean(wl, w, per);
      }
      return Outputs.handOut(scope, out);
    }
  }

  private Tensor mean(Tensor wl, Tensor w, Tensor per) {
    // Without weights all three are the plain mean (rows hold equal counts).
    if (w == null || normalisation == Normalisation.COUNT) return wl.mean();
    Tensor wf = w.expand_as(per);
    if (normalisation == Normalisation.WEIGHTS) return Means.safeDivide(wl.sum(), wf.sum());
    long rows = per.size(0);
    return Means.safeDivide(wl.reshape(rows, -1).sum(1), wf.reshape(rows, -1).sum(1)).mean();
  }

  private static void lastAxis(double[] a, String name, long last) {
    if (a != null && a.length != 1 && a.length != last) {
      throw new IllegalArgumentException(
          name
              + ": expected "
              + last
              + " values (one per entry"
              + " of the prediction's last axis) or 1, got "
              + a.length);
    }
  }
}
