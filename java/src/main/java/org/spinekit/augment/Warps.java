package org.spinekit.augment;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.spinekit.internal.jni.Warp;
import org.spinekit.tensor.Outputs;

/** The warps of a whole sample through the native kernels; 2x3 matrices are row major. */
final class Warps {
  private Warps() {}

  /** A new float32 [h, w] tensor holding {@code a} (one copy), on the device of {@code like}. */
  static Tensor floats(Tensor like, float[] a, long h, long w) {
    Tensor t = like.new_empty(h, w);
    t.data_ptr_float().put(a, 0, a.length);
    return t;
  }

  /** The inverse of the affine map m (x' = A x + t). */
  static double[] invert(double[] m) {
    double det = m[0] * m[4] - m[1] * m[3];
    if (!(Math.abs(det) > 1e-12) || !Double.isFinite(det)) {
      throw new IllegalArgumentException(
          "matrix: expected an invertible affine matrix, got" + " determinant " + det);
    }
    double a = m[4] / det, b = -m[1] / det, c = -m[3] / det, d = m[0] / det;
    return new double[] {a, b, -(a * m[2] + b * m[5]), c, d, -(c * m[2] + d * m[5])};
  }

  /** The sample under the forward matrix m into an ho x wo frame. */
  static Sample affine(Sample s, double[] m, long ho, long wo, int border) {
    double[] inv = invert(m);
    try (PointerScope scope = new PointerScope()) {
      long c = s.channels(), h = s.height(), w = s.width();
      Tensor img = s.image().new_empty(c, ho, wo);
      Warp.warpAffineBilinear(s.image(), c, h, w, inv, ho, wo, border, img);
      Tensor mask = null;
      if (s.mask() != null) {
        mask = s.mask().new_empty(ho, wo);
        Warp.warpAffineNearest(
            s.mask(), Sample.elementSize(s.mask()), h, w, inv, ho, wo, border, mask);
      }
      Keypoints k = s.keypoints() == null ? null : s.keypoints().affine(m, ho, wo);
      return new Sample(Outputs.handOut(scope, img), Outputs.handOut(scope, mask), k);
    }
  }

  /** Image and mask through the sampling maps [h, w] (same frame); keypoints as given. */
  static Sample remap(Sample s, float[] mapX, float[] mapY, Keypoints moved) {
    try (PointerScope scope = new PointerScope()) {
      long h = s.height(), w = s.width();
      Sample out = remap(s, floats(s.image(), mapX, h, w), floats(s.image(), mapY, h, w), moved);
      return new Sample(
          Outputs.handOut(scope, out.image()), Outputs.handOut(scope, out.mask()), moved);
    }
  }

  /** As {@link #remap(Sample, float[], float[], Keypoints)} with the maps as tensors. */
  static Sample remap(Sample s, Tensor mx, Tensor my, Keypoints moved) {
    try (PointerScope scope = new PointerScope()) {
      long c = s.channels(), h = s.height(), w = s.width();
      Tensor img = s.image().new_empty(c, h, w);
      Warp.remapBilinear(s.image(), c, h, w, mx, my, h, w, Warp.BORDER_CONSTANT, img);
      Tensor mask = null;
      if (s.mask() != null) {
        mask = s.mask().new_empty(h, w);
        Warp.remapNearest(
            s.mask(), Sample.elementSize(s.mask()), h, w, mx, my, h, w, Warp.BORDER_CONSTANT, mask);
      }
      return new Sample(Outputs.handOut(scope, img), Outputs.handOut(scope, mask), moved);
    }
  }
}
