package org.spinekit.ops;

import org.spinekit.io.Volume;

/**
 * Straightforward Java loops over a {@link Volume}: the double-precision references of the
 * resampling kernels (source coordinates in float32, as the kernels and torch compute them).
 */
final class StackReference {
  private StackReference() {}

  static double window(double v, Window w) {
    if (w == null || Double.isNaN(v)) return v;
    return (Math.min(Math.max(v, w.low()), w.high()) - w.low()) / w.width();
  }

  /** One plane: slice z, crop [y0, y0 + ch) x [x0, x0 + cw), resized to oh x ow. */
  static double[] plane(
      Volume v, long z, long y0, long x0, long ch, long cw, double pad, Window w, int oh, int ow) {
    double[] out = new double[oh * ow];
    for (int oy = 0; oy < oh; oy++) {
      long[] ty = tap(oy, oh, ch);
      double ly = Double.longBitsToDouble(ty[2]);
      for (int ox = 0; ox < ow; ox++) {
        long[] tx = tap(ox, ow, cw);
        double lx = Double.longBitsToDouble(tx[2]);
        double a = at(v, z, y0 + ty[0], x0 + tx[0], pad, w);
        double b = at(v, z, y0 + ty[0], x0 + tx[1], pad, w);
        double c = at(v, z, y0 + ty[1], x0 + tx[0], pad, w);
        double d = at(v, z, y0 + ty[1], x0 + tx[1], pad, w);
        out[oy * ow + ox] = (1 - ly) * ((1 - lx) * a + lx * b) + ly * ((1 - lx) * c + lx * d);
      }
    }
    return out;
  }

  /** (i0, i1, bits of lambda) of output index d; align_corners = false. */
  static long[] tap(int d, int out, long in) {
    float s = (d + 0.5f) * ((float) in / (float) out) - 0.5f;
    if (s < 0) s = 0;
    long i0 = Math.min((long) Math.floor(s), in - 1);
    double l = s - i0;
    long i1 = l > 0 ? Math.min(i0 + 1, in - 1) : i0;
    return new long[] {i0, i1, Double.doubleToLongBits(l)};
  }

  static double at(Volume v, long z, long y, long x, double pad, Window w) {
    if (z < 0 || z >= v.slices() || y < 0 || y >= v.rows() || x < 0 || x >= v.columns()) {
      return window(pad, w);
    }
    return window(v.value((int) z, (int) y, (int) x), w);
  }

  /** [S, 2k+1, oh, ow] of the stacking, flattened. */
  static double[] stack(Volume v, int k, int stride, int oh, int ow, Window w) {
    int s = v.slices(), c = 2 * k + 1;
    double[] out = new double[s * c * oh * ow];
    for (int i = 0; i < s; i++) {
      for (int j = 0; j < c; j++) {
        int z = Math.max(0, Math.min(s - 1, i + (j - k) * stride));
        double[] p = plane(v, z, 0, 0, v.rows(), v.columns(), 0, w, oh, ow);
        System.arraycopy(p, 0, out, (i * c + j) * oh * ow, p.length);
      }
    }
    return out;
  }

  /** Nearest labels [S, oh, ow] (cv2 INTER_NEAREST). */
  static long[] nearest(Volume v, int oh, int ow) {
    long[] out = new long[v.slices() * oh * ow];
    for (int z = 0; z < v.slices(); z++) {
      for (int oy = 0; oy < oh; oy++) {
        int sy = Math.min((int) Math.floor(oy * ((float) v.rows() / oh)), v.rows() - 1);
        for (int ox = 0; ox < ow; ox++) {
          int sx = Math.min((int) Math.floor(ox * ((float) v.columns() / ow)), v.columns() - 1);
          out[(z * oh + oy) * ow + ox] = (long) v.value(z, sy, sx);
        }
      }
    }
    return out;
  }
}
