package org.spinekit.ops;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.spinekit.internal.jni.Kernels;
import org.spinekit.tensor.Checks;
import org.spinekit.tensor.Outputs;
import org.spinekit.tensor.Tensors;

/**
 * The fused loss of the lumbar one-stage head, in one native call: heatmap softmax, Gaussian
 * targets (rendered inside the kernel), Jensen-Shannon divergence, grade softmax, heatmap pooling,
 * weighted NLL of the pooled grades, DSNT coordinates, and the gradients of the loss w.r.t. both
 * logit tensors. The exact definition is in native/include/spinekit/head_loss.h; {@link
 * Composite#headLoss} is the same loss composed from libtorch ops.
 *
 * <p>Training: compute the head's logits, call {@link #compute}, then {@link
 * Result#backward(Tensor, Tensor)} with the same logit tensors; libtorch's autograd carries the
 * kernel's gradients into the encoder.
 */
public final class HeadLoss {
  private final double sigma;
  private final double jsWeight;
  private final double nllWeight;
  private final float[] classWeights;

  /** sigma of the Gaussian targets in pixels; class weights 1, 2, 4; both losses weight 1. */
  public HeadLoss(double sigma) {
    this(sigma, 1.0, 1.0, new float[] {1f, 2f, 4f});
  }

  public HeadLoss(double sigma, double jsWeight, double nllWeight, float[] classWeights) {
    Checks.positive(sigma, "sigma");
    Checks.finite(jsWeight, "jsWeight");
    Checks.finite(nllWeight, "nllWeight");
    if (classWeights == null || classWeights.length == 0) {
      throw new IllegalArgumentException(
          "classWeights: expected one weight per grade class," + " got none");
    }
    for (float w : classWeights) {
      if (!(w >= 0) || Float.isInfinite(w)) {
        throw new IllegalArgumentException(
            "classWeights: expected finite weights >= 0, got "
                + java.util.Arrays.toString(classWeights));
      }
    }
    this.sigma = sigma;
    this.jsWeight = jsWeight;
    this.nllWeight = nllWeight;
    this.classWeights = classWeights.clone();
  }

  public double sigma() {
    return sigma;
  }

  public double jsWeight() {
    return jsWeight;
  }

  public double nllWeight() {
    return nllWeight;
  }

  public float[] classWeights() {
    return classWeights.clone();
  }

  /** Outputs of {@link #compute}; the tensors belong to the caller. */
  public static final class Result implements AutoCloseable {
    /** [3]: loss, JS, NLL (on the logits' device). */
    public final Tensor losses;

    /** [N, K, 2|3] DSNT coordinates in pixels. */
    public final Tensor coords;

    /** [N, K, C] pooled grade probabilities. */
    public final Tensor pooled;

    /** Heatmap probabilities (shape of heat), or null when not asked for. */
    public final Tensor probs;

    /** d loss / d heat logits. */
    public final Tensor gradHeat;

    /** d loss / d grade logits. */
    public final Tensor gradGrade;

    Result(
        Tensor losses,
        Tensor coords,
        Tensor pooled,
        Tensor probs,
        Tensor gradHeat,
        Tensor gradGrade) {
      this.losses = losses;
      this.coords = coords;
      this.pooled = pooled;
      this.probs = probs;
      this.gradHeat = gradHeat;
      this.gradGrade = gradGrade;
    }

    private float at(int i) {
      try (PointerScope scope = new PointerScope()) {
        Tensor host = losses.is_cuda() ? losses.cpu() : losses;
        return host.data_ptr_float().get(i);
      }
    }

    /** jsWeight * JS + nllWeight * NLL (waits for the kernel on CUDA). */
    public float loss() {
      return at(0);
    }

    public float js() {
      return at(1);
    }

    public float nll() {
      return at(2);
    }

    /**
     * Feeds the kernel's gradients into libtorch autograd: {@code heat} and {@code grade} must be
     * the logit tensors passed to {@link #compute} (graph outputs of the model).
     */
    public void backward(Tensor heat, Tensor grade) {
      try (PointerScope scope = new PointerScope()) {
        torch.backward(
            new TensorVector(heat, grade),
            new TensorVector(gradHeat, gradGrade),
            new BoolOptional(),
            false,
            new TensorVector());
      }
    }

