package org.spinekit.cervical;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.spinekit.io.AtomicFiles;
import org.spinekit.io.MalformedFileException;
import org.spinekit.io.SliceSource;
import org.spinekit.io.Volume;
import org.spinekit.io.nifti.Nifti;
import org.spinekit.io.nifti.NiftiImage;
import org.spinekit.ops.CropSample;

/**
 * From a label volume of the cervical system to the per-vertebra boxes that stage 2 crops: labels 0
 * background, 1..7 = C1..C7, 8 = any thoracic vertebra, on the series grid {@code [slice, row,
 * column]} (row-major, column fastest, slices in the order of {@link Volume#sources()}).
 *
 * <ul>
 *   <li>{@link #remap} turns a competition segmentation (1..7 C1..C7, 8..19 T1..T12) resampled onto
 *       the series into these labels;
 *   <li>{@link #clean} removes stray islands of the predicted labels;
 *   <li>{@link #boxes} gives each of C1..C7 its inclusive voxel box and the instance numbers of the
 *       slices it spans, as an {@link Entry};
 *   <li>{@link #write} and {@link #read} keep the entries as a CSV table;
 *   <li>{@link #dice} compares two label volumes per label.
 * </ul>
 */
public final class VertebraBoxes {
  private VertebraBoxes() {}

  /** The label of any thoracic vertebra (T1..T12 of the competition masks). */
  public static final int THORACIC = 8;

  /** The header of the CSV table of {@link #write} and {@link #read}. */
  public static final String HEADER =
      "StudyInstanceUID,vertebra,found,slice_min,slice_max,row_min,row_max,column_min,"
          + "column_max,voxels,instances";

  private static final String[] COLUMNS = HEADER.split(",", -1);

