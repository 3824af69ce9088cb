package org.spinekit.lumbar;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.spinekit.io.MalformedFileException;
import org.spinekit.io.dicom.DicomHeader;
import org.spinekit.io.dicom.DicomSeriesReader;
import org.spinekit.io.kaggle.Condition;
import org.spinekit.io.kaggle.Csv;
import org.spinekit.io.kaggle.CsvFormatException;
import org.spinekit.io.kaggle.Level;
import org.spinekit.io.kaggle.Rsna2024;
import org.spinekit.io.kaggle.Rsna2024.LabelCoordinate;

/**
 * Predicted label points and how close they come to the truth's, in the terms of the RSNA 2024
 * write-ups: the share of points whose x (column) and y (row) are within 1, 2 and 4 pixels of a
 * heatmap of width {@code grid}, and whose slice is the true one ({@code z<1}) or within 2 slices
 * ({@code z<3}), per condition.
 *
 * <p>The file, {@code points.csv}, has one row per (study, condition, level):
 *
 * <pre>
 * study_id,series_id,condition,level,x,y,instance_number
 * 4003253,702807833,Spinal Canal Stenosis,L1/L2,322.83,227.96,8
 * </pre>
 *
 * with the condition and level spelled as in train_label_coordinates.csv, and x (column), y (row)
 * in pixels of that instance of that series, as there.
 */
public final class LumbarPoints {
  private LumbarPoints() {}

  /** The header of points.csv, in this order. */
  public static final List<String> HEADER =
      List.of("study_id", "series_id", "condition", "level", "x", "y", "instance_number");

  /**
   * One predicted point: where {@code condition} at {@code level} of a study is, in pixels (column
   * {@code x}, row {@code y}) of instance {@code instanceNumber} of series {@code seriesId}.
   */
  public record Point(
      long studyId,
      long seriesId,
      Condition condition,
      Level level,
      double x,
      double y,
      int instanceNumber) {
    public Point {
      Objects.requireNonNull(condition, "condition");
      Objects.requireNonNull(level, "level");
    }

    private Key key() {
      return new Key(studyId, condition, level);
    }
  }

  private record Key(long studyId, Condition condition, Level level) {
    @Override
    public String toString() {
      return "study " + studyId + " " + condition.label + " " + level.label;
    }
  }

  // ---------------------------------------------------------------- points.csv

  /**
   * Reads points.csv: ids, condition ("Spinal Canal Stenosis"), level ("L1/L2"), finite x and y, an
   * instance number >= 0; each (study, condition, level) at most once.
   *
   * @throws CsvFormatException naming the file, the line and the column of the first bad value
   */
  public static List<Point> read(Path csv) throws IOException {
    Csv.Table t = Csv.read(csv);
    Csv.Column study = t.column(HEADER.get(0));
    Csv.Column series = t.column(HEADER.get(1));
    Csv.Column condition = t.column(HEADER.get(2));
    Csv.Column level = t.column(HEADER.get(3));
    Csv.Column x = t.column(HEADER.get(4));
    Csv.Column y = t.column(HEADER.get(5));
    Csv.Column instance = t.column(HEADER.get(6));
    List<Point> out = new ArrayList<>(t.rows().size());
    Map<Key, Integer> seen = new HashMap<>();
    for (Csv.Row r : t.rows()) {
      long studyId = r.id(study);
      long seriesId = r.id(series);
      Condition c = conditionByLabel(r.get(condition));
      if (c == null) {
        throw r.error(condition, "unknown condition, expected one of " + conditionLabels());
      }
      Level l = levelByLabel(r.get(level));
      if (l == null) {
        throw r.error(level, "unknown level, expected one of " + levelLabels());
      }
      Point p = new Point(studyId, seriesId, c, l, r.real(x), r.real(y), r.count(instance));
      Integer before = seen.putIfAbsent(p.key(), r.line());
      if (before != null) {
        throw r.error(
            level,
            c.label
                + " "
                + l.label
                + " of study "
                + studyId
                + " repeated (first on line "
                + before
                + ")");
      }
      out.add(p);
    }
    return out;
  }

