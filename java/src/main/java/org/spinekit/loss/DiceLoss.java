package org.spinekit.loss;

import java.util.Arrays;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.spinekit.tensor.Checks;
import org.spinekit.tensor.Outputs;
import org.spinekit.tensor.Tensors;

/**
 * Soft Dice loss on logits, as segmentation_models_pytorch's {@code DiceLoss(mode,
 * from_logits=True)} in its {@code multiclass} and {@code multilabel} modes.
 *
 * <p>{@link Mode#MULTICLASS}: prediction logits [N, C, ...spatial], softmax over C; target class
 * indices [N, ...spatial] (one-hot encoded inside). {@link Mode#MULTILABEL}: prediction logits [N,
 * C, ...spatial], sigmoid per channel; target labels of the same shape.
 *
 * <p>Per class c, summed over the batch and the spatial axes together: {@code score_c = (2 sum(p t)
 * + smooth) / max(sum(p + t) + smooth, eps)}; loss {@code 1 - score_c} (or {@code -log(max(score_c,
 * eps))} with log loss), set to 0 for a class with no target pixel in the whole batch. The result
 * is the mean over the selected classes (all by default; {@link #withoutBackground} drops class 0,
 * {@link #withClasses} picks any), absent classes counting as 0 in that mean. So a batch whose
 * masks are all background gives 0 (and zero gradient) without background, and {@code (1 - score_0)
 * / C} with it. Pixels whose target equals the ignore index (if set) are zeroed in both prediction
 * and target. Defaults as smp: smooth 0, eps 1e-7. Immutable.
 */
public final class DiceLoss implements Loss {
  /** Softmax with class-index targets, or sigmoid with per-channel labels. */
  public enum Mode {
    MULTICLASS,
    MULTILABEL
  }

  private final Mode mode;
  private final double smooth;
  private final double eps;
  private final int[] classes;
  private final boolean dropBackground;
  private final Long ignoreIndex;
  private final boolean logLoss;

  private DiceLoss(
      Mode mode,
      double smooth,
      double eps,
      int[] classes,
      boolean dropBackground,
      Long ignoreIndex,
      boolean logLoss) {
    this.mode = mode;
    this.smooth = smooth;
    this.eps = eps;
    this.classes = classes;
    this.dropBackground = dropBackground;
    this.ignoreIndex = ignoreIndex;
    this.logLoss = logLoss;
  }

  /** Dice over the softmax of [N, C, ...] logits against class indices [N, ...]. */
  public static DiceLoss multiclass() {
    return new DiceLoss(Mode.MULTICLASS, 0, 1e-7, null, false, null, false);
  }

  /** Dice over the sigmoid of [N, C, ...] logits against labels of the same shape. */
  public static DiceLoss multilabel() {
    return new DiceLoss(Mode.MULTILABEL, 0, 1e-7, null, false, null, false);
  }

  /** Added to the numerator and denominator (finite, >= 0). */
  public DiceLoss withSmooth(double s) {
    if (!(s >= 0) || Double.isInfinite(s)) {
      throw new IllegalArgumentException("smooth: expected a finite value >= 0, got " + s);
    }
    return new DiceLoss(mode, s, eps, classes, dropBackground, ignoreIndex, logLoss);
  }

  /** Lower bound of the denominator (and of the score under log loss), > 0. */
  public DiceLoss withEps(double e) {
    if (!(e > 0) || Double.isInfinite(e)) {
      throw new IllegalArgumentException("eps: expected a finite value > 0, got " + e);
    }
    return new DiceLoss(mode, smooth, e, classes, dropBackground, ignoreIndex, logLoss);
  }

  /** Only these classes enter the mean (smp's {@code classes}). */
  public DiceLoss withClasses(int... c) {
    if (c == null || c.length == 0) {
      throw new IllegalArgumentException("classes: expected at least one class index, got none");
    }
    for (int x : c) {
      if (x < 0) {
        throw new IllegalArgumentException(
            "classes: expected indices >= 0, got " + Arrays.toString(c));
      }
    }
    return new DiceLoss(mode, smooth, eps, c.clone(), false, ignoreIndex, logLoss);
  }

