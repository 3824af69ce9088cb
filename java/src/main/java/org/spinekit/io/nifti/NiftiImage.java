package org.spinekit.io.nifti;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;
import org.spinekit.io.Volume;

/**
 * A 3D NIfTI image: voxels {@code (i, j, k)} in the file's order (i fastest, NIfTI's column-major
 * layout), the stored data type, the data scaling ({@code scl_slope}, {@code scl_inter}) and the
 * header geometry (pixdim, qform, sform) that places the voxels in RAS+ millimetres.
 *
 * <p>Read and written by {@link Nifti}; made from a DICOM-derived {@link Volume} with {@link
 * #fromVolume}, turned back into one with {@link #toVolume}, and carried onto another volume's grid
 * (a mask onto its CT series) with {@link #resampleTo}. Instances are immutable.
 *
 * <p>The RSNA 2022 segmentations, for example, are (512, 512, N) files whose axes are "LAS"
 * relative to an axial series read in instance order (slice 0 most superior): the Kaggle notebooks
 * turn them with {@code seg[:, ::-1, ::-1].transpose(2, 1, 0)}. Here {@code
 * Nifti.read(mask).resampleTo(series)} gives the labels on the series' own [slice][row][column]
 * grid (an exact reindex), and {@code fromVolume(labels, "LAS")} writes labels the same way the
 * competition's files are laid out.
 */
public final class NiftiImage {
  /** The NIfTI data types this class holds, with their header codes and sizes in bytes. */
  public enum Datatype {
    UINT8(2, 1, true, 0, 0x1p8),
    INT8(256, 1, true, -0x1p7, 0x1p7),
    INT16(4, 2, true, -0x1p15, 0x1p15),
    UINT16(512, 2, true, 0, 0x1p16),
    INT32(8, 4, true, -0x1p31, 0x1p31),
    UINT32(768, 4, true, 0, 0x1p32),
    INT64(1024, 8, true, -0x1p63, 0x1p63),
    UINT64(1280, 8, true, 0, 0x1p64),
    FLOAT32(16, 4, false, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY),
    FLOAT64(64, 8, false, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY);

    private final int code;
    private final int bytes;
    private final boolean integer;
    private final double min;

    /** Exclusive upper bound of the integer types. */
    private final double limit;

    Datatype(int code, int bytes, boolean integer, double min, double limit) {
      this.code = code;
      this.bytes = bytes;
      this.integer = integer;
      this.min = min;
      this.limit = limit;
    }

    /** The header's {@code datatype} code (NIFTI_TYPE_*). */
    public int code() {
      return code;
    }

    public int bytes() {
      return bytes;
    }

    public boolean isInteger() {
      return integer;
    }

    /** The one with this header code, or null when the code is not one of these. */
    public static Datatype ofCode(int code) {
      for (Datatype d : values()) {
        if (d.code == code) return d;
      }
      return null;
    }

    /** Whether an integer type holds {@code v} exactly (float types hold anything). */
    boolean holds(double v) {
      if (!integer) return true;
      return v == Math.rint(v) && v >= min && v < limit;
    }
  }

  /** NIFTI_XFORM_SCANNER_ANAT: the qform/sform code {@link #fromVolume} sets. */
  public static final int XFORM_SCANNER = 1;

  private final NiftiHeader header;
  private final Datatype datatype;
  private final int nx;
  private final int ny;
  private final int nz;

  /** The voxel bytes in file order, in the byte order of the file they came from. */
  private final ByteBuffer data;

  private final boolean scaled;
  private final double slope;
  private final double inter;

  /**
   * @param header its dims, datatype and geometry are taken as they are (callers validate)
   * @param data exactly {@code nx * ny * nz * datatype.bytes()} bytes; its byte order is kept
   */
  NiftiImage(NiftiHeader header, Datatype datatype, int nx, int ny, int nz, ByteBuffer data) {
    this.header = header.copy();
    this.datatype = datatype;
    this.nx = nx;
    this.ny = ny;
    this.nz = nz;
    this.data = data.duplicate().order(data.order());
    double s = header.sclSlope;
    this.scaled = s != 0 && Double.isFinite(s) && !(s == 1 && header.sclInter == 0);
    this.slope = scaled ? s : 1;
    this.inter = scaled ? header.sclInter : 0;
    this.header.datatype = datatype.code();
    this.header.bitpix = 8 * datatype.bytes();
    // Sizes beyond dim[0] mean nothing; make them 1 so that writers need not care.
    int ndim = (int) Math.max(1, Math.min(7, this.header.dim[0]));
    this.header.dim[0] = ndim;
    for (int i = ndim + 1; i < 8; i++) this.header.dim[i] = 1;
  }