  /**
   * Writes points.csv atomically, in the order given, x and y at full precision.
   *
   * @throws IllegalArgumentException for a point {@link #read} would refuse (a negative id or
   *     instance number, x or y not finite, a (study, condition, level) repeated)
   */
  public static void write(Path csv, List<Point> points) throws IOException {
    Csv.Writer w = new Csv.Writer(HEADER);
    Set<Key> seen = new HashSet<>();
    for (int i = 0; i < points.size(); i++) {
      Point p = points.get(i);
      String at = "points[" + i + "]";
      if (p.studyId() < 0) {
        throw new IllegalArgumentException(
            at + ".studyId: expected an id >= 0, got " + p.studyId());
      }
      if (p.seriesId() < 0) {
        throw new IllegalArgumentException(
            at + ".seriesId: expected an id >= 0, got " + p.seriesId());
      }
      if (p.instanceNumber() < 0) {
        throw new IllegalArgumentException(
            at + ".instanceNumber: expected >= 0, got " + p.instanceNumber());
      }
      if (!Double.isFinite(p.x())) {
        throw new IllegalArgumentException(at + ".x: expected a finite number, got " + p.x());
      }
      if (!Double.isFinite(p.y())) {
        throw new IllegalArgumentException(at + ".y: expected a finite number, got " + p.y());
      }
      if (!seen.add(p.key())) {
        throw new IllegalArgumentException(at + ": " + p.key() + " repeated");
      }
      w.row(
          Long.toString(p.studyId()),
          Long.toString(p.seriesId()),
          p.condition().label,
          p.level().label,
          Csv.number(p.x()),
          Csv.number(p.y()),
          Integer.toString(p.instanceNumber()));
    }
    w.writeTo(csv);
  }

  // ---------------------------------------------------------------- accuracy

  /** One of the write-ups' accuracy thresholds: an error below {@code limit} along an axis. */
  public enum Threshold {
    X1('x', 1),
    X2('x', 2),
    X4('x', 4),
    Y1('y', 1),
    Y2('y', 2),
    Y4('y', 4),
    Z1('z', 1),
    Z3('z', 3);

    /** 'x' and 'y' in heatmap pixels, 'z' in slices. */
    public final char axis;

    public final int limit;

    Threshold(char axis, int limit) {
      this.axis = axis;
      this.limit = limit;
    }

    /** {@code "x<1"}, as in the table. */
    public String label() {
      return axis + "<" + limit;
    }

    boolean holds(double ex, double ey, int ez) {
      double e = axis == 'x' ? ex : axis == 'y' ? ey : ez;
      return e < limit;
    }
  }

  /**
   * The accuracy of one condition's points, or of all.
   *
   * @param name the condition's label, or "all"
   * @param condition the condition, or null for all
   * @param points the truth points (each a row of train_label_coordinates.csv)
   * @param missing truth points without a predicted point of their (study, condition, level)
   * @param wrongSeries truth points whose prediction is on another series than the truth's
   * @param hits per threshold, the points within it; missing and wrong-series points never are
   */
  public record Row(
      String name,
      Condition condition,
      int points,
      int missing,
      int wrongSeries,
      Map<Threshold, Integer> hits) {
    public Row {
      Objects.requireNonNull(name, "name");
      hits = Collections.unmodifiableMap(new EnumMap<>(hits));
    }

    /** The share of the truth points within {@code t}; NaN without points. */
    public double fraction(Threshold t) {
      return points == 0 ? Double.NaN : (double) hits.getOrDefault(t, 0) / points;
    }
  }

  /**
   * Point accuracy per condition (in {@link Condition} order) and over all conditions.
   *
   * @param grid the heatmap width x and y errors are counted in
   * @param rows one per condition, then "all"
   * @param predicted the predicted points given
   * @param unmatched predicted points whose (study, condition, level) has no truth point
   */
  public record Accuracy(int grid, List<Row> rows, int predicted, int unmatched) {
    public Accuracy {
      rows = List.copyOf(rows);
    }

    /** The row of {@code condition}. */
    public Row row(Condition condition) {
      return rows.get(condition.ordinal());
    }

    /** The row over all conditions. */
    public Row all() {
      return rows.get(rows.size() - 1);
    }