  /**
   * One vertebra C1..C7 of one study on its series grid. Bounds are inclusive voxel indices; {@code
   * instances} holds the Instance Numbers of slices {@code sliceMin..sliceMax} in volume order (the
   * "dcm file number" of the Kaggle layout, -1 for a slice whose file has none). A vertebra the
   * labels do not hold has {@code found} false, every bound -1, no voxels and no instances: nothing
   * is guessed.
   *
   * @param studyUid the study; non-empty, without commas, quotes or line breaks (it is a CSV field)
   * @param vertebra 1..7 for C1..C7
   * @param voxels voxels of the label, at least 1 and at most the box's volume when found
   */
  @SuppressWarnings("ArrayRecordComponent") // copied in and out; equals and hashCode by content
  public record Entry(
      String studyUid,
      int vertebra,
      boolean found,
      int sliceMin,
      int sliceMax,
      int rowMin,
      int rowMax,
      int columnMin,
      int columnMax,
      long voxels,
      int[] instances) {
    /** Checks every field against the others; copies {@code instances}. */
    public Entry {
      if (studyUid == null || studyUid.isEmpty()) {
        throw new IllegalArgumentException(
            "studyUid: expected a non-empty UID, got " + (studyUid == null ? "null" : "''"));
      }
      for (int i = 0; i < studyUid.length(); i++) {
        char c = studyUid.charAt(i);
        if (c == ',' || c == '"' || c == '\n' || c == '\r') {
          throw new IllegalArgumentException(
              "studyUid: expected no comma, quote or line break, got '" + studyUid + "'");
        }
      }
      if (vertebra < 1 || vertebra > 7) {
        throw new IllegalArgumentException("vertebra: expected 1..7 (C1..C7), got " + vertebra);
      }
      if (instances == null) {
        throw new IllegalArgumentException("instances: expected an array, got null");
      }
      String what = studyUid + " C" + vertebra;
      if (!found) {
        if (sliceMin != -1
            || sliceMax != -1
            || rowMin != -1
            || rowMax != -1
            || columnMin != -1
            || columnMax != -1
            || voxels != 0
            || instances.length != 0) {
          throw new IllegalArgumentException(
              what
                  + " not found: expected bounds -1, 0 voxels and no instances, got slices "
                  + sliceMin
                  + ".."
                  + sliceMax
                  + ", rows "
                  + rowMin
                  + ".."
                  + rowMax
                  + ", columns "
                  + columnMin
                  + ".."
                  + columnMax
                  + ", "
                  + voxels
                  + " voxels, "
                  + instances.length
                  + " instances");
        }
      } else {
        range(what, "slice", sliceMin, sliceMax);
        range(what, "row", rowMin, rowMax);
        range(what, "column", columnMin, columnMax);
        long box =
            ((long) sliceMax - sliceMin + 1)
                * ((long) rowMax - rowMin + 1)
                * ((long) columnMax - columnMin + 1);
        if (voxels < 1 || voxels > box) {
          throw new IllegalArgumentException(
              what + ": voxels: expected 1.." + box + " (the box's volume), got " + voxels);
        }
        if (instances.length != sliceMax - sliceMin + 1) {
          throw new IllegalArgumentException(
              what
                  + ": instances: expected one per slice "
                  + sliceMin
                  + ".."
                  + sliceMax
                  + " ("
                  + (sliceMax - sliceMin + 1)
                  + "), got "
                  + instances.length);
        }
      }
      instances = instances.clone();
    }

    private static void range(String what, String axis, int min, int max) {
      if (min < 0 || max < min) {
        throw new IllegalArgumentException(
            what
                + ": "
                + axis
                + " bounds: expected 0 <= "
                + axis
                + "_min <= "
                + axis
                + "_max, got "
                + min
                + ".."
                + max);
      }
    }

    /** A vertebra the labels do not hold. */
    public static Entry missing(String studyUid, int vertebra) {
      return new Entry(studyUid, vertebra, false, -1, -1, -1, -1, -1, -1, 0, new int[0]);
    }

    /** A copy of the instance numbers of slices {@code sliceMin..sliceMax}, in volume order. */
    @Override
    public int[] instances() {
      return instances.clone();
    }

    /** The box as {@link CropSample} takes it: voxel bounds, upper ends exclusive. */
    public CropSample.Box box() {
      if (!found) throw new IllegalStateException(name() + " was not found: no box");
      return new CropSample.Box(
          sliceMin, sliceMax + 1L, rowMin, rowMax + 1L, columnMin, columnMax + 1L);
    }

    /** The vertebra's name, C1..C7. */
    public String name() {
      return "C" + vertebra;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Entry e
          && studyUid.equals(e.studyUid)
          && vertebra == e.vertebra
          && found == e.found
          && sliceMin == e.sliceMin
          && sliceMax == e.sliceMax
          && rowMin == e.rowMin
          && rowMax == e.rowMax
          && columnMin == e.columnMin
          && columnMax == e.columnMax
          && voxels == e.voxels
          && Arrays.equals(instances, e.instances);
    }

    @Override
    public int hashCode() {
      return Objects.hash(
                  studyUid, vertebra, found, sliceMin, sliceMax, rowMin, rowMax, columnMin,
                  columnMax, voxels)
              * 31
          + Arrays.hashCode(instances);
    }

    @Override
    public String toString() {
      return "Entry["
          + studyUid
          + " "
          + name()
          + (found
              ? " slices "
                  + sliceMin
                  + ".."
                  + sliceMax
                  + " rows "
                  + rowMin
                  + ".."
                  + rowMax
                  + " columns "
                  + columnMin
                  + ".."
                  + columnMax
                  + ", "
                  + voxels
                  + " voxels, instances "
                  + Arrays.toString(instances)
              : " not found")
          + "]";
    }
  }

  // ------------------------------------------------------------------ remap

  /** Least share of a mask's labelled volume that must fall on its series' grid. */
  public static final double MIN_OVERLAP = 0.9;

