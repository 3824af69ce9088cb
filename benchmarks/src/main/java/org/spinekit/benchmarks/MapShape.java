package org.spinekit.benchmarks;

import java.util.Arrays;

/**
 * A heatmap batch shape as the benchmarks take it: "NxKxHxW" (2D) or "NxKxDxHxW" (3D).
 *
 * @param d 1 for 2D maps
 * @param ndim 2 or 3 coordinates per point
 */
record MapShape(long n, long k, long d, long h, long w, int ndim) {
  static MapShape parse(String text) {
    String[] parts = text.trim().split("x");
    if (parts.length != 4 && parts.length != 5) {
      throw new IllegalArgumentException(
          "shape: expected NxKxHxW or NxKxDxHxW, got '" + text + "'");
    }
    long[] v = new long[parts.length];
    for (int i = 0; i < parts.length; i++) {
      try {
        v[i] = Long.parseLong(parts[i]);
      } catch (NumberFormatException e) {
        v[i] = -1;
      }
      if (v[i] <= 0) {
        throw new IllegalArgumentException(
            "shape: expected positive integer sizes NxKxHxW or" + " NxKxDxHxW, got '" + text + "'");
      }
    }
    return v.length == 4
        ? new MapShape(v[0], v[1], 1, v[2], v[3], 2)
        : new MapShape(v[0], v[1], v[2], v[3], v[4], 3);
  }

  /** Spatial elements per map. */
  long s() {
    return d * h * w;
  }

  /** {H, W} or {D, H, W}. */
  long[] spatial() {
    return ndim == 2 ? new long[] {h, w} : new long[] {d, h, w};
  }

  /** [N, channels, ...spatial]. */
  long[] map(long channels) {
    long[] sp = spatial();
    long[] out = new long[2 + sp.length];
    out[0] = n;
    out[1] = channels;
    System.arraycopy(sp, 0, out, 2, sp.length);
    return out;
  }

  @Override
  public String toString() {
    return Arrays.toString(map(k));
  }
}