    @Override
    public void close() {
      for (Tensor t : new Tensor[] {losses, coords, pooled, probs, gradHeat, gradGrade}) {
        if (t != null) t.close();
      }
    }
  }

  /** {@link #compute(Tensor, Tensor, Tensor, Tensor, boolean, NonFinitePolicy)}, no probs. */
  public Result compute(Tensor heat, Tensor grade, Tensor points, Tensor targets) {
    return compute(heat, grade, points, targets, false, NonFinitePolicy.THROW);
  }

  /**
   * @param heat float32 heat logits [N, K, H, W] or [N, K, D, H, W]
   * @param grade float32 grade logits [N, C, H, W] or [N, C, D, H, W], C = classWeights.length
   * @param points float32 [N, K, 2|3] target points (x, y[, z]) in pixels of the heat map; NaN = no
   *     point for that level
   * @param targets int64 [N, K] grade in [0, C), or -1 = no grade label
   * @param keepProbs also return the heatmap probabilities
   */
  public Result compute(
      Tensor heat,
      Tensor grade,
      Tensor points,
      Tensor targets,
      boolean keepProbs,
      NonFinitePolicy policy) {
    Checks.defined(heat, "heat");
    Spatial sp = Spatial.of(heat, "heat");
    Checks.tensor(heat, "heat", ScalarType.Float, null);
    long c = classWeights.length;
    Checks.tensor(grade, "grade", ScalarType.Float, heat);
    Checks.shapeEquals(grade, "grade", sp.mapShape(c));
    Checks.tensor(points, "points", ScalarType.Float, heat);
    Checks.shapeEquals(points, "points", sp.coordShape());
    Checks.tensor(targets, "targets", ScalarType.Long, heat);
    Checks.shapeEquals(targets, "targets", sp.n(), sp.k());
    try (PointerScope scope = new PointerScope()) {
      Tensor weights = Tensors.of(classWeights, c);
      if (heat.is_cuda()) weights = weights.to(heat.device(), ScalarType.Float);
      Tensor losses = heat.new_empty(3);
      Tensor coords = heat.new_empty(sp.coordShape());
      Tensor pooled = heat.new_empty(sp.n(), sp.k(), c);
      Tensor probs = keepProbs ? heat.new_empty(Checks.shape(heat)) : null;
      Tensor gradHeat = heat.new_empty(Checks.shape(heat));
      Tensor gradGrade = grade.new_empty(Checks.shape(grade));
      Kernels.Status st =
          Kernels.headLoss(
              heat,
              grade,
              points,
              targets,
              weights,
              sp.n(),
              sp.k(),
              c,
              sp.d(),
              sp.h(),
              sp.w(),
              sp.ndim(),
              (float) sigma,
              (float) jsWeight,
              (float) nllWeight,
              1f,
              losses,
              coords,
              pooled,
              probs,
              gradHeat,
              gradGrade,
              policy == NonFinitePolicy.THROW || !heat.is_cuda());
      switch (st.code()) {
        case Kernels.OK:
          break;
        case Kernels.NONFINITE_HEAT:
          if (policy == NonFinitePolicy.THROW) throw Dsnt.nonFiniteRow("heat", st.info(), sp);
          break;
        case Kernels.NONFINITE_GRADE:
          if (policy == NonFinitePolicy.THROW) {
            long s = sp.s();
            throw new NonFiniteInputException(
                "grade: pixel [n="
                    + st.info() / s
                    + ", s="
                    + st.info() % s
                    + "] holds NaN or +inf or is -inf in every class;"
                    + " its grade softmax is undefined",
                st.info());
          }
          break;
        case Kernels.BAD_TARGET:
          throw new IllegalArgumentException(
              "targets: expected grades in [-1, "
                  + c
                  + "), got an out-of-range value at [n="
                  + st.info() / sp.k()
                  + ", k="
                  + st.info() % sp.k()
                  + "]");
        default:
          throw new IllegalStateException("head loss kernel returned status " + st.code());
      }
      return new Result(
          Outputs.handOut(scope, losses),
          Outputs.handOut(scope, coords),
          Outputs.handOut(scope, pooled),
          Outputs.handOut(scope, probs),
          Outputs.handOut(scope, gradHeat),
          Outputs.handOut(scope, gradGrade));
    }
  }
}