    /**
     * A Markdown table: a row per condition and "all", the truth points, the fraction within each
     * threshold (three decimals, "-" without points), the missing and the wrong-series points.
     */
    public String table() {
      StringBuilder b = new StringBuilder();
      b.append("| condition | points |");
      for (Threshold t : Threshold.values()) b.append(' ').append(t.label()).append(" |");
      b.append(" missing | wrong series |\n");
      b.append("|---|---:|");
      for (int k = 0; k < Threshold.values().length; k++) b.append("---:|");
      b.append("---:|---:|\n");
      for (Row r : rows) {
        b.append("| ").append(r.name()).append(" | ").append(r.points()).append(" |");
        for (Threshold t : Threshold.values()) {
          double f = r.fraction(t);
          b.append(' ')
              .append(Double.isNaN(f) ? "-" : String.format(Locale.ROOT, "%.3f", f))
              .append(" |");
        }
        b.append(' ').append(r.missing()).append(" | ").append(r.wrongSeries()).append(" |\n");
      }
      return b.toString();
    }
  }

  /**
   * How close {@code predicted} comes to the label coordinates of {@code data}, matched on (study,
   * condition, level).
   *
   * <p>A truth point counts as a miss for every threshold when no point predicts its (study,
   * condition, level) ({@link Row#missing}) or when the prediction is on another series ({@link
   * Row#wrongSeries}). Otherwise the x error is {@code |dx| * grid / columns} and the y error
   * {@code |dy| * grid / rows}, with the columns and rows of the truth's series: pixels of a
   * heatmap {@code grid} wide (80 for a 320 pixel input at stride 4) laid over the whole image. The
   * z error is the difference of the two instances' slice indices in the series' order along its
   * normal (not of their Instance Numbers). The headers of each series involved are read once.
   *
   * @throws IllegalArgumentException when {@code grid < 1}, when points repeat a (study, condition,
   *     level), or when an instance number is not in its series (naming study, series and instance)
   * @throws IOException when a series directory cannot be read ({@link MalformedFileException} when
   *     it holds other than one series)
   */
  public static Accuracy accuracy(Rsna2024.Dataset data, List<Point> predicted, int grid)
      throws IOException {
    return accuracy(data, predicted, grid, Runtime.getRuntime().availableProcessors());
  }

  /** {@link #accuracy(Rsna2024.Dataset, List, int)}, reading headers on {@code threads} threads. */
  public static Accuracy accuracy(
      Rsna2024.Dataset data, List<Point> predicted, int grid, int threads) throws IOException {
    Objects.requireNonNull(data, "data");
    Objects.requireNonNull(predicted, "predicted");
    if (grid < 1) throw new IllegalArgumentException("grid: expected >= 1 pixels, got " + grid);
    DicomSeriesReader.Options read = DicomSeriesReader.Options.defaults().withThreads(threads);
    Map<Key, Point> byKey = new HashMap<>();
    for (int i = 0; i < predicted.size(); i++) {
      Point p = predicted.get(i);
      if (byKey.putIfAbsent(p.key(), p) != null) {
        throw new IllegalArgumentException("predicted[" + i + "]: " + p.key() + " repeated");
      }
    }
    Condition[] conditions = Condition.values();
    int[] points = new int[conditions.length];
    int[] missing = new int[conditions.length];
    int[] wrong = new int[conditions.length];
    int[][] hits = new int[conditions.length][Threshold.values().length];
    Set<Key> truthKeys = new HashSet<>();
    Map<Long, SeriesIndex> series = new HashMap<>();
    for (LabelCoordinate c : data.coordinates()) {
      Key key = new Key(c.studyId(), c.condition(), c.level());
      truthKeys.add(key);
      int ci = c.condition().ordinal();
      points[ci]++;
      Point p = byKey.get(key);
      if (p == null) {
        missing[ci]++;
        continue;
      }
      if (p.seriesId() != c.seriesId()) {
        wrong[ci]++;
        continue;
      }
      SeriesIndex s = series.get(c.seriesId());
      if (s == null) {
        s = SeriesIndex.scan(data, c.studyId(), c.seriesId(), read);
        series.put(c.seriesId(), s);
      }
      int trueSlice = s.slice(c.instanceNumber(), "truth " + key);
      int predictedSlice = s.slice(p.instanceNumber(), "predicted " + key);
      double ex = Math.abs(p.x() - c.x()) * grid / s.columns;
      double ey = Math.abs(p.y() - c.y()) * grid / s.rows;
      int ez = Math.abs(predictedSlice - trueSlice);
      for (Threshold t : Threshold.values()) {
        if (t.holds(ex, ey, ez)) hits[ci][t.ordinal()]++;
      }
    }
    int unmatched = 0;
    for (Key k : byKey.keySet()) {
      if (!truthKeys.contains(k)) unmatched++;
    }
    List<Row> rows = new ArrayList<>();
    int[] allHits = new int[Threshold.values().length];
    int allPoints = 0;
    int allMissing = 0;
    int allWrong = 0;
    for (Condition c : conditions) {
      int ci = c.ordinal();
      rows.add(new Row(c.label, c, points[ci], missing[ci], wrong[ci], hitMap(hits[ci])));
      allPoints += points[ci];
      allMissing += missing[ci];
      allWrong += wrong[ci];
      for (int k = 0; k < allHits.length; k++) allHits[k] += hits[ci][k];
    }
    rows.add(new Row("all", null, allPoints, allMissing, allWrong, hitMap(allHits)));
    return new Accuracy(grid, rows, predicted.size(), unmatched);
  }