  public int nx() {
    return nx;
  }

  public int ny() {
    return ny;
  }

  public int nz() {
    return nz;
  }

  public long voxelCount() {
    return (long) nx * ny * nz;
  }

  public Datatype datatype() {
    return datatype;
  }

  /** The header's {@code datatype} code. */
  public int datatypeCode() {
    return datatype.code();
  }

  /** The NIfTI version of the header this image was read from or made with: 1 or 2. */
  public int version() {
    return header.version;
  }

  /** {@code pixdim[0..7]}: qfac, the voxel sizes along i, j, k, then the time step and more. */
  public double[] pixdim() {
    return header.pixdim.clone();
  }

  /** The header's {@code scl_slope} as stored (0 or NaN: no scaling). */
  public double sclSlope() {
    return header.sclSlope;
  }

  /** The header's {@code scl_inter} as stored. */
  public double sclInter() {
    return header.sclInter;
  }

  /**
   * Whether voxel values are the stored values scaled: {@code scl_slope} finite and non-zero (and
   * not the identity 1, 0), as the standard says.
   */
  public boolean isScaled() {
    return scaled;
  }

  public int qformCode() {
    return header.qformCode;
  }

  public int sformCode() {
    return header.sformCode;
  }

  /** The header's {@code descrip} text. */
  public String description() {
    return header.descrip;
  }

  /** {@code xyzt_units}: space and time units, 2 for millimetres. */
  public int xyztUnits() {
    return header.xyztUnits;
  }

  /** The affine of the qform fields (quaternion, qoffset, pixdim), whatever the qform code. */
  public double[][] qformAffine() {
    return NiftiAffines.qform(header);
  }

  /** The affine of the sform fields (srow_x, srow_y, srow_z), whatever the sform code. */
  public double[][] sformAffine() {
    return NiftiAffines.sform(header);
  }

  /**
   * The 4x4 affine from voxel {@code (i, j, k, 1)} to RAS+ mm: the sform when {@code sform_code >
   * 0}, else the qform when {@code qform_code > 0}, else the voxel sizes of pixdim with x flipped
   * and the grid centred, as nibabel's {@code get_best_affine}.
   */
  public double[][] affineRas() {
    if (header.sformCode > 0) return NiftiAffines.sform(header);
    if (header.qformCode > 0) return NiftiAffines.qform(header);
    return NiftiAffines.base(header);
  }

  /**
   * The directions in which i, j and k increase, as nibabel's {@code aff2axcodes} names them: one
   * of R/L, A/P, S/I per axis (for example {@code "LAS"}); '?' for an axis without a direction (a
   * zero column of the affine).
   */
  public String axcodes() {
    return NiftiAffines.axcodes(affineRas());
  }

  private int index(int i, int j, int k) {
    Objects.checkIndex(i, nx);
    Objects.checkIndex(j, ny);
    Objects.checkIndex(k, nz);
    return (k * ny + j) * nx + i;
  }

  /** The stored value of voxel {@code (i, j, k)}, before scaling. */
  public double storedValue(int i, int j, int k) {
    return stored(index(i, j, k));
  }

  /** The value of voxel {@code (i, j, k)}: stored value x scl_slope + scl_inter when scaled. */
  public double value(int i, int j, int k) {
    return scaledAt(index(i, j, k));
  }

  double stored(int n) {
    switch (datatype) {
      case UINT8:
        return data.get(n) & 0xff;
      case INT8:
        return data.get(n);
      case INT16:
        return data.getShort(2 * n);
      case UINT16:
        return data.getShort(2 * n) & 0xffff;
      case INT32:
        return data.getInt(4 * n);
      case UINT32:
        return data.getInt(4 * n) & 0xffffffffL;
      case INT64:
        return data.getLong(8 * n);
      case UINT64:
        {
          long v = data.getLong(8 * n);
          return v >= 0 ? v : ((v >>> 1) | (v & 1)) * 2.0;
        }
      case FLOAT32:
        return data.getFloat(4 * n);
      case FLOAT64:
        return data.getDouble(8 * n);
      default:
        throw new AssertionError(datatype);
    }
  }

  double scaledAt(int n) {
    double v = stored(n);
    return scaled ? v * slope + inter : v;
  }

  /** The header this image carries (a copy). */
  NiftiHeader header() {
    return header.copy();
  }

  /** The voxel bytes in file order (a read-only view, in the byte order of {@link #order()}). */
  ByteBuffer data() {
    return data.asReadOnlyBuffer().order(data.order());
  }

