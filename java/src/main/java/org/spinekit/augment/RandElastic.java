package org.spinekit.augment;

import java.util.SplittableRandom;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.spinekit.internal.jni.Warp;
import org.spinekit.tensor.Outputs;
import org.spinekit.tensor.Tensors;

/**
 * Elastic deformation, as albumentations' ElasticTransform (approximate = False) with alpha_affine:
 * first a random affine map A that moves the three points (cx+s, cy+s), (cx+s, cy-s), (cx-s, cy-s)
 * (c = the centre (W/2, H/2) in whole pixels, s = min(H, W)/3 in whole pixels) by
 * uniform(-alphaAffine, alphaAffine) each coordinate; then a displacement field d = alpha * G_sigma
 * * U, U uniform in [-1, 1] per pixel (x field then y field), G_sigma the Gaussian of
 * scipy.ndimage.gaussian_filter (truncate 4, mirrored border). Output pixel q reads the source at
 * A^-1 (q + d(q)), in one bilinear pass (the albumentations pipeline interpolates twice), constant
 * border 0.
 *
 * <p>Keypoints: a source point p goes to the q with q + d(q) = A p, found by the fixed-point
 * iteration q = A p - d(q) with d interpolated bilinearly; it converges whenever the field's
 * gradient is below 1 (with alpha = 1, sigma = 50 it is below 1e-3) and is run to 1e-9 px.
 */
public final class RandElastic extends RandTransform {
  private final double alpha;
  private final double sigma;
  private final double alphaAffine;

  public RandElastic(double alpha, double sigma, double alphaAffine, double p) {
    super(p);
    nonNegative(alpha, "alpha");
    if (!(sigma > 0) || Double.isInfinite(sigma)) {
      throw new IllegalArgumentException("sigma: expected a finite value > 0, got " + sigma);
    }
    nonNegative(alphaAffine, "alphaAffine");
    this.alpha = alpha;
    this.sigma = sigma;
    this.alphaAffine = alphaAffine;
  }

  /** SPEC.md: alpha 1, sigma 50, alpha_affine 50 (p = 0.5 as albumentations). */
  public static RandElastic defaults() {
    return new RandElastic(1, 50, 50, 0.5);
  }

  /** The affine part and the displacement fields drawn for an h x w image. */
  static final class Draw {
    final double[] affine;
    final float[] dx;
    final float[] dy;

    Draw(double[] affine, float[] dx, float[] dy) {
      this.affine = affine;
      this.dx = dx;
      this.dy = dy;
    }
  }

  Draw draw(SplittableRandom rng, long h, long w) {
    try (PointerScope scope = new PointerScope()) {
      return draw(rng, h, w, Tensors.of(new float[1], 1));
    }
  }

  /** As {@link #draw(SplittableRandom, long, long)}; the fields' tensors made like {@code like}. */
  Draw draw(SplittableRandom rng, long h, long w, Tensor like) {
    // Integer halves and third, as albumentations' shape // 2 and min(shape) // 3.
    double cx = Math.floorDiv(w, 2), cy = Math.floorDiv(h, 2), s = Math.floorDiv(Math.min(h, w), 3);
    double[][] src = {{cx + s, cy + s}, {cx + s, cy - s}, {cx - s, cy - s}};
    double[][] dst = new double[3][2];
    for (int i = 0; i < 3; i++) {
      for (int j = 0; j < 2; j++) dst[i][j] = src[i][j] + uniform(rng, -alphaAffine, alphaAffine);
    }
    double[] a = affineFromPoints(src, dst);
    float[] dx = field(rng, h, w, like);
    float[] dy = field(rng, h, w, like);
    return new Draw(a, dx, dy);
  }

  private float[] field(SplittableRandom rng, long h, long w, Tensor like) {
    float[] u = new float[(int) (h * w)];
    for (int i = 0; i < u.length; i++) u[i] = (float) (rng.nextDouble() * 2 - 1);
    try (PointerScope scope = new PointerScope()) {
      Tensor in = Warps.floats(like, u, h, w);
      Tensor out = in.new_empty(h, w);
      Warp.gaussianBlur(in, h, w, sigma, 4.0, out);
      out.data_ptr_float().get(u);
    }
    for (int i = 0; i < u.length; i++) u[i] = (float) (u[i] * alpha);
    return u;
  }

