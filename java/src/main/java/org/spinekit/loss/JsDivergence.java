package org.spinekit.loss;

import java.util.Arrays;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.spinekit.ops.GaussianTargets;
import org.spinekit.tensor.Checks;
import org.spinekit.tensor.Outputs;

/**
 * Jensen-Shannon divergence between predicted spatial heatmaps and target heatmaps, the heatmap
 * loss of the lumbar one-stage model, 2D or 3D.
 *
 * <p>Prediction: heatmap logits [N, K, H, W] or [N, K, D, H, W]; {@code p} is their softmax over
 * the spatial extent of each (n, k) row. Target, either a target distribution of the prediction's
 * shape (each row summing to 1; a row of zeros has no target), or points [N, K, 2|3] (x, y[, z]) in
 * pixels from which normalised Gaussian targets of {@link #sigma()} are rendered ({@link
 * GaussianTargets#render}; a point with a NaN coordinate has no target).
 *
 * <p>Per row r with target {@code t}: {@code m = (p + t) / 2}, {@code js_r = 0.5 sum p (log max(p,
 * eps) - log max(m, eps)) + 0.5 sum t (log max(t, eps) - log max(m, eps))}, eps = 1e-8
 * (probabilities clamped before the logs). The loss is the batch mean over the rows that have a
 * target: {@code sum js_r / (number of such rows)} (PyTorch's {@code kl_div(...,
 * reduction='batchmean')} on the [N*K, S] rows), 0 when no row has one. This is the JS term of the
 * fused {@link org.spinekit.ops.HeadLoss} (native/include/spinekit/head_loss.h). Gradients flow to
 * the prediction only; the target is treated as data. Immutable.
 */
public final class JsDivergence implements Loss {
  private final double sigma;
  private final double eps;

  /** Gaussian targets of {@code sigma} pixels when the target is points; eps 1e-8. */
  public JsDivergence(double sigma) {
    this(sigma, 1e-8);
  }

  public JsDivergence(double sigma, double eps) {
    if (!(sigma > 0) || Double.isInfinite(sigma)) {
      throw new IllegalArgumentException("sigma: expected a finite value > 0, got " + sigma);
    }
    if (!(eps > 0) || Double.isInfinite(eps)) {
      throw new IllegalArgumentException("eps: expected a finite value > 0, got " + eps);
    }
    this.sigma = sigma;
    this.eps = eps;
  }

  public double sigma() {
    return sigma;
  }

  public double eps() {
    return eps;
  }

  @Override
  public Tensor apply(Tensor prediction, Tensor target) {
    LossChecks.prediction(
        prediction, "prediction", 4, "heatmap logits [N, K, H, W] or" + " [N, K, D, H, W]");
    if (prediction.dim() > 5) {
      throw new IllegalArgumentException(
          "prediction: expected heatmap logits [N, K, H, W] or"
              + " [N, K, D, H, W], got shape "
              + Checks.shapeString(prediction));
    }
    long n = prediction.size(0);
    long k = prediction.size(1);
    int ndim = (int) prediction.dim() - 2;
    Checks.defined(target, "target");
    long[] pointShape = {n, k, ndim};
    boolean points = Arrays.equals(Checks.shape(target), pointShape);
    if (!points && !Arrays.equals(Checks.shape(target), Checks.shape(prediction))) {
      throw new IllegalArgumentException(
          "target: expected a target distribution of shape "
              + Checks.shapeString(prediction)
              + " or points "
              + Arrays.toString(pointShape)
              + ", got "
              + Checks.shapeString(target));
    }
    try (PointerScope scope = new PointerScope()) {
      Tensor t;
      if (points) {
        if (!target.is_floating_point()) {
          throw new IllegalArgumentException(
              "target: expected floating-point points, got " + target.scalar_type());
        }
        LossChecks.sameDevice(target, "target", prediction);
        long[] size = new long[ndim];
        for (int i = 0; i < ndim; i++) size[i] = prediction.size(2 + i);
        // float64 predictions get float64 targets; every other dtype float32 ones, cast.
        ScalarType rt =
            prediction.scalar_type().value == ScalarType.Double.value
                ? ScalarType.Double
                : ScalarType.Float;
        Tensor pts = target.to(rt).contiguous();
        t =
            GaussianTargets.render(pts, size, sigma, true)
                .reshape(n, k, -1)
                .to(prediction.scalar_type());
      } else {
        t = LossChecks.dense(target, "target", prediction).reshape(n, k, -1);
      }
      t = t.detach();
      Scalar e = new Scalar(eps);
      Tensor p = prediction.reshape(n, k, -1).softmax(-1);
      Tensor lm = p.add(t).mul(new Scalar(0.5)).clamp_min(e).log();
      Tensor kp = p.mul(p.clamp_min(e).log().sub(lm));
      Tensor kt = t.mul(t.clamp_min(e).log().sub(lm));
      Tensor rows = kp.add(kt).sum(-1).mul(new Scalar(0.5));
      Tensor has = t.sum(-1).gt(new Scalar(0.0)).to(prediction.scalar_type());
      Tensor js = Means.safeDivide(rows.mul(has).sum(), has.sum());
      return Outputs.handOut(scope, js);
    }
  }
}