  ByteOrder order() {
    return data.order();
  }

  @Override
  public String toString() {
    return "NiftiImage["
        + nx
        + "x"
        + ny
        + "x"
        + nz
        + " "
        + datatype
        + ", "
        + axcodes()
        + ", pixdim "
        + Arrays.toString(Arrays.copyOfRange(header.pixdim, 1, 4))
        + (scaled ? ", scl " + slope + "/" + inter : "")
        + "]";
  }

  // ---------------------------------------------------------------- from and to Volume

  /**
   * The voxels of {@code v} laid out so that i, j and k point along {@code axcodes} (for example
   * {@code "LAS"}: i towards the patient's left, j anterior, k superior), with the exact affine as
   * sform and qform (code {@link #XFORM_SCANNER}). The stored type follows the volume: INT16 and
   * UINT16 volumes keep their stored integers (their rescale becomes {@code scl_slope}/{@code
   * scl_inter} unless it is 1, 0), FLOAT32 volumes give float32.
   *
   * @throws IllegalArgumentException if {@code axcodes} is not one of R/L, A/P, S/I per axis, or
   *     the volume's axes are not aligned with the patient axes within 1e-3
   */
  public static NiftiImage fromVolume(Volume v, String axcodes) {
    Datatype t =
        switch (v.kind()) {
          case INT16 -> Datatype.INT16;
          case UINT16 -> Datatype.UINT16;
          case FLOAT32 -> Datatype.FLOAT32;
        };
    return fromVolume(v, axcodes, t);
  }

  /**
   * As {@link #fromVolume(Volume, String)}, stored as {@code type}. Integer types take the volume's
   * stored integers with its rescale as {@code scl_slope}/{@code scl_inter} (each stored value must
   * fit the type), or, for FLOAT32 volumes, its values, which must be whole numbers in the type's
   * range; float types take the modality values unscaled.
   *
   * @throws IllegalArgumentException as above, or naming the first voxel that {@code type} cannot
   *     hold
   */
  public static NiftiImage fromVolume(Volume v, String axcodes, Datatype type) {
    Objects.requireNonNull(v, "v");
    Objects.requireNonNull(type, "type");
    int[][] map = axisMap(v, axcodes);
    int[] volSize = {v.slices(), v.rows(), v.columns()};
    long[] volStride = {(long) v.rows() * v.columns(), v.columns(), 1};
    double[][] volAff = v.affine();
    int[] n = new int[3];
    long[] start = new long[3];
    long[] step = new long[3];
    double[][] aff = NiftiAffines.identity4();
    double[] originIdx = new double[3];
    for (int ax = 0; ax < 3; ax++) {
      int a = map[ax][0];
      boolean flip = map[ax][1] < 0;
      n[ax] = volSize[a];
      start[ax] = flip ? (volSize[a] - 1) * volStride[a] : 0;
      step[ax] = flip ? -volStride[a] : volStride[a];
      originIdx[a] = flip ? volSize[a] - 1 : 0;
      for (int w = 0; w < 3; w++) {
        double lps = flip ? -volAff[w][a] : volAff[w][a];
        aff[w][ax] = w < 2 ? -lps : lps;
      }
    }
    double[] o = v.toPatient(originIdx[0], originIdx[1], originIdx[2]);
    aff[0][3] = -o[0];
    aff[1][3] = -o[1];
    aff[2][3] = o[2];

    boolean intSource = v.kind() != Volume.Kind.FLOAT32;
    boolean keepScale = type.isInteger() && intSource;
    NiftiHeader h = new NiftiHeader();
    h.version = 1;
    h.dim = new long[] {3, n[0], n[1], n[2], 1, 1, 1, 1};
    Arrays.fill(h.pixdim, 1);
    h.xyztUnits = 2;
    h.qformCode = XFORM_SCANNER;
    h.sformCode = XFORM_SCANNER;
    NiftiAffines.setSform(h, aff);
    NiftiAffines.setQform(h, aff);
    h.sclSlope = keepScale ? v.slope() : 1;
    h.sclInter = keepScale ? v.intercept() : 0;
    h.datatype = type.code();
    h.bitpix = 8 * type.bytes();
    h.voxOffset = NiftiHeader.SIZE1 + 4;

    long count = (long) n[0] * n[1] * n[2];
    if (count * type.bytes() > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(
          "v: " + count + " voxels of " + type + " exceed the" + " 2 GiB an image holds");
    }
    ByteBuffer out =
        ByteBuffer.allocate((int) (count * type.bytes())).order(ByteOrder.LITTLE_ENDIAN);
    short[] shorts = intSource ? v.shorts() : null;
    float[] floats = intSource ? null : v.floats();
    boolean unsigned = v.kind() == Volume.Kind.UINT16;
    int at = 0;
    for (int k = 0; k < n[2]; k++) {
      for (int j = 0; j < n[1]; j++) {
        long src = start[2] + k * step[2] + start[1] + j * step[1] + start[0];
        for (int i = 0; i < n[0]; i++, src += step[0], at++) {
          double val;
          if (intSource) {
            int s = shorts[(int) src];
            val = unsigned ? s & 0xffff : s;
            if (!keepScale) val = val * v.slope() + v.intercept();
          } else {
            val = floats[(int) src];
          }
          if (type.isInteger() && !type.holds(val)) {
            throw new IllegalArgumentException(
                "type: "
                    + type
                    + " cannot hold the "
                    + (keepScale ? "stored value " : "value ")
                    + val
                    + " of voxel (slice, row,"
                    + " column) "
                    + Arrays.toString(volumeIndex(src, v)));
          }
          put(out, at, type, val);
        }
      }
    }
    return new NiftiImage(h, type, n[0], n[1], n[2], out);
  }

