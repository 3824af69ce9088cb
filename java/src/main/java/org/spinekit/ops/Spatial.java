package org.spinekit.ops;

import org.bytedeco.pytorch.Tensor;
import org.spinekit.tensor.Checks;

/** The spatial extent of a [N, K, H, W] or [N, K, D, H, W] map. */
record Spatial(long n, long k, long d, long h, long w, int ndim) {
  long s() {
    return d * h * w;
  }

  long[] coordShape() {
    return new long[] {n, k, ndim};
  }

  static Spatial of(Tensor t, String name) {
    Checks.rank(t, name, 4, 5);
    if (t.dim() == 4) return new Spatial(t.size(0), t.size(1), 1, t.size(2), t.size(3), 2);
    return new Spatial(t.size(0), t.size(1), t.size(2), t.size(3), t.size(4), 3);
  }

  long[] mapShape(long channels) {
    return ndim == 2 ? new long[] {n, channels, h, w} : new long[] {n, channels, d, h, w};
  }

  String axes() {
    return ndim == 2 ? "[N, K, H, W]" : "[N, K, D, H, W]";
  }
}
