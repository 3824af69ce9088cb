package org.spinekit.loss;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.spinekit.ops.HeadLoss;
import org.spinekit.ops.NonFinitePolicy;
import org.spinekit.tensor.Checks;
import org.spinekit.tensor.Outputs;

/**
 * The fused lumbar head loss ({@link HeadLoss}: heatmap JS divergence + weighted NLL of the
 * heatmap-pooled grades, values and gradients from one native kernel) as a {@link Loss}.
 *
 * <p>The value returned is an ordinary autograd tensor: {@code L + (S - detach(S))} with {@code S =
 * sum(heat * dL/dheat) + sum(grade * dL/dgrade)} built from the kernel's gradients. Its value is
 * exactly the kernel's {@code L} (the bracket is exactly zero) and its gradient w.r.t. heat and
 * grade is exactly the kernel's; so it can be summed, weighted and back-propagated like any other
 * loss. It is not twice differentiable.
 *
 * <p>Inputs are float32 (the kernel's type). Non-finite heat or grade logits throw {@link
 * org.spinekit.ops.NonFiniteInputException} under the default {@link NonFinitePolicy#THROW}, unlike
 * the libtorch losses of this package, which propagate NaN.
 *
 * <p>As a two-argument {@link Loss}: the prediction packs heat and grade logits along the channel
 * axis ([N, K + C, ...spatial], heat first, C = the number of class weights), the target packs
 * points and grades ([N, K, ndim + 1] float: x, y[, z] in pixels of the map, then the grade index
 * as a float, -1 for none; a NaN coordinate = no point).
 */
public final class FusedHeadLoss implements Loss {
  private final HeadLoss fused;
  private final NonFinitePolicy policy;

  public FusedHeadLoss(HeadLoss fused) {
    this(fused, NonFinitePolicy.THROW);
  }

  public FusedHeadLoss(HeadLoss fused, NonFinitePolicy policy) {
    if (fused == null) throw new IllegalArgumentException("fused: expected a HeadLoss, got null");
    if (policy == null) {
      throw new IllegalArgumentException("policy: expected a NonFinitePolicy, got null");
    }
    this.fused = fused;
    this.policy = policy;
  }

  public HeadLoss headLoss() {
    return fused;
  }

  /**
   * @param heat float32 heat logits [N, K, H, W] or [N, K, D, H, W] (a graph output)
   * @param grade float32 grade logits [N, C, ...spatial]
   * @param points float32 [N, K, 2|3]
   * @param grades int64 [N, K], -1 = no label
   * @return the scalar loss, differentiable w.r.t. heat and grade
   */
  public Tensor apply(Tensor heat, Tensor grade, Tensor points, Tensor grades) {
    Checks.defined(heat, "heat");
    Checks.defined(grade, "grade");
    try (PointerScope scope = new PointerScope()) {
      Tensor h = heat.detach().contiguous();
      Tensor g = grade.detach().contiguous();
      try (HeadLoss.Result r = fused.compute(h, g, points, grades, false, policy)) {
        Tensor s = heat.mul(r.gradHeat).sum().add(grade.mul(r.gradGrade).sum());
        Tensor out = s.sub(s.detach()).add(r.losses.select(0, 0));
        return Outputs.handOut(scope, out);
      }
    }
  }

  @Override
  public Tensor apply(Tensor prediction, Tensor target) {
    LossChecks.prediction(prediction, "prediction", 4, "packed logits [N, K + C, ...spatial]");
    Checks.defined(target, "target");
    long c = fused.classWeights().length;
    if (target.dim() != 3) {
      throw new IllegalArgumentException(
          "target: expected packed points and grades [N, K,"
              + " ndim + 1], got shape "
              + Checks.shapeString(target));
    }
    long k = target.size(1);
    if (prediction.size(1) != k + c) {
      throw new IllegalArgumentException(
          "prediction: expected "
              + (k + c)
              + " channels (K = "
              + k
              + " heatmaps from the target, then C = "
              + c
              + " grade classes), got shape "
              + Checks.shapeString(prediction));
    }
    long ndim = target.size(2) - 1;
    if (ndim != prediction.dim() - 2) {
      throw new IllegalArgumentException(
          "target: expected [N, K, "
              + (prediction.dim() - 1)
              + "] (points of a "
              + (prediction.dim() - 2)
              + "D map, then the grade), got shape "
              + Checks.shapeString(target));
    }
    if (!target.is_floating_point()) {
      throw new IllegalArgumentException(
          "target: expected float32 points and grades, got " + target.scalar_type());
    }
    try (PointerScope scope = new PointerScope()) {
      Tensor heat = prediction.narrow(1, 0, k);
      Tensor grade = prediction.narrow(1, k, c);
      Tensor pts = target.narrow(2, 0, ndim).contiguous();
      Tensor gf = target.select(2, ndim);
      if (!gf.eq(gf.round()).all().item_bool()) {
        throw new IllegalArgumentException(
            "target: expected whole-number grades in the last"
                + " column, got a fractional or NaN value");
      }
      Tensor grades = gf.to(ScalarType.Long).contiguous();
      Tensor out = apply(heat, grade, pts.to(ScalarType.Float), grades);
      return Outputs.handOut(scope, out);
    }
  }
}
