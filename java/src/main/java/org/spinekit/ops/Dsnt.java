package org.spinekit.ops;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.spinekit.internal.jni.Kernels;
import org.spinekit.tensor.Checks;
import org.spinekit.tensor.Outputs;

/**
 * Differentiable spatial to numerical transform (Nibali et al. 2018) over 2D [N, K, H, W] or 3D [N,
 * K, D, H, W] heatmap logits: a softmax over the spatial extent of each (n, k), and the expected
 * coordinates (x, y[, z]) under it, in pixels (0 .. size-1) and normalised ((2i + 1) / size - 1,
 * the dsntnn convention).
 *
 * <p>libtorch cannot take a custom autograd function from Java, so training code calls {@link
 * #forward} on detached logits and later {@link Result#backward} (or {@link #backward}) with the
 * gradients of whatever used the outputs; the result feeds {@code torch.backward(logits, grad)}.
 */
public final class Dsnt {
  private Dsnt() {}

  /** Outputs of {@link #forward}; the tensors belong to the caller. */
  public static final class Result implements AutoCloseable {
    /** Softmax probabilities, shape of the logits. */
    public final Tensor probs;

    /** [N, K, 2|3] pixel coordinates (x, y[, z]). */
    public final Tensor coords;

    /** [N, K, 2|3] normalised coordinates in (-1, 1). */
    public final Tensor coordsNorm;

    private final Spatial sp;

    Result(Tensor probs, Tensor coords, Tensor coordsNorm, Spatial sp) {
      this.probs = probs;
      this.coords = coords;
      this.coordsNorm = coordsNorm;
      this.sp = sp;
    }

    /**
     * Gradient w.r.t. the logits from the gradients w.r.t. the outputs (each may be null = zero).
     */
    public Tensor backward(Tensor gradCoords, Tensor gradCoordsNorm, Tensor gradProbs) {
      return Dsnt.backward(this, gradCoords, gradCoordsNorm, gradProbs);
    }

    @Override
    public void close() {
      probs.close();
      coords.close();
      coordsNorm.close();
    }
  }

  /** {@link #forward(Tensor, NonFinitePolicy)} with {@link NonFinitePolicy#THROW}. */
  public static Result forward(Tensor logits) {
    return forward(logits, NonFinitePolicy.THROW);
  }

  /**
   * @param logits float32, contiguous, CPU or CUDA, [N, K, H, W] or [N, K, D, H, W]
   * @throws IllegalArgumentException for a wrong rank, dtype, layout or an empty tensor
   * @throws NonFiniteInputException under THROW when a row has no softmax
   */
  public static Result forward(Tensor logits, NonFinitePolicy policy) {
    Checks.defined(logits, "logits");
    Spatial sp = Spatial.of(logits, "logits");
    Checks.tensor(logits, "logits", ScalarType.Float, null);
    try (PointerScope scope = new PointerScope()) {
      Tensor probs = logits.new_empty(Checks.shape(logits));
      Tensor coords = logits.new_empty(sp.coordShape());
      Tensor norm = logits.new_empty(sp.coordShape());
      Kernels.Status st =
          Kernels.dsntForward(
              logits,
              sp.n() * sp.k(),
              sp.d(),
              sp.h(),
              sp.w(),
              sp.ndim(),
              probs,
              coords,
              norm,
              policy == NonFinitePolicy.THROW);
      if (policy == NonFinitePolicy.THROW && !st.ok()) {
        throw nonFiniteRow("logits", st.info(), sp);
      }
      return new Result(
          Outputs.handOut(scope, probs),
          Outputs.handOut(scope, coords),
          Outputs.handOut(scope, norm),
          sp);
    }
  }

  static NonFiniteInputException nonFiniteRow(String name, long row, Spatial sp) {
    return new NonFiniteInputException(
        name
            + ": row [n="
            + row / sp.k()
            + ", k="
            + row % sp.k()
            + "] holds NaN or +inf or is -inf everywhere; its spatial softmax is undefined",
        row);
  }

  /** Backward of {@link #forward}: the gradient w.r.t. the logits. */
  public static Tensor backward(
      Result fwd, Tensor gradCoords, Tensor gradCoordsNorm, Tensor gradProbs) {
    Spatial sp = fwd.sp;
    Tensor probs = fwd.probs;
    Checks.tensor(probs, "probs", ScalarType.Float, null);
    long[] cs = sp.coordShape();
    if (gradCoords != null) {
      Checks.tensor(gradCoords, "gradCoords", ScalarType.Float, probs);
      Checks.shapeEquals(gradCoords, "gradCoords", cs);
    }
    if (gradCoordsNorm != null) {
      Checks.tensor(gradCoordsNorm, "gradCoordsNorm", ScalarType.Float, probs);
      Checks.shapeEquals(gradCoordsNorm, "gradCoordsNorm", cs);
    }
    if (gradProbs != null) {
      Checks.tensor(gradProbs, "gradProbs", ScalarType.Float, probs);
      Checks.shapeEquals(gradProbs, "gradProbs", Checks.shape(probs));
    }
    try (PointerScope scope = new PointerScope()) {
      Tensor grad = probs.new_empty(Checks.shape(probs));
      Kernels.dsntBackward(
          probs,
          fwd.coords,
          gradCoords,
          gradCoordsNorm,
          gradProbs,
          sp.n() * sp.k(),
          sp.d(),
          sp.h(),
          sp.w(),
          sp.ndim(),
          grad);
      return Outputs.handOut(scope, grad);
    }
  }
}
