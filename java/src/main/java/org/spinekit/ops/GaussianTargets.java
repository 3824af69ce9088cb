package org.spinekit.ops;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.spinekit.internal.jni.Kernels;
import org.spinekit.tensor.Checks;
import org.spinekit.tensor.Outputs;

/**
 * Gaussian target heatmaps from points: for each point (x, y[, z]) in pixels, exp(-|c - point|^2 /
 * (2 sigma^2)) over the grid, optionally normalised to sum to 1 (the target distribution of the
 * heatmap loss). A point with a NaN or infinite coordinate means "no target" and gives a map of
 * zeros.
 *
 * <p>float32 points are rendered by the native kernel (CPU or CUDA); float64 points (the losses'
 * double-precision path) by libtorch ops in float64, with the same separable form: one table per
 * axis, each shifted by its maximum so that a point far outside the grid still gives a
 * distribution, not 0 / 0.
 */
public final class GaussianTargets {
  private GaussianTargets() {}

  /**
   * @param points float32 or float64 [N, K, 2] (x, y) or [N, K, 3] (x, y, z), pixel units
   * @param size spatial size {H, W} for 2D points or {D, H, W} for 3D
   * @return [N, K, H, W] or [N, K, D, H, W] of the dtype and on the device of {@code points}
   */
  public static Tensor render(Tensor points, long[] size, double sigma, boolean normalize) {
    Checks.defined(points, "points");
    boolean f64 = points.scalar_type().value == ScalarType.Double.value;
    Checks.tensor(points, "points", f64 ? ScalarType.Double : ScalarType.Float, null);
    Checks.rank(points, "points", 3);
    int ndim = (int) points.size(2);
    if (ndim != 2 && ndim != 3) {
      throw new IllegalArgumentException(
          "points: expected last dimension 2 (x, y) or 3"
              + " (x, y, z), got "
              + Checks.shapeString(points));
    }
    if (size == null || size.length != ndim) {
      throw new IllegalArgumentException(
          "size: expected "
              + ndim
              + " values ("
              + (ndim == 2 ? "H, W" : "D, H, W")
              + ") for points of shape "
              + Checks.shapeString(points)
              + ", got "
              + java.util.Arrays.toString(size));
    }
    for (long v : size) {
      if (v <= 0) {
        throw new IllegalArgumentException(
            "size: expected positive sizes, got " + java.util.Arrays.toString(size));
      }
    }
    Checks.positive(sigma, "sigma");
    long n = points.size(0), k = points.size(1);
    long d = ndim == 3 ? size[0] : 1, h = size[ndim - 2], w = size[ndim - 1];
    Spatial sp = new Spatial(n, k, d, h, w, ndim);
    if (f64) return separable(points, sp, sigma, normalize);
    try (PointerScope scope = new PointerScope()) {
      Tensor out = points.new_empty(sp.mapShape(k));
      Kernels.gaussianRender(points, n * k, d, h, w, ndim, (float) sigma, normalize, out);
      return Outputs.handOut(scope, out);
    }
  }

  /** The float64 path: per-axis tables [N, K, L] and their outer product. */
  private static Tensor separable(Tensor points, Spatial sp, double sigma, boolean normalize) {
    try (PointerScope scope = new PointerScope()) {
      long n = points.size(0), k = points.size(1);
      int ndim = (int) points.size(2);
      Tensor finite = points.isfinite().all(-1); // [N, K]
      Tensor p = torch.where(finite.unsqueeze(-1), points, torch.zeros_like(points));
      long[] lengths =
          ndim == 2 ? new long[] {sp.w(), sp.h()} : new long[] {sp.w(), sp.h(), sp.d()};
      Tensor map = null;
      for (int a = ndim - 1; a >= 0; a--) { // z, y, x: the outer product in memory order
        Tensor grid =
            torch
                .arange(new Scalar(lengths[a]), new TensorOptions(ScalarType.Double))
                .to(points.device(), ScalarType.Double);
        Tensor diff = grid.view(1, 1, -1).sub(p.select(2, a).unsqueeze(-1));
        Tensor logit = diff.mul(diff).div(new Scalar(-2.0 * sigma * sigma));
        if (normalize) logit = logit.sub(logit.amax(new long[] {-1}, true));
        Tensor axis = logit.exp(); // [N, K, L]
        map =
            map == null
                ? axis
                : map.unsqueeze(-1).mul(axis.view(n, k, 1, lengths[a])).reshape(n, k, -1);
      }
      if (normalize) map = map.div(map.sum(new long[] {-1}, true, new ScalarTypeOptional()));
      map = map.mul(finite.unsqueeze(-1).to(ScalarType.Double));
      return Outputs.handOut(scope, map.reshape(sp.mapShape(k)));
    }
  }
}
