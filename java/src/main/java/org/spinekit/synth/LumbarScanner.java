package org.spinekit.synth;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.spinekit.io.SeriesInfo;
import org.spinekit.io.Volume;

/**
 * Samples a {@link LumbarPhantom} on the grid of one MR series: the noise-free signal at each pixel
 * centre, shaded by the receive coil, blurred slightly in plane (a 3x3 binomial kernel, the
 * scanner's point-spread), then magnitude (Rician) noise, stored as UINT16 with slope 1 and
 * intercept 0.
 */
public final class LumbarScanner {
  private LumbarScanner() {}

  /**
   * Where a series' voxels lie: sizes, (row, column, slice) spacing in mm, the patient position of
   * voxel (0, 0, 0) and the unit direction of increasing column, row and slice index, as in {@link
   * Volume}.
   */
  public record Grid(
      int slices,
      int rows,
      int columns,
      double rowSpacing,
      double columnSpacing,
      double sliceSpacing,
      double[] origin,
      double[] rowDirection,
      double[] columnDirection,
      double[] sliceDirection) {
    public Grid {
      if (slices < 1 || rows < 2 || columns < 2) {
        throw new IllegalArgumentException(
            "grid: expected at least 1 slice and 2x2 pixels, got "
                + slices
                + "x"
                + rows
                + "x"
                + columns);
      }
      origin = origin.clone();
      rowDirection = rowDirection.clone();
      columnDirection = columnDirection.clone();
      sliceDirection = sliceDirection.clone();
    }

    @Override
    public double[] origin() {
      return origin.clone();
    }

    @Override
    public double[] rowDirection() {
      return rowDirection.clone();
    }

    @Override
    public double[] columnDirection() {
      return columnDirection.clone();
    }

    @Override
    public double[] sliceDirection() {
      return sliceDirection.clone();
    }

    /** Patient position (LPS mm) of a continuous index. */
    public double[] toPatient(double slice, double row, double column) {
      double[] p = new double[3];
      for (int a = 0; a < 3; a++) {
        p[a] =
            origin[a]
                + column * columnSpacing * rowDirection[a]
                + row * rowSpacing * columnDirection[a]
                + slice * sliceSpacing * sliceDirection[a];
      }
      return p;
    }

    /**
     * Continuous index (slice, row, column) of a patient position; the directions are orthonormal,
     * so each index is a projection.
     */
    public double[] toIndex(double[] p) {
      double[] d = {p[0] - origin[0], p[1] - origin[1], p[2] - origin[2]};
      return new double[] {
        dot(d, sliceDirection) / sliceSpacing,
        dot(d, columnDirection) / rowSpacing,
        dot(d, rowDirection) / columnSpacing
      };
    }

    private static double dot(double[] a, double[] b) {
      return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    }

    @Override
    public String toString() {
      return "Grid["
          + slices
          + "x"
          + rows
          + "x"
          + columns
          + ", spacing (row, col, slice) "
          + rowSpacing
          + ", "
          + columnSpacing
          + ", "
          + sliceSpacing
          + ", origin "
          + Arrays.toString(origin)
          + "]";
    }
  }

  /** The largest stored value. */
  static final int MAX_VALUE = 4095;

  /**
   * Scans {@code phantom} on {@code grid}.
   *
   * @param gain overall receiver gain (1 for the nominal intensities, about 0..1900)
   * @param noiseSigma standard deviation of the noise on each of the two quadrature channels
   * @param noise source of the noise; advanced by a number of draws fixed by the grid
   */
  public static Volume scan(
      LumbarPhantom phantom,
      LumbarPhantom.Contrast contrast,
      Grid grid,
      double gain,
      double noiseSigma,
      SplittableRandom noise,
      SeriesInfo info) {
    if (!(gain > 0) || !(noiseSigma >= 0)) {
      throw new IllegalArgumentException(
          "gain, noiseSigma: expected gain > 0 and sigma >= 0,"
              + " got "
              + gain
              + ", "
              + noiseSigma);
    }
    int rows = grid.rows();
    int cols = grid.columns();
    int plane = rows * cols;
    short[] out = new short[grid.slices() * plane];
    double[] clean = new double[plane];
    double[] tmp = new double[plane];
    for (int z = 0; z < grid.slices(); z++) {
      double[] p0 = grid.toPatient(z, 0, 0);
      double[] dr = sub(grid.toPatient(z, 1, 0), p0);
      double[] dc = sub(grid.toPatient(z, 0, 1), p0);
      for (int r = 0; r < rows; r++) {
        for (int c = 0; c < cols; c++) {
          double x = p0[0] + r * dr[0] + c * dc[0];
          double y = p0[1] + r * dr[1] + c * dc[1];
          double zz = p0[2] + r * dr[2] + c * dc[2];
          clean[r * cols + c] = phantom.signal(x, y, zz, contrast) * phantom.coilGain(y) * gain;
        }
      }
      blur(clean, tmp, rows, cols);
      int base = z * plane;
      for (int i = 0; i < plane; i++) {
        double re = clean[i] + noiseSigma * LumbarGrades.gaussian(noise);
        double im = noiseSigma * LumbarGrades.gaussian(noise);
        long v = Math.round(Math.sqrt(re * re + im * im));
        out[base + i] = (short) Math.min(v, MAX_VALUE);
      }
    }
    return Volume.builder(grid.slices(), rows, cols)
        .shorts(out, false, 1, 0)
        .spacing(grid.rowSpacing(), grid.columnSpacing(), grid.sliceSpacing())
        .origin(grid.origin[0], grid.origin[1], grid.origin[2])
        .orientation(grid.rowDirection(), grid.columnDirection())
        .sliceDirection(grid.sliceDirection())
        .series(info)
        .build();
  }

  private static double[] sub(double[] a, double[] b) {
    return new double[] {a[0] - b[0], a[1] - b[1], a[2] - b[2]};
  }

  /** In-place separable [1 2 1]/4 blur along rows, then columns (edges replicated). */
  private static void blur(double[] a, double[] tmp, int rows, int cols) {
    for (int r = 0; r < rows; r++) {
      int o = r * cols;
      for (int c = 0; c < cols; c++) {
        double left = a[o + Math.max(c - 1, 0)];
        double right = a[o + Math.min(c + 1, cols - 1)];
        tmp[o + c] = 0.25 * left + 0.5 * a[o + c] + 0.25 * right;
      }
    }
    for (int r = 0; r < rows; r++) {
      int up = Math.max(r - 1, 0) * cols;
      int down = Math.min(r + 1, rows - 1) * cols;
      int o = r * cols;
      for (int c = 0; c < cols; c++) {
        a[o + c] = 0.25 * tmp[up + c] + 0.5 * tmp[o + c] + 0.25 * tmp[down + c];
      }
    }
  }
}