  /** The affine matrix taking the three src points to the dst points (getAffineTransform). */
  static double[] affineFromPoints(double[][] src, double[][] dst) {
    double[] m = new double[6];
    double x0 = src[0][0], y0 = src[0][1], x1 = src[1][0], y1 = src[1][1];
    double x2 = src[2][0], y2 = src[2][1];
    double det = x0 * (y1 - y2) - y0 * (x1 - x2) + (x1 * y2 - x2 * y1);
    for (int r = 0; r < 2; r++) {
      double b0 = dst[0][r], b1 = dst[1][r], b2 = dst[2][r];
      // Cramer's rule on [x y 1] [a b c]^T = b.
      m[3 * r] = (b0 * (y1 - y2) - y0 * (b1 - b2) + (b1 * y2 - b2 * y1)) / det;
      m[3 * r + 1] = (x0 * (b1 - b2) - b0 * (x1 - x2) + (x1 * b2 - x2 * b1)) / det;
      m[3 * r + 2] =
          (x0 * (y1 * b2 - y2 * b1) - y0 * (x1 * b2 - x2 * b1) + b0 * (x1 * y2 - x2 * y1)) / det;
    }
    return m;
  }

  /** The sampling maps {map_x, map_y} of a draw. */
  static float[][] maps(Draw d, long h, long w) {
    double[] inv = Warps.invert(d.affine);
    final double a = inv[0], b = inv[1], c = inv[2], e = inv[3], f = inv[4], g = inv[5];
    final int hi = (int) h, wi = (int) w;
    final float[] dx = d.dx, dy = d.dy;
    float[] mx = new float[hi * wi];
    float[] my = new float[mx.length];
    // Int indices and the matrix in locals, so that the JIT vectorises the row (the same
    // double operations, in the same order, as one pixel at a time).
    for (int v = 0; v < hi; v++) {
      final int row = v * wi;
      for (int u = 0; u < wi; u++) {
        int i = row + u;
        double qx = u + dx[i], qy = v + dy[i]; // float sums, as before
        mx[i] = (float) (a * qx + b * qy + c);
        my[i] = (float) (e * qx + f * qy + g);
      }
    }
    return new float[][] {mx, my};
  }

  /** Bilinear value of field f [h, w] at (x, y), edges repeated. */
  static double sample(float[] f, long h, long w, double x, double y) {
    x = Math.min(Math.max(x, 0), w - 1);
    y = Math.min(Math.max(y, 0), h - 1);
    int x0 = (int) Math.min(Math.floor(x), Math.max(w - 2, 0));
    int y0 = (int) Math.min(Math.floor(y), Math.max(h - 2, 0));
    int x1 = (int) Math.min(x0 + 1, w - 1), y1 = (int) Math.min(y0 + 1, h - 1);
    double fx = x - x0, fy = y - y0;
    return (1 - fy) * ((1 - fx) * f[(int) (y0 * w + x0)] + fx * f[(int) (y0 * w + x1)])
        + fy * ((1 - fx) * f[(int) (y1 * w + x0)] + fx * f[(int) (y1 * w + x1)]);
  }

  /** Output position of source point (x, y) under a draw. */
  static double[] forward(Draw d, long h, long w, double x, double y) {
    double[] a = d.affine;
    double rx = a[0] * x + a[1] * y + a[2], ry = a[3] * x + a[4] * y + a[5];
    double qx = rx, qy = ry;
    for (int it = 0; it < 200; it++) {
      double nx = rx - sample(d.dx, h, w, qx, qy);
      double ny = ry - sample(d.dy, h, w, qx, qy);
      boolean done = Math.abs(nx - qx) < 1e-9 && Math.abs(ny - qy) < 1e-9;
      qx = nx;
      qy = ny;
      if (done) break;
    }
    return new double[] {qx, qy};
  }

  @Override
  public Sample force(Sample s, SplittableRandom rng) {
    long h = s.height(), w = s.width();
    Draw d = draw(rng, h, w, s.image());
    Keypoints k = s.keypoints();
    if (k != null) {
      double[] nx = new double[k.size()];
      double[] ny = new double[k.size()];
      for (int i = 0; i < k.size(); i++) {
        double[] q = forward(d, h, w, k.x(i), k.y(i));
        nx[i] = q[0];
        ny[i] = q[1];
      }
      k = k.moved(nx, ny, false, h, w);
    }
    try (PointerScope scope = new PointerScope()) {
      // The maps of maps(d, h, w), bit for bit, written by the native kernel.
      Tensor mx = s.image().new_empty(h, w);
      Tensor my = s.image().new_empty(h, w);
      Warp.elasticMaps(
          Warps.floats(s.image(), d.dx, h, w),
          Warps.floats(s.image(), d.dy, h, w),
          h,
          w,
          Warps.invert(d.affine),
          mx,
          my);
      Sample out = Warps.remap(s, mx, my, k);
      return new Sample(Outputs.handOut(scope, out.image()), Outputs.handOut(scope, out.mask()), k);
    }
  }
}