  private static Map<Threshold, Integer> hitMap(int[] counts) {
    Map<Threshold, Integer> m = new EnumMap<>(Threshold.class);
    for (Threshold t : Threshold.values()) m.put(t, counts[t.ordinal()]);
    return m;
  }

  /** The image size of a series and the slice index of each Instance Number, from its headers. */
  private static final class SeriesIndex {
    final long studyId;
    final long seriesId;
    final int rows;
    final int columns;
    final Map<Integer, Integer> sliceOf = new HashMap<>();
    final Map<Integer, String> ambiguous = new HashMap<>();

    private SeriesIndex(long studyId, long seriesId, int rows, int columns) {
      this.studyId = studyId;
      this.seriesId = seriesId;
      this.rows = rows;
      this.columns = columns;
    }

    static SeriesIndex scan(
        Rsna2024.Dataset data, long studyId, long seriesId, DicomSeriesReader.Options read)
        throws IOException {
      Path dir = data.studyDirs().get(studyId).resolve(Long.toString(seriesId));
      DicomSeriesReader.Scan scan = DicomSeriesReader.scan(dir, read);
      if (scan.series().size() != 1) {
        throw new MalformedFileException(
            dir,
            "expected the one DICOM series of study "
                + studyId
                + " series "
                + seriesId
                + ", found "
                + scan.series().size());
      }
      DicomSeriesReader.Series s = scan.series().get(0);
      DicomHeader first = s.first();
      SeriesIndex index = new SeriesIndex(studyId, seriesId, first.rows(), first.columns());
      List<DicomSeriesReader.Slice> slices = s.slices();
      for (int k = 0; k < slices.size(); k++) {
        int instance = slices.get(k).header().instanceNumber();
        Integer before = index.sliceOf.putIfAbsent(instance, k);
        if (before != null) {
          index.ambiguous.put(instance, "slices " + before + " and " + k);
        }
      }
      return index;
    }

    /** The slice index of {@code instance}; {@code what} names the point for the error. */
    int slice(int instance, String what) {
      String twice = ambiguous.get(instance);
      if (twice != null) {
        throw new IllegalArgumentException(
            what
                + ": instance "
                + instance
                + " of series "
                + seriesId
                + " (study "
                + studyId
                + ") is on "
                + twice
                + ", its slice is ambiguous");
      }
      Integer k = sliceOf.get(instance);
      if (k == null) {
        throw new IllegalArgumentException(
            what
                + ": study "
                + studyId
                + " series "
                + seriesId
                + " has no instance "
                + instance
                + " (it has "
                + sliceOf.size()
                + " slices)");
      }
      return k;
    }
  }

  // ---------------------------------------------------------------- helpers

  private static Condition conditionByLabel(String s) {
    for (Condition c : Condition.values()) {
      if (c.label.equals(s)) return c;
    }
    return null;
  }

  private static Level levelByLabel(String s) {
    for (Level l : Level.values()) {
      if (l.label.equals(s)) return l;
    }
    return null;
  }

  private static List<String> conditionLabels() {
    List<String> out = new ArrayList<>();
    for (Condition c : Condition.values()) out.add(c.label);
    return out;
  }

  private static List<String> levelLabels() {
    List<String> out = new ArrayList<>();
    for (Level l : Level.values()) out.add(l.label);
    return out;
  }
}