  /** Classes 1 .. C-1 enter the mean (class 0 is background). */
  public DiceLoss withoutBackground() {
    return new DiceLoss(mode, smooth, eps, null, true, ignoreIndex, logLoss);
  }

  /** Target pixels equal to {@code index} do not count. */
  public DiceLoss withIgnoreIndex(long index) {
    return new DiceLoss(mode, smooth, eps, classes, dropBackground, index, logLoss);
  }

  /** {@code -log(score)} instead of {@code 1 - score}. */
  public DiceLoss withLogLoss(boolean on) {
    return new DiceLoss(mode, smooth, eps, classes, dropBackground, ignoreIndex, on);
  }

  public Mode mode() {
    return mode;
  }

  @Override
  public Tensor apply(Tensor prediction, Tensor target) {
    LossChecks.prediction(prediction, "prediction", 2, "logits [N, C, ...spatial]");
    long n = prediction.size(0);
    long c = prediction.size(1);
    int[] selected = selected(c);
    try (PointerScope scope = new PointerScope()) {
      Tensor p;
      Tensor t;
      if (mode == Mode.MULTICLASS) {
        long[] ps = Checks.shape(prediction);
        long[] ts = new long[ps.length - 1];
        ts[0] = ps[0];
        System.arraycopy(ps, 2, ts, 1, ps.length - 2);
        Tensor y = LossChecks.classIndices(target, "target", prediction, ts);
        LossChecks.classRange(y, "target", c, ignoreIndex);
        p = torch.log_softmax(prediction, 1).exp().reshape(n, c, -1);
        y = y.reshape(n, -1);
        if (ignoreIndex != null) {
          Tensor keep = y.ne(new Scalar(ignoreIndex.longValue()));
          p = p.mul(keep.unsqueeze(1));
          t = torch.one_hot(y.mul(keep), c).permute(0, 2, 1).mul(keep.unsqueeze(1));
        } else {
          t = torch.one_hot(y, c).permute(0, 2, 1);
        }
        t = t.to(prediction.scalar_type());
      } else {
        Tensor y = LossChecks.dense(target, "target", prediction).reshape(n, c, -1);
        p = torch.logsigmoid(prediction).exp().reshape(n, c, -1);
        if (ignoreIndex != null) {
          Tensor keep = y.ne(new Scalar((double) ignoreIndex.longValue()));
          p = p.mul(keep);
          y = y.mul(keep);
        }
        t = y;
      }
      Tensor inter = p.mul(t).sum(0, 2);
      Tensor card = p.add(t).sum(0, 2);
      Tensor score =
          inter
              .mul(new Scalar(2.0))
              .add(new Scalar(smooth))
              .div(card.add(new Scalar(smooth)).clamp_min(new Scalar(eps)));
      Tensor loss =
          logLoss ? score.clamp_min(new Scalar(eps)).log().neg() : score.neg().add(new Scalar(1.0));
      loss = loss.mul(t.sum(0, 2).gt(new Scalar(0.0)).to(loss.scalar_type()));
      if (selected != null) {
        long[] idx = new long[selected.length];
        for (int i = 0; i < idx.length; i++) idx[i] = selected[i];
        Tensor sel = Tensors.of(idx, idx.length).to(prediction.device(), ScalarType.Long);
        loss = loss.index_select(0, sel);
      }
      return Outputs.handOut(scope, loss.mean());
    }
  }

  private int[] selected(long c) {
    if (dropBackground) {
      if (c < 2) {
        throw new IllegalArgumentException(
            "prediction: without background needs >= 2 classes," + " got " + c);
      }
      int[] s = new int[(int) c - 1];
      for (int i = 0; i < s.length; i++) s[i] = i + 1;
      return s;
    }
    if (classes != null) {
      for (int x : classes) {
        if (x >= c) {
          throw new IllegalArgumentException(
              "classes: expected indices in [0, " + c + "), got " + Arrays.toString(classes));
        }
      }
    }
    return classes;
  }
}