  private static int[] volumeIndex(long linear, Volume v) {
    int c = (int) (linear % v.columns());
    long rest = linear / v.columns();
    return new int[] {(int) (rest / v.rows()), (int) (rest % v.rows()), c};
  }

  private static void put(ByteBuffer b, int n, Datatype t, double v) {
    switch (t) {
      case UINT8, INT8 -> b.put(n, (byte) (long) v);
      case INT16, UINT16 -> b.putShort(2 * n, (short) (long) v);
      case INT32, UINT32 -> b.putInt(4 * n, (int) (long) v);
      case INT64 -> b.putLong(8 * n, (long) v);
      case UINT64 -> b.putLong(8 * n, v < 0x1p63 ? (long) v : (long) (v - 0x1p63) ^ Long.MIN_VALUE);
      case FLOAT32 -> b.putFloat(4 * n, (float) v);
      case FLOAT64 -> b.putDouble(8 * n, v);
      default -> throw new AssertionError(t);
    }
  }

  /**
   * For each NIfTI axis (i, j, k): the volume axis it runs along (0 slice, 1 row, 2 column) and +1,
   * or -1 when it runs against it.
   */
  private static int[][] axisMap(Volume v, String axcodes) {
    Objects.requireNonNull(axcodes, "axcodes");
    String codes = axcodes.toUpperCase(Locale.ROOT);
    final String pos = "RAS";
    final String neg = "LPI";
    int[] worldOf = new int[3];
    int[] signOf = new int[3];
    boolean valid = codes.length() == 3;
    boolean[] seen = new boolean[3];
    for (int ax = 0; valid && ax < 3; ax++) {
      char c = codes.charAt(ax);
      int w = pos.indexOf(c) >= 0 ? pos.indexOf(c) : neg.indexOf(c);
      if (w < 0 || seen[w]) {
        valid = false;
        break;
      }
      seen[w] = true;
      worldOf[ax] = w;
      signOf[ax] = pos.indexOf(c) >= 0 ? 1 : -1;
    }
    if (!valid) {
      throw new IllegalArgumentException(
          "axcodes: expected one of R/L, one of A/P and one of"
              + " S/I in any order (for example \"LAS\"), got \""
              + axcodes
              + "\"");
    }
    // World RAS axis and sign of each volume axis (slice, row, column).
    double[][] dirs = {v.sliceDirection(), v.columnDirection(), v.rowDirection()};
    String[] names = {"sliceDirection", "columnDirection", "rowDirection"};
    int[] volWorld = new int[3];
    int[] volSign = new int[3];
    for (int a = 0; a < 3; a++) {
      double[] d = dirs[a];
      int w = -1;
      for (int c = 0; c < 3; c++) {
        if (Math.abs(Math.abs(d[c]) - 1) <= 1e-3) {
          w = c;
        } else if (Math.abs(d[c]) > 1e-3) {
          w = -2;
          break;
        }
      }
      if (w < 0) {
        throw new IllegalArgumentException(
            "v: not aligned with the patient axes within 1e-3:"
                + " rowDirection "
                + Arrays.toString(v.rowDirection())
                + ", columnDirection "
                + Arrays.toString(v.columnDirection())
                + ", sliceDirection "
                + Arrays.toString(v.sliceDirection())
                + " (LPS); "
                + names[a]
                + " is oblique");
      }
      volWorld[a] = w;
      double ras = w < 2 ? -d[w] : d[w];
      volSign[a] = ras > 0 ? 1 : -1;
    }
    if (volWorld[0] == volWorld[1] || volWorld[0] == volWorld[2] || volWorld[1] == volWorld[2]) {
      throw new IllegalArgumentException(
          "v: two axes run along the same patient axis:"
              + " rowDirection "
              + Arrays.toString(v.rowDirection())
              + ", columnDirection "
              + Arrays.toString(v.columnDirection())
              + ", sliceDirection "
              + Arrays.toString(v.sliceDirection())
              + " (LPS)");
    }
    int[][] map = new int[3][2];
    for (int ax = 0; ax < 3; ax++) {
      for (int a = 0; a < 3; a++) {
        if (volWorld[a] == worldOf[ax]) {
          map[ax][0] = a;
          map[ax][1] = volSign[a] * signOf[ax];
        }
      }
    }
    return map;
  }

