package org.spinekit.ops;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.spinekit.tensor.Tensors;

/**
 * The computations of the native kernels composed from libtorch ops, differentiable by libtorch
 * autograd. They define what the kernels must compute (tests compare values and gradients against
 * them) and what the kernels replace (benchmarks run both side by side). Temporaries attach to the
 * caller's {@link org.bytedeco.javacpp.PointerScope}.
 */
public final class Composite {
  private Composite() {}

  /** Pixel-coordinate grid [S, ndim] of a map (dtype and device of {@code like}): x, y[, z]. */
  public static Tensor grid(Tensor like, long d, long h, long w, int ndim) {
    TensorOptions opts = new TensorOptions(ScalarType.Float);
    ScalarType type = like.scalar_type();
    Tensor xs = torch.arange(new Scalar(w), opts).to(like.device(), type);
    Tensor ys = torch.arange(new Scalar(h), opts).to(like.device(), type);
    Tensor zs = torch.arange(new Scalar(d), opts).to(like.device(), type);
    Tensor gx = xs.view(1, 1, w).expand(d, h, w).reshape(-1);
    Tensor gy = ys.view(1, h, 1).expand(d, h, w).reshape(-1);
    if (ndim == 2) return torch.stack(new org.bytedeco.pytorch.TensorVector(gx, gy), 1);
    Tensor gz = zs.view(d, 1, 1).expand(d, h, w).reshape(-1);
    return torch.stack(new org.bytedeco.pytorch.TensorVector(gx, gy, gz), 1);
  }

  /** Spatial softmax of [N, K, ...spatial] logits, as [N, K, S]. */
  public static Tensor spatialSoftmax(Tensor logits) {
    return logits.reshape(logits.size(0), logits.size(1), -1).softmax(-1);
  }

  /** DSNT: probabilities [N, K, S] -> pixel coordinates [N, K, ndim]. */
  public static Tensor dsntCoords(Tensor probs, long d, long h, long w, int ndim) {
    return probs.matmul(grid(probs, d, h, w, ndim));
  }

  /** Normalised coordinates (2 px + 1) / size - 1 from pixel ones. */
  public static Tensor normalise(Tensor coords, long d, long h, long w, int ndim) {
    float[] size = ndim == 2 ? new float[] {w, h} : new float[] {w, h, d};
    Tensor sz = Tensors.of(size, ndim).to(coords.device(), ScalarType.Float);
    return coords.mul(new Scalar(2.0)).add(new Scalar(1.0)).div(sz).sub(new Scalar(1.0));
  }

  /** Heatmap pooling [N, K, S] x [N, C, S] -> [N, K, C] as one batched matmul. */
  public static Tensor heatmapPool(Tensor heat, Tensor grade) {
    Tensor h = heat.reshape(heat.size(0), heat.size(1), -1);
    Tensor g = grade.reshape(grade.size(0), grade.size(1), -1);
    return torch.bmm(h, g.transpose(1, 2));
  }

  /** Rows of points [N, K, ndim] whose coordinates are all finite, as float [N, K]. */
  public static Tensor pointMask(Tensor points) {
    return points.abs().lt(new Scalar(Float.MAX_VALUE)).all(-1).to(ScalarType.Float);
  }

  /** Gaussian targets [N, K, S]: normalised (sum 1) or not; rows without a finite point are 0. */
  public static Tensor gaussian(
      Tensor points, long d, long h, long w, int ndim, double sigma, boolean normalise) {
    long n = points.size(0), k = points.size(1);
    Tensor mask = pointMask(points);
    Tensor pts =
        points.nan_to_num(
            new org.bytedeco.pytorch.DoubleOptional(0.0),
            new org.bytedeco.pytorch.DoubleOptional(0.0),
            new org.bytedeco.pytorch.DoubleOptional(0.0));
    Tensor g = grid(points, d, h, w, ndim); // [S, ndim]
    Tensor diff = g.view(1, 1, -1, ndim).sub(pts.view(n, k, 1, ndim));
    Tensor logit =
        diff.mul(diff)
            .sum(new long[] {-1}, false, new org.bytedeco.pytorch.ScalarTypeOptional())
            .div(new Scalar(-2.0 * sigma * sigma));
    Tensor t = normalise ? logit.softmax(-1) : logit.exp();
    return t.mul(mask.unsqueeze(2));
  }

  /** The three losses of {@link #headLoss}. */
  public record HeadLossTerms(Tensor loss, Tensor js, Tensor nll, Tensor coords, Tensor pooled) {}

  /**
   * The one-stage head loss of native/include/spinekit/head_loss.h from libtorch ops; it is
   * differentiable w.r.t. heat and grade.
   */
  public static HeadLossTerms headLoss(
      Tensor heat,
      Tensor grade,
      Tensor points,
      Tensor targets,
      float[] classWeights,
      double sigma,
      double jsWeight,
      double nllWeight) {
    long n = heat.size(0), k = heat.size(1), c = grade.size(1);
    int ndim = (int) points.size(2);
    long d = ndim == 3 ? heat.size(2) : 1;
    long h = heat.size(heat.dim() - 2), w = heat.size(heat.dim() - 1);
    Scalar eps = new Scalar(1e-8);
    Tensor p = spatialSoftmax(heat);
    Tensor t = gaussian(points, d, h, w, ndim, sigma, true).detach();
    Tensor mask = pointMask(points);
    Tensor m = p.add(t).mul(new Scalar(0.5));
    Tensor lm = m.clamp_min(eps).log();
    Tensor kp = p.mul(p.clamp_min(eps).log().sub(lm));
    Tensor kt = t.mul(t.clamp_min(eps).log().sub(lm));
    Tensor jsRows =
        kp.add(kt)
            .mul(new Scalar(0.5))
            .sum(new long[] {-1}, false, new org.bytedeco.pytorch.ScalarTypeOptional());
    Tensor js = jsRows.mul(mask).sum().div(mask.sum().clamp_min(new Scalar(1.0)));
    Tensor q = grade.reshape(n, c, -1).softmax(1);
    Tensor pooled = torch.bmm(p, q.transpose(1, 2));
    Tensor logPool = pooled.clamp_min(new Scalar(1e-5)).log();
    Tensor valid = targets.ge(new Scalar(0L));
    Tensor y = targets.clamp_min(new Scalar(0L));
    Tensor ly = logPool.gather(2, y.unsqueeze(2)).squeeze(2);
    Tensor wts = Tensors.of(classWeights, classWeights.length).to(heat.device(), ScalarType.Float);
    Tensor wy = wts.index_select(0, y.reshape(-1)).view(n, k).mul(valid.to(ScalarType.Float));
    Tensor nll = wy.mul(ly).sum().neg().div(wy.sum().clamp_min(new Scalar(1e-30)));
    Tensor loss = js.mul(new Scalar(jsWeight)).add(nll.mul(new Scalar(nllWeight)));
    Tensor coords = dsntCoords(p, d, h, w, ndim);
    return new HeadLossTerms(loss, js, nll, coords, pooled);
  }
}
