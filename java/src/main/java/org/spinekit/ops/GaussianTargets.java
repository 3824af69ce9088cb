package org.spinekit.ops;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.spinekit.jni.Kernels;

/**
 * Gaussian target heatmaps from points: for each point (x, y[, z]) in pixels,
 * exp(-|c - point|^2 / (2 sigma^2)) over the grid, optionally normalised to sum to 1 (the
 * target distribution of the heatmap loss). A point with a NaN or infinite coordinate means
 * "no target" and gives a map of zeros.
 */
public final class GaussianTargets {
  private GaussianTargets() {}

  /**
   * @param points float32 [N, K, 2] (x, y) or [N, K, 3] (x, y, z), pixel units
   * @param size spatial size {H, W} for 2D points or {D, H, W} for 3D
   * @return [N, K, H, W] or [N, K, D, H, W] on the device of {@code points}
   */
  public static Tensor render(Tensor points, long[] size, double sigma, boolean normalize) {
    Checks.tensor(points, "points", ScalarType.Float, null);
    Checks.rank(points, "points", 3);
    int ndim = (int) points.size(2);
    if (ndim != 2 && ndim != 3) {
      throw new IllegalArgumentException("points: expected last dimension 2 (x, y) or 3"
          + " (x, y, z), got " + Checks.shapeString(points));
    }
    if (size == null || size.length != ndim) {
      throw new IllegalArgumentException("size: expected " + ndim + " values ("
          + (ndim == 2 ? "H, W" : "D, H, W") + ") for points of shape "
          + Checks.shapeString(points) + ", got " + java.util.Arrays.toString(size));
    }
    for (long v : size) {
      if (v <= 0) {
        throw new IllegalArgumentException("size: expected positive sizes, got "
            + java.util.Arrays.toString(size));
      }
    }
    Checks.positive(sigma, "sigma");
    long n = points.size(0), k = points.size(1);
    long d = ndim == 3 ? size[0] : 1, h = size[ndim - 2], w = size[ndim - 1];
    Spatial sp = new Spatial(n, k, d, h, w, ndim);
    try (PointerScope scope = new PointerScope()) {
      Tensor out = points.new_empty(sp.mapShape(k));
      Kernels.gaussianRender(points, n * k, d, h, w, ndim, (float) sigma, normalize, out);
      return Outputs.handOut(scope, out);
    }
  }
}