  /**
   * This image as a {@link Volume} whose axes are the file's: slice = k, row = j, column = i;
   * spacing, origin and directions from {@link #affineRas()} turned from RAS to LPS. Voxels are
   * INT16 (slope 1, intercept 0) when the type is an integer one and every value is a whole number
   * that fits; otherwise INT16/UINT16 files keep their stored integers with the scaling as rescale,
   * and anything else becomes FLOAT32 values.
   *
   * @throws IllegalStateException if the affine has a zero column or i and j that are not
   *     orthogonal (a Volume cannot hold a sheared grid in-plane)
   */
  public Volume toVolume() {
    double[][] a = affineRas();
    double[][] lps = new double[3][3];
    double[] len = new double[3];
    for (int c = 0; c < 3; c++) {
      for (int w = 0; w < 3; w++) lps[c][w] = w < 2 ? -a[w][c] : a[w][c];
      len[c] = Math.sqrt(lps[c][0] * lps[c][0] + lps[c][1] * lps[c][1] + lps[c][2] * lps[c][2]);
      if (!(len[c] > 0) || !Double.isFinite(len[c])) {
        throw new IllegalStateException(
            "affine column "
                + c
                + " "
                + Arrays.toString(lps[c])
                + " has no length: a Volume needs a positive voxel size along each axis");
      }
      for (int w = 0; w < 3; w++) lps[c][w] /= len[c];
    }
    Volume.Builder b = Volume.builder(nz, ny, nx);
    try {
      b.spacing(len[1], len[0], len[2])
          .origin(-a[0][3], -a[1][3], a[2][3])
          .orientation(lps[0], lps[1])
          .sliceDirection(lps[2]);
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException(
          "affine "
              + Arrays.deepToString(a)
              + " cannot be a"
              + " Volume's geometry: "
              + e.getMessage(),
          e);
    }
    int count = (int) voxelCount();
    if (fitsInt16()) {
      short[] s = new short[count];
      for (int n = 0; n < count; n++) s[n] = (short) scaledAt(n);
      b.shorts(s, true, 1, 0);
    } else if (datatype == Datatype.INT16 || datatype == Datatype.UINT16) {
      short[] s = new short[count];
      for (int n = 0; n < count; n++) s[n] = data.getShort(2 * n);
      b.shorts(s, datatype == Datatype.INT16, slope, inter);
    } else {
      float[] f = new float[count];
      for (int n = 0; n < count; n++) f[n] = (float) scaledAt(n);
      b.floats(f);
    }
    return b.build();
  }

  /** Whether the type is an integer one and every (scaled) value is a whole int16. */
  boolean fitsInt16() {
    if (!datatype.isInteger()) return false;
    if (!scaled
        && (datatype == Datatype.INT16
            || datatype == Datatype.UINT8
            || datatype == Datatype.INT8)) {
      return true;
    }
    int count = (int) voxelCount();
    for (int n = 0; n < count; n++) {
      double v = scaledAt(n);
      if (!(v == Math.rint(v) && v >= Short.MIN_VALUE && v <= Short.MAX_VALUE)) return false;
    }
    return true;
  }

  /**
   * The values of this image on the grid of {@code reference} (same slices, rows and columns),
   * nearest neighbour through both affines; reference voxels outside the image get 0. When the
   * mapping from reference voxels to image voxels is an axis permutation with flips and whole-voxel
   * offsets (a mask stored in another axis order than its DICOM series, as the RSNA 2022
   * segmentations), the result is an exact reindex. INT16 values (slope 1) when {@link #toVolume()}
   * would give INT16, else FLOAT32; geometry is the reference's.
   *
   * @throws IllegalStateException if this image's affine is singular
   */
  public Volume resampleTo(Volume reference) {
    return NiftiResampler.resample(this, reference);
  }
}