  /**
   * The labels of the competition segmentation {@code seg} on the grid of its study's series {@code
   * ct}, {@link #remap remapped}. The mask is placed through its affine; one made for another
   * series would land beside this one's grid or cover it partly, and its labels would be read as
   * "no vertebra here". So at least {@link #MIN_OVERLAP} of the mask's labelled volume (mm³) must
   * land on the grid.
   *
   * @throws IllegalArgumentException naming {@code seg} when the mask has no label or does not fit
   *     the series
   * @throws IOException when {@code seg} cannot be read (a malformed file names itself)
   */
  public static short[] labelsOnSeries(Path seg, Volume ct) throws IOException {
    NiftiImage img = Nifti.read(seg);
    long inMask = 0;
    for (int k = 0; k < img.nz(); k++) {
      for (int j = 0; j < img.ny(); j++) {
        for (int i = 0; i < img.nx(); i++) {
          if (remapped(img.value(i, j, k)) != 0) inMask++;
        }
      }
    }
    if (inMask == 0) {
      throw new IllegalArgumentException(seg + ": no vertebra label (1..19) in the mask");
    }
    short[] labels;
    try {
      labels = remap(img.resampleTo(ct));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          seg + " does not fit its series (" + e.getMessage() + ")", e);
    }
    long onGrid = 0;
    for (short v : labels) if (v != 0) onGrid++;
    double[] a = img.affineRas()[0], b = img.affineRas()[1], c = img.affineRas()[2];
    double maskVoxel =
        Math.abs(
            a[0] * (b[1] * c[2] - b[2] * c[1])
                - a[1] * (b[0] * c[2] - b[2] * c[0])
                + a[2] * (b[0] * c[1] - b[1] * c[0]));
    double[] sp = ct.spacing();
    double share = onGrid * sp[0] * sp[1] * sp[2] / (inMask * maskVoxel);
    if (!(share >= MIN_OVERLAP)) {
      throw new IllegalArgumentException(
          String.format(
              java.util.Locale.ROOT,
              "%s does not fit its series: %.0f %% of its labelled volume falls on the series'"
                  + " grid (at least %.0f %% expected): a mask of another series, or a wrong affine",
              seg,
              100 * share,
              100 * MIN_OVERLAP));
    }
    return labels;
  }

  /**
   * The labels of this system from a competition segmentation on the series grid (as {@code
   * Nifti.read(seg).resampleTo(ct)} gives it): 0 and 1..7 (C1..C7) stay, 8..19 (T1..T12) become
   * {@link #THORACIC}, every other value (non-integer ones included) becomes 0.
   */
  public static short[] remap(Volume maskOnSeries) {
    if (maskOnSeries == null) {
      throw new IllegalArgumentException("maskOnSeries: expected a volume, got null");
    }
    int n = Math.toIntExact(maskOnSeries.voxelCount());
    short[] out = new short[n];
    if (maskOnSeries.kind() == Volume.Kind.FLOAT32) {
      float[] f = maskOnSeries.floats();
      for (int i = 0; i < n; i++) out[i] = remapped(f[i]);
      return out;
    }
    // Stored integers: one look-up per stored value, the rescale applied once per value.
    short[] s = maskOnSeries.shorts();
    boolean signed = maskOnSeries.kind() == Volume.Kind.INT16;
    double slope = maskOnSeries.slope();
    double intercept = maskOnSeries.intercept();
    short[] lut = new short[1 << 16];
    for (int v = 0; v < lut.length; v++) {
      int stored = signed ? (short) v : v;
      lut[v] = remapped(stored * slope + intercept);
    }
    for (int i = 0; i < n; i++) out[i] = lut[s[i] & 0xffff];
    return out;
  }

  private static short remapped(double v) {
    if (v >= 1 && v <= 7 && v == Math.rint(v)) return (short) v;
    if (v >= 8 && v <= 19 && v == Math.rint(v)) return THORACIC;
    return 0;
  }

  // ------------------------------------------------------------------ clean

  /**
   * A copy of {@code labels} without stray islands: every label 1..8 is split into 3D components
   * (26-connected: voxels touching by a face, an edge or a corner), and a component is dropped (its
   * voxels set to 0) when it has fewer than {@code minVoxels} voxels or, for labels 1..7, when it
   * is not the largest component of its label (the first found in volume order among equals). Label
   * 8 (all thoracic vertebrae, several separate bodies) keeps every component of {@code minVoxels}
   * or more. The input is not changed.
   *
   * <p>26-connectivity because a true vertebra must stay one component: thin parts (the arch of C1,
   * laminae, spinous processes) that run obliquely through thick slices touch only by edges or
   * corners from one slice to the next, and 6-connectivity would cut them off as "smaller
   * components" and erase them. An island that only touches the vertebra diagonally is kept with
   * it, which costs the box at most a voxel.
   *
   * <p>Components are found by union-find over runs of equal labels along the rows, no recursion:
   * time and memory grow with the number of runs, not of voxels (a 300 x 512 x 512 volume takes a
   * fraction of a second on one core).
   *
   * @param minVoxels components smaller than this are dropped; 0 or 1 keeps them all (but for
   *     labels 1..7 only the largest)
   * @throws IllegalArgumentException when the sizes disagree, {@code minVoxels} is negative or a
   *     label is outside 0..8
   */
  public static short[] clean(short[] labels, int slices, int rows, int columns, long minVoxels) {
    checkGrid(labels, slices, rows, columns);
    if (minVoxels < 0) {
      throw new IllegalArgumentException("minVoxels: expected 0 or more, got " + minVoxels);
    }
    Runs runs = Runs.of(labels, slices, rows, columns);
    int n = runs.count;
    int[] start = runs.start;
    int[] end = runs.end;
    byte[] label = runs.label;
    int[] rowFirst = runs.rowFirst;
    int[] parent = new int[n];
    for (int i = 0; i < n; i++) parent[i] = i;
    // Union each run with the runs of the rows before it that touch it: (s, r - 1) and the three
    // rows r - 1, r, r + 1 of slice s - 1. Two runs of adjacent rows touch (26-connectivity) when
    // their column ranges, one widened by a column on each side, overlap.
    for (int s = 0; s < slices; s++) {
      for (int r = 0; r < rows; r++) {
        int q = s * rows + r;
        if (rowFirst[q] == rowFirst[q + 1]) continue;
        if (r > 0) join(q, q - 1, rowFirst, start, end, label, parent);
        if (s > 0) {
          int p = q - rows;
          if (r > 0) join(q, p - 1, rowFirst, start, end, label, parent);
          join(q, p, rowFirst, start, end, label, parent);
          if (r + 1 < rows) join(q, p + 1, rowFirst, start, end, label, parent);
        }
      }
    }
    int[] size = new int[n];
    for (int i = 0; i < n; i++) size[find(parent, i)] += end[i] - start[i];
    int[] largest = new int[THORACIC + 1];
    Arrays.fill(largest, -1);
    for (int i = 0; i < n; i++) {
      if (parent[i] != i) continue;
      int l = label[i];
      if (l != THORACIC && (largest[l] < 0 || size[i] > size[largest[l]])) largest[l] = i;
    }
    boolean[] drop = new boolean[n];
    for (int i = 0; i < n; i++) {
      if (parent[i] != i) continue;
      drop[i] = size[i] < minVoxels || (label[i] != THORACIC && largest[label[i]] != i);
    }
    short[] out = labels.clone();
    for (int q = 0; q < slices * rows; q++) {
      int base = q * columns;
      for (int i = rowFirst[q]; i < rowFirst[q + 1]; i++) {
        if (drop[find(parent, i)]) Arrays.fill(out, base + start[i], base + end[i], (short) 0);
      }
    }
    return out;
  }

  /** Unites the runs of row {@code q} with the touching runs of equal label of row {@code p}. */
  private static void join(
      int q, int p, int[] rowFirst, int[] start, int[] end, byte[] label, int[] parent) {
    int j = rowFirst[p];
    int jEnd = rowFirst[p + 1];
    for (int i = rowFirst[q]; i < rowFirst[q + 1] && j < jEnd; i++) {
      // Runs of row p that end before column start[i] - 1 touch neither run i nor any later one.
      while (j < jEnd && end[j] < start[i]) j++;
      for (int k = j; k < jEnd && start[k] <= end[i]; k++) {
        if (label[k] == label[i]) union(parent, i, k);
      }
    }
  }

  private static int find(int[] parent, int i) {
    while (parent[i] != i) {
      parent[i] = parent[parent[i]];
      i = parent[i];
    }
    return i;
  }

  /** Links the later root under the earlier, so a component's root is its first run. */
  private static void union(int[] parent, int a, int b) {
    int ra = find(parent, a);
    int rb = find(parent, b);
    if (ra < rb) {
      parent[rb] = ra;
    } else if (rb < ra) {
      parent[ra] = rb;
    }
  }

  /**
   * The runs of equal non-zero label along each row: run i covers columns {@code [start[i],
   * end[i])} of its row; row q ({@code slice * rows + row}) holds runs {@code [rowFirst[q],
   * rowFirst[q + 1])}.
   */
  private static final class Runs {
    int count;
    int[] start = new int[1 << 12];
    int[] end = new int[1 << 12];
    byte[] label = new byte[1 << 12];
    int[] rowFirst;

    static Runs of(short[] labels, int slices, int rows, int columns) {
      Runs r = new Runs();
      int lines = slices * rows;
      r.rowFirst = new int[lines + 1];
      for (int q = 0; q < lines; q++) {
        r.rowFirst[q] = r.count;
        int base = q * columns;
        int c = 0;
        while (c < columns) {
          int l = labels[base + c];
          if (l == 0) {
            c++;
            continue;
          }
          if (l < 0 || l > THORACIC) throw badLabel("labels", labels, base + c, rows, columns);
          int e = c + 1;
          while (e < columns && labels[base + e] == l) e++;
          r.add(c, e, l);
          c = e;
        }
      }
      r.rowFirst[lines] = r.count;
      return r;
    }

    private void add(int s, int e, int l) {
      if (count == start.length) {
        int cap = Math.toIntExact(Math.min((long) count * 2, Integer.MAX_VALUE - 8));
        start = Arrays.copyOf(start, cap);
        end = Arrays.copyOf(end, cap);
        label = Arrays.copyOf(label, cap);
      }
      start[count] = s;
      end[count] = e;
      label[count] = (byte) l;
      count++;
    }
  }

  // ------------------------------------------------------------------ boxes

  /**
   * The seven entries C1..C7, in that order, of a label volume on the series grid: each found
   * vertebra's inclusive bounds, voxel count and the instance numbers of the slices it spans
   * ({@code sources.get(k).instanceNumber()} for k in {@code sliceMin..sliceMax}).
   *
   * @param labels labels 0..8, {@code [slice, row, column]} flattened
   * @param sources one per slice, in volume order ({@link Volume#sources()} of the series)
   * @throws IllegalArgumentException when the sizes disagree, a label is outside 0..8 or the study
   *     UID is not a valid field
   */
  public static List<Entry> boxes(
      String studyUid,
      short[] labels,
      int slices,
      int rows,
      int columns,
      List<SliceSource> sources) {
    checkGrid(labels, slices, rows, columns);
    if (sources == null || sources.size() != slices) {
      throw new IllegalArgumentException(
          "sources: expected one per slice ("
              + slices
              + "), got "
              + (sources == null ? "null" : sources.size()));
    }
    Entry.missing(studyUid, 1); // checks the UID before the scan
    long[] count = new long[8];
    int[][] b = new int[8][];
    for (int l = 1; l < 8; l++) {
      b[l] = new int[] {Integer.MAX_VALUE, -1, Integer.MAX_VALUE, -1, Integer.MAX_VALUE, -1};
    }
    int plane = rows * columns;
    for (int s = 0; s < slices; s++) {
      for (int r = 0; r < rows; r++) {
        int base = s * plane + r * columns;
        for (int c = 0; c < columns; c++) {
          int l = labels[base + c];
          if (l == 0) continue;
          if (l == THORACIC) continue;
          if (l < 0 || l > THORACIC) throw badLabel("labels", labels, base + c, rows, columns);
          count[l]++;
          int[] q = b[l];
          if (s < q[0]) q[0] = s;
          if (s > q[1]) q[1] = s;
          if (r < q[2]) q[2] = r;
          if (r > q[3]) q[3] = r;
          if (c < q[4]) q[4] = c;
          if (c > q[5]) q[5] = c;
        }
      }
    }
    List<Entry> out = new ArrayList<>(7);
    for (int v = 1; v <= 7; v++) {
      if (count[v] == 0) {
        out.add(Entry.missing(studyUid, v));
        continue;
      }
      int[] q = b[v];
      int[] inst = new int[q[1] - q[0] + 1];
      for (int k = 0; k < inst.length; k++) {
        SliceSource src = sources.get(q[0] + k);
        if (src == null) {
          throw new IllegalArgumentException("sources: entry " + (q[0] + k) + " is null");
        }
        inst[k] = src.instanceNumber();
      }
      out.add(new Entry(studyUid, v, true, q[0], q[1], q[2], q[3], q[4], q[5], count[v], inst));
    }
    return out;
  }

  // ------------------------------------------------------------------ dice

  /**
   * Dice per label {@code 0..labels-1}: {@code 2 |A and B| / (|A| + |B|)} with A the voxels of the
   * label in {@code pred} and B those in {@code truth}; NaN when neither holds the label.
   *
   * @throws IllegalArgumentException when the lengths differ, {@code labels} is below 1 or a value
   *     is outside 0..labels-1 (named with its index)
   */
  public static double[] dice(short[] pred, short[] truth, int labels) {
    if (pred == null || truth == null) {
      throw new IllegalArgumentException(
          (pred == null ? "pred" : "truth") + ": expected an array, got null");
    }
    if (pred.length != truth.length) {
      throw new IllegalArgumentException(
          "truth: expected " + pred.length + " values (as pred), got " + truth.length);
    }
    if (labels < 1 || labels > 1 << 15) {
      throw new IllegalArgumentException("labels: expected 1..32768, got " + labels);
    }
    long[] a = new long[labels];
    long[] b = new long[labels];
    long[] both = new long[labels];
    for (int i = 0; i < pred.length; i++) {
      int p = pred[i];
      int t = truth[i];
      if (p < 0 || p >= labels) {
        throw new IllegalArgumentException(
            "pred[" + i + "]: expected a label 0.." + (labels - 1) + ", got " + p);
      }
      if (t < 0 || t >= labels) {
        throw new IllegalArgumentException(
            "truth[" + i + "]: expected a label 0.." + (labels - 1) + ", got " + t);
      }
      a[p]++;
      b[t]++;
      if (p == t) both[p]++;
    }
    double[] d = new double[labels];
    for (int l = 0; l < labels; l++) {
      long sum = a[l] + b[l];
      d[l] = sum == 0 ? Double.NaN : 2.0 * both[l] / sum;
    }
    return d;
  }

  // ------------------------------------------------------------------ CSV

  /**
   * Writes {@code entries} as a CSV table ({@link #HEADER}; vertebra spelled C1..C7, found 0 or 1,
   * instances separated by spaces), atomically: readers see the old file or the whole new one.
   */
  public static void write(Path csv, List<Entry> entries) throws IOException {
    if (entries == null) throw new IllegalArgumentException("entries: expected a list, got null");
    StringBuilder out = new StringBuilder(64 + entries.size() * 160);
    out.append(HEADER).append('\n');
    for (int k = 0; k < entries.size(); k++) {
      Entry e = entries.get(k);
      if (e == null) throw new IllegalArgumentException("entries: entry " + k + " is null");
      out.append(e.studyUid())
          .append(',')
          .append(e.name())
          .append(',')
          .append(e.found() ? '1' : '0')
          .append(',')
          .append(e.sliceMin())
          .append(',')
          .append(e.sliceMax())
          .append(',')
          .append(e.rowMin())
          .append(',')
          .append(e.rowMax())
          .append(',')
          .append(e.columnMin())
          .append(',')
          .append(e.columnMax())
          .append(',')
          .append(e.voxels())
          .append(',');
      int[] inst = e.instances;
      for (int i = 0; i < inst.length; i++) {
        if (i > 0) out.append(' ');
        out.append(inst[i]);
      }
      out.append('\n');
    }
    AtomicFiles.write(csv, out.toString().getBytes(UTF_8));
  }

  /**
   * Reads a table written by {@link #write}: UTF-8 (a byte-order mark allowed), LF or CRLF line
   * ends, blank lines skipped, the header exactly {@link #HEADER}. A study's vertebra may appear
   * once.
   *
   * @throws MalformedFileException naming the file, the line and the column of the first fault
   */
  public static List<Entry> read(Path csv) throws IOException {
    String text;
    try {
      text =
          UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(Files.readAllBytes(csv)))
              .toString();
    } catch (CharacterCodingException e) {
      throw new MalformedFileException(csv, "not UTF-8 text", e);
    }
    if (text.startsWith("\uFEFF")) text = text.substring(1);
    String[] lines = text.split("\r?\n", -1);
    int first = 0;
    while (first < lines.length && lines[first].isEmpty()) first++;
    if (first == lines.length) {
      throw new MalformedFileException(csv, "empty file, expected the header '" + HEADER + "'");
    }
    if (!lines[first].equals(HEADER)) {
      throw new MalformedFileException(
          csv,
          "line "
              + (first + 1)
              + ": expected the header '"
              + HEADER
              + "', got '"
              + shown(lines[first])
              + "'");
    }
    List<Entry> out = new ArrayList<>();
    Map<String, Integer> seen = new HashMap<>();
    for (int k = first + 1; k < lines.length; k++) {
      String line = lines[k];
      if (line.isEmpty()) continue;
      int n = k + 1;
      String[] f = line.split(",", -1);
      if (f.length != COLUMNS.length) {
        throw new MalformedFileException(
            csv, "line " + n + ": " + f.length + " fields where the header has " + COLUMNS.length);
      }
      Field row = new Field(csv, n, f);
      String uid = row.text(0);
      int vertebra = row.vertebra(1);
      boolean found = row.bit(2);
      int[] bounds = new int[6];
      for (int c = 0; c < 6; c++) bounds[c] = row.integer(3 + c);
      long voxels = row.count(9);
      int[] instances = row.instances(10);
      Entry e;
      try {
        e =
            new Entry(
                uid, vertebra, found, bounds[0], bounds[1], bounds[2], bounds[3], bounds[4],
                bounds[5], voxels, instances);
      } catch (IllegalArgumentException x) {
        throw new MalformedFileException(csv, "line " + n + ": " + x.getMessage(), x);
      }
      Integer before = seen.putIfAbsent(uid + "," + vertebra, n);
      if (before != null) {
        throw new MalformedFileException(
            csv, "line " + n + ": " + uid + " C" + vertebra + " repeats line " + before);
      }
      out.add(e);
    }
    return out;
  }

  /** The fields of one data line, parsed with errors naming file, line and column. */
  private static final class Field {
    private final Path file;
    private final int line;
    private final String[] f;

    Field(Path file, int line, String[] f) {
      this.file = file;
      this.line = line;
      this.f = f;
    }

    private MalformedFileException error(int c, String what) {
      return new MalformedFileException(
          file,
          "line "
              + line
              + ", column '"
              + COLUMNS[c]
              + "': "
              + what
              + " (got '"
              + shown(f[c])
              + "')");
    }

    String text(int c) throws MalformedFileException {
      if (f[c].isEmpty() || f[c].indexOf('"') >= 0) throw error(c, "expected a UID");
      return f[c];
    }

    int vertebra(int c) throws MalformedFileException {
      String s = f[c];
      if (s.length() == 2 && s.charAt(0) == 'C' && s.charAt(1) >= '1' && s.charAt(1) <= '7') {
        return s.charAt(1) - '0';
      }
      throw error(c, "expected C1..C7");
    }

    boolean bit(int c) throws MalformedFileException {
      if (f[c].equals("1")) return true;
      if (f[c].equals("0")) return false;
      throw error(c, "expected 0 or 1");
    }

    int integer(int c) throws MalformedFileException {
      if (!f[c].matches("-?\\d{1,10}")) throw error(c, "expected an integer");
      try {
        return Integer.parseInt(f[c]);
      } catch (NumberFormatException e) {
        throw error(c, "integer out of range");
      }
    }

    long count(int c) throws MalformedFileException {
      if (!f[c].matches("\\d{1,19}")) throw error(c, "expected a non-negative integer");
      try {
        return Long.parseLong(f[c]);
      } catch (NumberFormatException e) {
        throw error(c, "integer out of range");
      }
    }

    int[] instances(int c) throws MalformedFileException {
      if (f[c].isEmpty()) return new int[0];
      String[] parts = f[c].split(" ", -1);
      int[] out = new int[parts.length];
      for (int i = 0; i < parts.length; i++) {
        if (!parts[i].matches("-?\\d{1,10}")) {
          throw error(c, "expected integers separated by single spaces");
        }
        try {
          out[i] = Integer.parseInt(parts[i]);
        } catch (NumberFormatException e) {
          throw error(c, "instance number out of range");
        }
      }
      return out;
    }
  }

  private static String shown(String s) {
    return s.length() <= 80 ? s : s.substring(0, 80) + "...";
  }

  // ------------------------------------------------------------------ checks

  static void checkGrid(short[] labels, int slices, int rows, int columns) {
    if (slices < 1 || rows < 1 || columns < 1) {
      throw new IllegalArgumentException(
          "size: expected positive (slices, rows, columns), got ("
              + slices
              + ", "
              + rows
              + ", "
              + columns
              + ")");
    }
    long n = (long) slices * rows * columns;
    if (labels == null || labels.length != n) {
      throw new IllegalArgumentException(
          "labels: expected "
              + slices
              + " x "
              + rows
              + " x "
              + columns
              + " = "
              + n
              + " values, got "
              + (labels == null ? "null" : labels.length));
    }
  }

  static IllegalArgumentException badLabel(
      String name, short[] labels, int i, int rows, int columns) {
    int plane = rows * columns;
    return new IllegalArgumentException(
        name
            + ": expected labels 0..8, got "
            + labels[i]
            + " at (slice "
            + i / plane
            + ", row "
            + (i % plane) / columns
            + ", column "
            + i % columns
            + ") (competition masks go through remap first)");
  }
}
