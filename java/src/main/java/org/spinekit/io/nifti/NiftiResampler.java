package org.spinekit.io.nifti;

import java.util.Arrays;
import org.spinekit.io.Volume;

/**
 * Puts a {@link NiftiImage}'s values on a {@link Volume}'s grid: an exact reindex when the
 * voxel-to-voxel map is an axis permutation with flips and whole-voxel offsets, nearest neighbour
 * otherwise.
 */
final class NiftiResampler {
  private NiftiResampler() {}

  /** How far (in image voxels) the map may stray from a reindex over the grid and still be one. */
  static final double REINDEX_TOLERANCE = 1e-3;

  /**
   * The map from reference voxel (slice, row, column, 1) to continuous image voxel (i, j, k, 1):
   * inverse image affine x (LPS to RAS) x reference affine.
   */
  static double[][] voxelMap(NiftiImage image, Volume reference) {
    double[][] inv = NiftiAffines.invert(image.affineRas());
    if (inv == null) {
      throw new IllegalStateException(
          "image affine "
              + Arrays.deepToString(image.affineRas())
              + " is singular: its voxels have no place to map to");
    }
    double[][] ref = reference.affine();
    for (int c = 0; c < 4; c++) {
      ref[0][c] = -ref[0][c];
      ref[1][c] = -ref[1][c];
    }
    return NiftiAffines.multiply(inv, ref);
  }

  /**
   * For each reference axis (slice, row, column): the image axis it runs along, its sign and the
   * image index of reference index 0; null when the map is not such a reindex.
   */
  static int[][] reindex(double[][] m, int[] refSize) {
    int[][] plan = new int[3][3];
    boolean[] used = new boolean[3];
    for (int c = 0; c < 3; c++) {
      int axis = -1;
      for (int r = 0; r < 3; r++) {
        double x = Math.rint(m[r][c]);
        if (x != 0 && x != 1 && x != -1) return null;
        if (x != 0) {
          if (axis >= 0 || used[r]) return null;
          axis = r;
        }
      }
      if (axis < 0) return null;
      used[axis] = true;
      plan[c][0] = axis;
      plan[c][1] = (int) Math.rint(m[axis][c]);
    }
    double[] t = new double[3];
    for (int r = 0; r < 3; r++) {
      t[r] = Math.rint(m[r][3]);
      if (Math.abs(t[r]) > 1e9) return null;
    }
    // An affine map strays most from the reindex at a corner of the grid.
    for (int corner = 0; corner < 8; corner++) {
      double[] p = new double[3];
      for (int c = 0; c < 3; c++) p[c] = ((corner >> c) & 1) == 0 ? 0 : refSize[c] - 1;
      for (int r = 0; r < 3; r++) {
        double exact = m[r][3] + m[r][0] * p[0] + m[r][1] * p[1] + m[r][2] * p[2];
        double re = t[r];
        for (int c = 0; c < 3; c++) {
          if (plan[c][0] == r) re += plan[c][1] * p[c];
        }
        if (!(Math.abs(exact - re) <= REINDEX_TOLERANCE)) return null;
      }
    }
    for (int c = 0; c < 3; c++) plan[c][2] = (int) t[plan[c][0]];
    return plan;
  }

  static Volume resample(NiftiImage img, Volume ref) {
    double[][] m = voxelMap(img, ref);
    int[] refSize = {ref.slices(), ref.rows(), ref.columns()};
    int[] imgSize = {img.nx(), img.ny(), img.nz()};
    long[] imgStride = {1, img.nx(), (long) img.nx() * img.ny()};
    boolean labels = img.fitsInt16();
    int count = (int) ref.voxelCount();
    short[] shorts = labels ? new short[count] : null;
    float[] floats = labels ? null : new float[count];
    int[][] plan = reindex(m, refSize);
    if (plan != null) {
      // Image offset contributed by each reference index along each axis; -1 when outside.
      long[][] part = new long[3][];
      for (int c = 0; c < 3; c++) {
        part[c] = new long[refSize[c]];
        int axis = plan[c][0];
        for (int x = 0; x < refSize[c]; x++) {
          long idx = plan[c][2] + (long) plan[c][1] * x;
          part[c][x] = idx >= 0 && idx < imgSize[axis] ? idx * imgStride[axis] : -1;
        }
      }
      int out = 0;
      for (int s = 0; s < refSize[0]; s++) {
        long ps = part[0][s];
        for (int r = 0; r < refSize[1]; r++) {
          long pr = part[1][r];
          boolean rowInside = ps >= 0 && pr >= 0;
          for (int c = 0; c < refSize[2]; c++, out++) {
            long pc = part[2][c];
            if (rowInside && pc >= 0) {
              double v = img.scaledAt((int) (ps + pr + pc));
              if (labels) {
                shorts[out] = (short) v;
              } else {
                floats[out] = (float) v;
              }
            }
          }
        }
      }
    } else {
      int out = 0;
      double[] p = new double[3];
      for (int s = 0; s < refSize[0]; s++) {
        for (int r = 0; r < refSize[1]; r++) {
          for (int c = 0; c < refSize[2]; c++, out++) {
            long linear = 0;
            boolean inside = true;
            for (int a = 0; a < 3 && inside; a++) {
              p[a] = m[a][3] + m[a][0] * s + m[a][1] * r + m[a][2] * c;
              double idx = Math.floor(p[a] + 0.5);
              if (!(idx >= 0 && idx < imgSize[a])) {
                inside = false;
              } else {
                linear += ((long) idx) * imgStride[a];
              }
            }
            if (inside) {
              double v = img.scaledAt((int) linear);
              if (labels) {
                shorts[out] = (short) v;
              } else {
                floats[out] = (float) v;
              }
            }
          }
        }
      }
    }
    Volume.Builder b = Volume.builder(ref.slices(), ref.rows(), ref.columns());
    double[] sp = ref.spacing();
    double[] o = ref.origin();
    b.spacing(sp[0], sp[1], sp[2])
        .origin(o[0], o[1], o[2])
        .orientation(ref.rowDirection(), ref.columnDirection())
        .sliceDirection(ref.sliceDirection());
    if (labels) {
      b.shorts(shorts, true, 1, 0);
    } else {
      b.floats(floats);
    }
    return b.build();
  }
}
