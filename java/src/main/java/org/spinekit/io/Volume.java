package org.spinekit.io;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A 3D image on a regular grid, indexed {@code [slice][row][column]} (row-major, column fastest),
 * with its place in patient space (DICOM LPS millimetres).
 *
 * <p>Voxels are held either as the stored integers of the files ({@link Kind#INT16} or {@link
 * Kind#UINT16}) with the rescale slope and intercept kept beside them, or as float32 modality
 * values ({@link Kind#FLOAT32}, rescale already applied, slope 1 and intercept 0).
 *
 * <p>Geometry follows DICOM: {@code rowDirection} is the unit vector along a row (the direction of
 * increasing column index, Image Orientation (Patient) values 1-3), {@code columnDirection} the
 * direction of increasing row index (values 4-6), and {@code sliceDirection} the direction of
 * increasing slice index. {@code spacing} is {@code (row, column, slice)}: the distance between
 * adjacent rows (Pixel Spacing value 1), between adjacent columns (value 2) and between adjacent
 * slices, in mm. {@code origin} is the patient position of voxel (0, 0, 0).
 */
public final class Volume {
  /** How the voxels are held. */
  public enum Kind {
    INT16,
    UINT16,
    FLOAT32
  }

  private final int slices;
  private final int rows;
  private final int columns;
  private final Kind kind;
  private final short[] shorts;
  private final float[] floats;
  private final double slope;
  private final double intercept;
  private final double[] spacing;
  private final double[] origin;
  private final double[] rowDirection;
  private final double[] columnDirection;
  private final double[] sliceDirection;
  private final List<SliceSource> sources;
  private final SeriesInfo series;
  private final List<String> warnings;

  private Volume(Builder b) {
    this.slices = b.slices;
    this.rows = b.rows;
    this.columns = b.columns;
    this.kind = b.kind;
    this.shorts = b.shorts;
    this.floats = b.floats;
    this.slope = b.slope;
    this.intercept = b.intercept;
    this.spacing = b.spacing.clone();
    this.origin = b.origin.clone();
    this.rowDirection = b.rowDirection.clone();
    this.columnDirection = b.columnDirection.clone();
    this.sliceDirection = b.sliceDirection.clone();
    this.sources = List.copyOf(b.sources);
    this.series = b.series;
    this.warnings = List.copyOf(b.warnings);
  }

  public int slices() {
    return slices;
  }

  public int rows() {
    return rows;
  }

  public int columns() {
    return columns;
  }

  public long voxelCount() {
    return (long) slices * rows * columns;
  }

  public Kind kind() {
    return kind;
  }

  /** The stored integers, {@code [slice][row][column]} flattened; INT16 and UINT16 only. */
  public short[] shorts() {
    if (shorts == null) {
      throw new IllegalStateException("volume holds " + kind + " voxels, not stored integers");
    }
    return shorts;
  }

  /** The float32 modality values; FLOAT32 only. */
  public float[] floats() {
    if (floats == null) {
      throw new IllegalStateException(
          "volume holds stored "
              + kind
              + " integers; call"
              + " toModality() for float32 modality values");
    }
    return floats;
  }

  public double slope() {
    return slope;
  }

  public double intercept() {
    return intercept;
  }

  /** (row, column, slice) spacing in mm. */
  public double[] spacing() {
    return spacing.clone();
  }

  public double[] origin() {
    return origin.clone();
  }

  public double[] rowDirection() {
    return rowDirection.clone();
  }

  public double[] columnDirection() {
    return columnDirection.clone();
  }

  public double[] sliceDirection() {
    return sliceDirection.clone();
  }

  /** One entry per slice, in slice order. Empty for volumes made in memory. */
  public List<SliceSource> sources() {
    return sources;
  }

  public SeriesInfo series() {
    return series;
  }

  /** What was odd in the files this volume was read from (non-uniform spacing, ...). */
  public List<String> warnings() {
    return warnings;
  }

  private int index(int slice, int row, int column) {
    Objects.checkIndex(slice, slices);
    Objects.checkIndex(row, rows);
    Objects.checkIndex(column, columns);
    return (slice * rows + row) * columns + column;
  }

  /** The modality value (rescale applied) of one voxel. */
  public double value(int slice, int row, int column) {
    int i = index(slice, row, column);
    return switch (kind) {
      case INT16 -> shorts[i] * slope + intercept;
      case UINT16 -> (shorts[i] & 0xffff) * slope + intercept;
      case FLOAT32 -> floats[i];
    };
  }

  /** This volume with float32 modality values (itself when it already holds them). */
  public Volume toModality() {
    if (kind == Kind.FLOAT32) return this;
    float[] f = new float[shorts.length];
    float s = (float) slope;
    float c = (float) intercept;
    if (kind == Kind.INT16) {
      for (int i = 0; i < f.length; i++) f[i] = shorts[i] * s + c;
    } else {
      for (int i = 0; i < f.length; i++) f[i] = (shorts[i] & 0xffff) * s + c;
    }
    return toBuilder().floats(f).build();
  }

  /** The patient position (LPS mm) of a continuous voxel index (slice, row, column). */
  public double[] toPatient(double slice, double row, double column) {
    double[] p = new double[3];
    for (int a = 0; a < 3; a++) {
      p[a] =
          origin[a]
              + column * spacing[1] * rowDirection[a]
              + row * spacing[0] * columnDirection[a]
              + slice * spacing[2] * sliceDirection[a];
    }
    return p;
  }

  /**
   * The 4x4 affine from voxel index (slice, row, column, 1) to patient LPS mm: column j of the
   * upper 3x3 is the step in patient space of index j.
   */
  public double[][] affine() {
    double[][] m = new double[4][4];
    for (int a = 0; a < 3; a++) {
      m[a][0] = sliceDirection[a] * spacing[2];
      m[a][1] = columnDirection[a] * spacing[0];
      m[a][2] = rowDirection[a] * spacing[1];
      m[a][3] = origin[a];
    }
    m[3][3] = 1;
    return m;
  }

  public Builder toBuilder() {
    Builder b = new Builder(slices, rows, columns);
    b.kind = kind;
    b.shorts = shorts;
    b.floats = floats;
    b.slope = slope;
    b.intercept = intercept;
    b.spacing = spacing.clone();
    b.origin = origin.clone();
    b.rowDirection = rowDirection.clone();
    b.columnDirection = columnDirection.clone();
    b.sliceDirection = sliceDirection.clone();
    b.sources = sources;
    b.series = series;
    b.warnings = warnings;
    return b;
  }

  public static Builder builder(int slices, int rows, int columns) {
    return new Builder(slices, rows, columns);
  }

  @Override
  public String toString() {
    return "Volume["
        + slices
        + "x"
        + rows
        + "x"
        + columns
        + " "
        + kind
        + ", spacing (row, col,"
        + " slice) "
        + Arrays.toString(spacing)
        + " mm, origin "
        + Arrays.toString(origin)
        + "]";
  }

  /** Builds a {@link Volume}; geometry defaults to identity directions and 1 mm spacing. */
  public static final class Builder {
    private final int slices;
    private final int rows;
    private final int columns;
    private Kind kind;
    private short[] shorts;
    private float[] floats;
    private double slope = 1;
    private double intercept = 0;
    private double[] spacing = {1, 1, 1};
    private double[] origin = {0, 0, 0};
    private double[] rowDirection = {1, 0, 0};
    private double[] columnDirection = {0, 1, 0};
    private double[] sliceDirection = {0, 0, 1};
    private List<SliceSource> sources = List.of();
    private SeriesInfo series = SeriesInfo.NONE;
    private List<String> warnings = List.of();

    private Builder(int slices, int rows, int columns) {
      if (slices <= 0 || rows <= 0 || columns <= 0) {
        throw new IllegalArgumentException(
            "volume size: expected positive (slices, rows,"
                + " columns), got ("
                + slices
                + ", "
                + rows
                + ", "
                + columns
                + ")");
      }
      if ((long) slices * rows * columns > Integer.MAX_VALUE - 8) {
        throw new IllegalArgumentException(
            "volume size: "
                + slices
                + "x"
                + rows
                + "x"
                + columns
                + " voxels exceed one Java array");
      }
      this.slices = slices;
      this.rows = rows;
      this.columns = columns;
    }

    private int count() {
      return slices * rows * columns;
    }

    /** Stored signed (INT16) or unsigned (UINT16) integers, with their rescale. */
    public Builder shorts(short[] v, boolean signed, double slope, double intercept) {
      if (v.length != count()) {
        throw new IllegalArgumentException(
            "voxels: expected "
                + count()
                + " values for "
                + slices
                + "x"
                + rows
                + "x"
                + columns
                + ", got "
                + v.length);
      }
      if (!Double.isFinite(slope) || slope == 0 || !Double.isFinite(intercept)) {
        throw new IllegalArgumentException(
            "rescale: expected a finite non-zero slope and a"
                + " finite intercept, got slope "
                + slope
                + ", intercept "
                + intercept);
      }
      this.kind = signed ? Kind.INT16 : Kind.UINT16;
      this.shorts = v;
      this.floats = null;
      this.slope = slope;
      this.intercept = intercept;
      return this;
    }

    /** Float32 modality values. */
    public Builder floats(float[] v) {
      if (v.length != count()) {
        throw new IllegalArgumentException(
            "voxels: expected "
                + count()
                + " values for "
                + slices
                + "x"
                + rows
                + "x"
                + columns
                + ", got "
                + v.length);
      }
      this.kind = Kind.FLOAT32;
      this.floats = v;
      this.shorts = null;
      this.slope = 1;
      this.intercept = 0;
      return this;
    }

    /** (row, column, slice) spacing in mm, each finite and positive. */
    public Builder spacing(double row, double column, double slice) {
      double[] s = {row, column, slice};
      for (double x : s) {
        if (!(x > 0) || !Double.isFinite(x)) {
          throw new IllegalArgumentException(
              "spacing: expected finite positive (row, column,"
                  + " slice) mm, got "
                  + Arrays.toString(s));
        }
      }
      this.spacing = s;
      return this;
    }

    public Builder origin(double x, double y, double z) {
      this.origin = new double[] {x, y, z};
      return this;
    }

    /**
     * Row and column direction cosines (unit, orthogonal); the slice direction defaults to their
     * cross product.
     */
    public Builder orientation(double[] rowDir, double[] colDir) {
      this.rowDirection = unit(rowDir, "rowDirection");
      this.columnDirection = unit(colDir, "columnDirection");
      double dot = 0;
      for (int a = 0; a < 3; a++) dot += rowDirection[a] * columnDirection[a];
      if (Math.abs(dot) > 1e-3) {
        throw new IllegalArgumentException(
            "orientation: row and column directions are not" + " orthogonal (dot " + dot + ")");
      }
      this.sliceDirection = cross(rowDirection, columnDirection);
      return this;
    }

    /** The direction of increasing slice index (unit); by default row x column. */
    public Builder sliceDirection(double[] d) {
      this.sliceDirection = unit(d, "sliceDirection");
      return this;
    }

    public Builder sources(List<SliceSource> s) {
      if (!s.isEmpty() && s.size() != slices) {
        throw new IllegalArgumentException(
            "sources: expected one per slice (" + slices + "), got " + s.size());
      }
      this.sources = s;
      return this;
    }

    public Builder series(SeriesInfo s) {
      this.series = Objects.requireNonNull(s, "series");
      return this;
    }

    public Builder warnings(List<String> w) {
      this.warnings = List.copyOf(w);
      return this;
    }

    public Volume build() {
      if (kind == null) {
        throw new IllegalStateException("voxels: call shorts(...) or floats(...) before build()");
      }
      return new Volume(this);
    }

    private static double[] unit(double[] v, String name) {
      if (v == null || v.length != 3) {
        throw new IllegalArgumentException(
            name + ": expected 3 values, got " + (v == null ? "none" : v.length));
      }
      double n = Math.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
      if (!(Math.abs(n - 1) < 1e-3)) {
        throw new IllegalArgumentException(
            name + ": expected a unit vector, got " + Arrays.toString(v) + " (length " + n + ")");
      }
      return new double[] {v[0] / n, v[1] / n, v[2] / n};
    }
  }

  public static double[] cross(double[] a, double[] b) {
    return new double[] {
      a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]
    };
  }
}
