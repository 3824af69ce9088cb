package org.spinekit.io.kaggle;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The Kaggle layout of RSNA 2024 Lumbar Spine Degenerative Classification: {@code train.csv},
 * {@code train_label_coordinates.csv}, {@code train_series_descriptions.csv} (and {@code
 * test_series_descriptions.csv}, same layout), the submission, and a whole training directory
 * ({@code train_images/<study_id>/<series_id>/}).
 *
 * <p>Readers check every value and fail with a {@link CsvFormatException} naming the file, the line
 * and the column; writers refuse (with {@link IllegalArgumentException}) any row the reader would
 * refuse, and write through {@link org.spinekit.io.AtomicFiles}.
 */
public final class Rsna2024 {
  private Rsna2024() {}

  public static final String TRAIN_CSV = "train.csv";
  public static final String COORDINATES_CSV = "train_label_coordinates.csv";
  public static final String SERIES_CSV = "train_series_descriptions.csv";
  public static final String TEST_SERIES_CSV = "test_series_descriptions.csv";
  public static final String SAMPLE_SUBMISSION_CSV = "sample_submission.csv";
  public static final String TRAIN_IMAGES_DIR = "train_images";

  public static final String SAGITTAL_T1 = "Sagittal T1";
  public static final String SAGITTAL_T2_STIR = "Sagittal T2/STIR";
  public static final String AXIAL_T2 = "Axial T2";

  /** The three series descriptions of the data set. */
  public static final List<String> SERIES_DESCRIPTIONS =
      List.of(SAGITTAL_T1, SAGITTAL_T2_STIR, AXIAL_T2);

  /** The submission's probability columns, in Grade order. */
  public static final List<String> SUBMISSION_COLUMNS =
      List.of(Grade.NORMAL_MILD.key, Grade.MODERATE.key, Grade.SEVERE.key);

  static final String STUDY = "study_id";
  static final String SERIES = "series_id";

  /** The series on which the readers grade {@code condition}, as the data set labels it. */
  public static String seriesFor(Condition condition) {
    return switch (condition) {
      case SPINAL_CANAL_STENOSIS -> SAGITTAL_T2_STIR;
      case LEFT_NEURAL_FORAMINAL_NARROWING, RIGHT_NEURAL_FORAMINAL_NARROWING -> SAGITTAL_T1;
      case LEFT_SUBARTICULAR_STENOSIS, RIGHT_SUBARTICULAR_STENOSIS -> AXIAL_T2;
    };
  }

  // ---------------------------------------------------------------- records

  /** A condition at a level: one of the 25 grades of a study. */
  public record ConditionLevel(Condition condition, Level level) {
    /** All 25, in train.csv column order: conditions in enum order, levels within each. */
    public static final List<ConditionLevel> ALL;

    private static final Map<String, ConditionLevel> BY_COLUMN;

    static {
      List<ConditionLevel> all = new ArrayList<>();
      Map<String, ConditionLevel> byColumn = new HashMap<>();
      for (Condition c : Condition.values()) {
        for (Level l : Level.values()) {
          ConditionLevel cl = new ConditionLevel(c, l);
          all.add(cl);
          byColumn.put(cl.column(), cl);
        }
      }
      ALL = List.copyOf(all);
      BY_COLUMN = Map.copyOf(byColumn);
    }

    public ConditionLevel {
      Objects.requireNonNull(condition, "condition");
      Objects.requireNonNull(level, "level");
    }

    /**
     * {@code <condition.key>_<level.key>}, the train.csv column ("spinal_canal_stenosis_l1_l2").
     */
    public String column() {
      return condition.key + "_" + level.key;
    }

    /** Position in {@link #ALL}, 0..24. */
    public int index() {
      return condition.ordinal() * Level.values().length + level.ordinal();
    }

    /** By train.csv column name, or null. */
    public static ConditionLevel parse(String column) {
      return BY_COLUMN.get(column);
    }
  }

  /**
   * One row of train.csv: the study's grades. A blank cell (the real file has them) is a missing
   * grade, absent from the map; the map iterates in column order.
   */
  public record LumbarLabel(long studyId, Map<ConditionLevel, Grade> grades) {
    public LumbarLabel {
      Objects.requireNonNull(grades, "grades");
      Map<ConditionLevel, Grade> ordered = new LinkedHashMap<>();
      for (ConditionLevel cl : ConditionLevel.ALL) {
        Grade g = grades.get(cl);
        if (g != null) ordered.put(cl, g);
      }
      if (ordered.size() != grades.size()) {
        throw new IllegalArgumentException("grades: null key or value in " + grades);
      }
      grades = Collections.unmodifiableMap(ordered);
    }

    /** The grade of {@code condition} at {@code level}, or null when missing. */
    public Grade grade(Condition condition, Level level) {
      return grades.get(new ConditionLevel(condition, level));
    }
  }

  /**
   * One row of train_label_coordinates.csv: where a reader marked {@code condition} at {@code
   * level}, in pixels (column x, row y) of instance {@code instanceNumber} of a series.
   */
  public record LabelCoordinate(
      long studyId,
      long seriesId,
      int instanceNumber,
      Condition condition,
      Level level,
      double x,
      double y) {
    public LabelCoordinate {
      Objects.requireNonNull(condition, "condition");
      Objects.requireNonNull(level, "level");
    }
  }

  /** One row of train_series_descriptions.csv. */
  public record SeriesDescription(long studyId, long seriesId, String description) {
    public SeriesDescription {
      Objects.requireNonNull(description, "description");
    }
  }

  /**
   * One submission row: the three grade probabilities of {@code condition} at {@code level} of a
   * study, as written (not renormalised).
   */
  public record Prediction(
      long studyId,
      Condition condition,
      Level level,
      double normalMild,
      double moderate,
      double severe) {
    public Prediction {
      Objects.requireNonNull(condition, "condition");
      Objects.requireNonNull(level, "level");
    }

    /** {@code <study_id>_<condition.key>_<level.key>}, as in the submission's row_id. */
    public String rowId() {
      return studyId + "_" + condition.key + "_" + level.key;
    }

    /** The probability of {@code grade}. */
    public double probability(Grade grade) {
      return switch (grade) {
        case NORMAL_MILD -> normalMild;
        case MODERATE -> moderate;
        case SEVERE -> severe;
      };
    }
  }

  /**
   * A checked training directory: the grades, the label coordinates (empty without
   * train_label_coordinates.csv), the series and the image directory of every study of train.csv,
   * in train.csv order.
   */
  public record Dataset(
      Path root,
      List<LumbarLabel> train,
      List<LabelCoordinate> coordinates,
      List<SeriesDescription> series,
      Map<Long, Path> studyDirs) {
    public Dataset {
      Objects.requireNonNull(root, "root");
      train = List.copyOf(train);
      coordinates = List.copyOf(coordinates);
      series = List.copyOf(series);
      studyDirs = Collections.unmodifiableMap(new LinkedHashMap<>(studyDirs));
    }

    /**
     * What is odd but found in the real data, one line each: a label coordinate on a series other
     * than the one its condition is graded on (one spinal canal point of the real data sits on a
     * Sagittal T1), a study of train.csv without any series description or without any label
     * coordinate.
     */
    public List<String> warnings() {
      Map<Long, String> description = new HashMap<>();
      Set<Long> studiesWithSeries = new HashSet<>();
      for (SeriesDescription s : series) {
        description.put(s.seriesId(), s.description());
        studiesWithSeries.add(s.studyId());
      }
      Set<Long> studiesWithPoints = new HashSet<>();
      List<String> out = new ArrayList<>();
      for (LabelCoordinate c : coordinates) {
        studiesWithPoints.add(c.studyId());
        String d = description.get(c.seriesId());
        String expected = seriesFor(c.condition());
        if (d != null && !d.equals(expected)) {
          out.add(
              "study "
                  + c.studyId()
                  + ": "
                  + c.condition().label
                  + " "
                  + c.level().label
                  + " marked on series "
                  + c.seriesId()
                  + " ("
                  + d
                  + "), expected a "
                  + expected);
        }
      }
      for (LumbarLabel l : train) {
        if (!studiesWithSeries.contains(l.studyId())) {
          out.add("study " + l.studyId() + ": no series in " + SERIES_CSV);
        }
        if (!coordinates.isEmpty() && !studiesWithPoints.contains(l.studyId())) {
          out.add("study " + l.studyId() + ": no label coordinates");
        }
      }
      return out;
    }
  }

  // ---------------------------------------------------------------- train.csv

  /**
   * Reads train.csv: study_id and the 25 grade columns (Normal/Mild, Moderate, Severe, or blank for
   * missing). Fails on a missing column, an unknown grade, a bad or repeated study id.
   */
  public static List<LumbarLabel> readTrain(Path file) throws IOException {
    return parseTrain(file).values;
  }

  private static Csv.Lined<LumbarLabel> parseTrain(Path file) throws IOException {
    Csv.Table t = Csv.read(file);
    Csv.Column study = t.column(STUDY);
    Csv.Column[] cols = new Csv.Column[ConditionLevel.ALL.size()];
    for (int k = 0; k < cols.length; k++) cols[k] = t.column(ConditionLevel.ALL.get(k).column());
    Csv.Lined<LumbarLabel> out = new Csv.Lined<>();
    Map<Long, Integer> seen = new HashMap<>();
    for (Csv.Row r : t.rows) {
      long id = r.id(study);
      Integer before = seen.putIfAbsent(id, r.line);
      if (before != null) throw r.error(study, "study repeated (first on line " + before + ")");
      Map<ConditionLevel, Grade> grades = new LinkedHashMap<>();
      for (int k = 0; k < cols.length; k++) {
        String s = r.get(cols[k]);
        if (s.isEmpty()) continue;
        Grade g = gradeByLabel(s);
        if (g == null)
          throw r.error(
              cols[k], "unknown grade, expected Normal/Mild, Moderate," + " Severe or blank");
        grades.put(ConditionLevel.ALL.get(k), g);
      }
      out.add(new LumbarLabel(id, grades), r.line);
    }
    return out;
  }

  /** Writes train.csv in the real file's column order; a missing grade is a blank cell. */
  public static void writeTrain(Path file, List<LumbarLabel> labels) throws IOException {
    List<String> header = new ArrayList<>();
    header.add(STUDY);
    for (ConditionLevel cl : ConditionLevel.ALL) header.add(cl.column());
    Csv.Writer w = new Csv.Writer(header);
    Set<Long> seen = new HashSet<>();
    String[] row = new String[header.size()];
    for (int i = 0; i < labels.size(); i++) {
      LumbarLabel l = labels.get(i);
      String at = "labels[" + i + "]";
      checkId(at + ".studyId", l.studyId());
      if (!seen.add(l.studyId())) {
        throw new IllegalArgumentException(at + ".studyId: study repeated (" + l.studyId() + ")");
      }
      row[0] = Long.toString(l.studyId());
      for (int k = 0; k < ConditionLevel.ALL.size(); k++) {
        Grade g = l.grades().get(ConditionLevel.ALL.get(k));
        row[1 + k] = g == null ? "" : g.label;
      }
      w.row(row);
    }
    w.writeTo(file);
  }

  // ---------------------------------------------------------------- train_label_coordinates.csv

  /**
   * Reads train_label_coordinates.csv: ids, instance number, condition ("Spinal Canal Stenosis"),
   * level ("L1/L2") and finite x, y.
   */
  public static List<LabelCoordinate> readCoordinates(Path file) throws IOException {
    return parseCoordinates(file).values;
  }

  private static Csv.Lined<LabelCoordinate> parseCoordinates(Path file) throws IOException {
    Csv.Table t = Csv.read(file);
    Csv.Column study = t.column(STUDY);
    Csv.Column series = t.column(SERIES);
    Csv.Column instance = t.column("instance_number");
    Csv.Column condition = t.column("condition");
    Csv.Column level = t.column("level");
    Csv.Column x = t.column("x");
    Csv.Column y = t.column("y");
    Csv.Lined<LabelCoordinate> out = new Csv.Lined<>();
    for (Csv.Row r : t.rows) {
      long studyId = r.id(study);
      long seriesId = r.id(series);
      int n = r.count(instance);
      Condition c = conditionByLabel(r.get(condition));
      if (c == null) throw r.error(condition, "unknown condition, expected one of " + labels());
      Level l = levelByLabel(r.get(level));
      if (l == null)
        throw r.error(
            level, "unknown level, expected one of L1/L2, L2/L3, L3/L4," + " L4/L5, L5/S1");
      out.add(new LabelCoordinate(studyId, seriesId, n, c, l, r.real(x), r.real(y)), r.line);
    }
    return out;
  }

  public static void writeCoordinates(Path file, List<LabelCoordinate> coordinates)
      throws IOException {
    Csv.Writer w = new Csv.Writer(STUDY, SERIES, "instance_number", "condition", "level", "x", "y");
    for (int i = 0; i < coordinates.size(); i++) {
      LabelCoordinate c = coordinates.get(i);
      String at = "coordinates[" + i + "]";
      checkId(at + ".studyId", c.studyId());
      checkId(at + ".seriesId", c.seriesId());
      if (c.instanceNumber() < 0) {
        throw new IllegalArgumentException(
            at + ".instanceNumber: must be >= 0, got " + c.instanceNumber());
      }
      Csv.checkFinite(at + ".x", c.x());
      Csv.checkFinite(at + ".y", c.y());
      w.row(
          Long.toString(c.studyId()),
          Long.toString(c.seriesId()),
          Integer.toString(c.instanceNumber()),
          c.condition().label,
          c.level().label,
          Csv.number(c.x()),
          Csv.number(c.y()));
    }
    w.writeTo(file);
  }

  // ---------------------------------------------------------------- train_series_descriptions.csv

  /**
   * Reads train_series_descriptions.csv (or test_series_descriptions.csv): ids and a description
   * among {@link #SERIES_DESCRIPTIONS}; a series listed twice for a study fails.
   */
  public static List<SeriesDescription> readSeriesDescriptions(Path file) throws IOException {
    return parseSeries(file).values;
  }

  private static Csv.Lined<SeriesDescription> parseSeries(Path file) throws IOException {
    Csv.Table t = Csv.read(file);
    Csv.Column study = t.column(STUDY);
    Csv.Column series = t.column(SERIES);
    Csv.Column description = t.column("series_description");
    Csv.Lined<SeriesDescription> out = new Csv.Lined<>();
    Map<List<Long>, Integer> seen = new HashMap<>();
    for (Csv.Row r : t.rows) {
      long studyId = r.id(study);
      long seriesId = r.id(series);
      String d = r.get(description);
      if (!SERIES_DESCRIPTIONS.contains(d)) {
        throw r.error(
            description, "unknown series description, expected one of " + SERIES_DESCRIPTIONS);
      }
      Integer before = seen.putIfAbsent(List.of(studyId, seriesId), r.line);
      if (before != null) {
        throw r.error(series, "series repeated (first on line " + before + ")");
      }
      out.add(new SeriesDescription(studyId, seriesId, d), r.line);
    }
    return out;
  }

  public static void writeSeriesDescriptions(Path file, List<SeriesDescription> series)
      throws IOException {
    Csv.Writer w = new Csv.Writer(STUDY, SERIES, "series_description");
    Set<List<Long>> seen = new HashSet<>();
    for (int i = 0; i < series.size(); i++) {
      SeriesDescription s = series.get(i);
      String at = "series[" + i + "]";
      checkId(at + ".studyId", s.studyId());
      checkId(at + ".seriesId", s.seriesId());
      if (!SERIES_DESCRIPTIONS.contains(s.description())) {
        throw new IllegalArgumentException(
            at
                + ".description: expected one of "
                + SERIES_DESCRIPTIONS
                + ", got '"
                + s.description()
                + "'");
      }
      if (!seen.add(List.of(s.studyId(), s.seriesId()))) {
        throw new IllegalArgumentException(
            at + ": series " + s.seriesId() + " of study " + s.studyId() + " repeated");
      }
      w.row(Long.toString(s.studyId()), Long.toString(s.seriesId()), s.description());
    }
    w.writeTo(file);
  }

  // ---------------------------------------------------------------- submission

  /**
   * Reads a submission ({@code row_id,normal_mild,moderate,severe}): row ids {@code
   * <study_id>_<condition>_<level>}, each once; probabilities finite and non-negative, returned as
   * written (not renormalised).
   */
  public static List<Prediction> readSubmission(Path file) throws IOException {
    Csv.Table t = Csv.read(file);
    Csv.Column rowId = t.column("row_id");
    Csv.Column[] p = new Csv.Column[3];
    for (int k = 0; k < 3; k++) p[k] = t.column(SUBMISSION_COLUMNS.get(k));
    List<Prediction> out = new ArrayList<>(t.rows.size());
    Map<String, Integer> seen = new HashMap<>();
    for (Csv.Row r : t.rows) {
      String id = r.get(rowId);
      int cut = id.indexOf('_');
      String study = cut < 0 ? "" : id.substring(0, cut);
      ConditionLevel cl = cut < 0 ? null : ConditionLevel.parse(id.substring(cut + 1));
      long studyId = -1;
      if (study.chars().allMatch(ch -> ch >= '0' && ch <= '9') && !study.isEmpty()) {
        try {
          studyId = Long.parseLong(study);
        } catch (NumberFormatException e) {
          studyId = -1;
        }
      }
      if (studyId < 0 || cl == null) {
        throw r.error(
            rowId,
            "expected <study_id>_<condition>_<level> such as"
                + " 4003253_spinal_canal_stenosis_l1_l2");
      }
      Integer before = seen.putIfAbsent(id, r.line);
      if (before != null) throw r.error(rowId, "row id repeated (first on line " + before + ")");
      double[] v = new double[3];
      for (int k = 0; k < 3; k++) {
        v[k] = r.real(p[k]);
        if (v[k] < 0) throw r.error(p[k], "negative probability");
      }
      out.add(new Prediction(studyId, cl.condition(), cl.level(), v[0], v[1], v[2]));
    }
    return out;
  }

  /** Writes a submission in the order given, probabilities as given at full precision. */
  public static void writeSubmission(Path file, List<Prediction> predictions) throws IOException {
    Csv.Writer w =
        new Csv.Writer(
            "row_id",
            SUBMISSION_COLUMNS.get(0),
            SUBMISSION_COLUMNS.get(1),
            SUBMISSION_COLUMNS.get(2));
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < predictions.size(); i++) {
      Prediction p = predictions.get(i);
      String at = "predictions[" + i + "]";
      checkId(at + ".studyId", p.studyId());
      Csv.checkNonNegative(at + ".normalMild", p.normalMild());
      Csv.checkNonNegative(at + ".moderate", p.moderate());
      Csv.checkNonNegative(at + ".severe", p.severe());
      if (!seen.add(p.rowId())) {
        throw new IllegalArgumentException(at + ": row id repeated ('" + p.rowId() + "')");
      }
      w.row(
          p.rowId(), Csv.number(p.normalMild()), Csv.number(p.moderate()), Csv.number(p.severe()));
    }
    w.writeTo(file);
  }

  // ---------------------------------------------------------------- the directory

  /**
   * Opens and checks a training directory: train.csv and train_series_descriptions.csv (required),
   * train_label_coordinates.csv (optional), and {@code train_images/<study_id>/} for every study of
   * train.csv, {@code train_images/<study_id>/<series_id>/} for every described series. Fails on a
   * series of a study that train.csv lacks, a coordinate whose study is not in train.csv or whose
   * series is not described for that study, a missing image directory, and on anything the file
   * readers refuse. What the real data does oddly but consistently is left to {@link
   * Dataset#warnings()}.
   */
  public static Dataset open(Path root) throws IOException {
    Path trainFile = root.resolve(TRAIN_CSV);
    Path seriesFile = root.resolve(SERIES_CSV);
    for (Path f : List.of(trainFile, seriesFile)) {
      if (!Files.isRegularFile(f)) {
        throw new NoSuchFileException(
            f.toString(),
            null,
            "an RSNA 2024 training directory needs " + TRAIN_CSV + " and " + SERIES_CSV);
      }
    }
    Csv.Lined<LumbarLabel> train = parseTrain(trainFile);
    Set<Long> studies = new HashSet<>();
    for (LumbarLabel l : train.values) studies.add(l.studyId());

    Csv.Lined<SeriesDescription> series = parseSeries(seriesFile);
    Set<List<Long>> described = new HashSet<>();
    for (int i = 0; i < series.values.size(); i++) {
      SeriesDescription s = series.values.get(i);
      if (!studies.contains(s.studyId())) {
        throw CsvFormatException.value(
            seriesFile,
            series.lines.get(i),
            STUDY,
            "study is not in " + trainFile,
            Long.toString(s.studyId()));
      }
      described.add(List.of(s.studyId(), s.seriesId()));
    }

    List<LabelCoordinate> coordinates = List.of();
    Path coordinateFile = root.resolve(COORDINATES_CSV);
    if (Files.exists(coordinateFile)) {
      Csv.Lined<LabelCoordinate> c = parseCoordinates(coordinateFile);
      for (int i = 0; i < c.values.size(); i++) {
        LabelCoordinate p = c.values.get(i);
        if (!studies.contains(p.studyId())) {
          throw CsvFormatException.value(
              coordinateFile,
              c.lines.get(i),
              STUDY,
              "study is not in " + trainFile,
              Long.toString(p.studyId()));
        }
        if (!described.contains(List.of(p.studyId(), p.seriesId()))) {
          throw CsvFormatException.value(
              coordinateFile,
              c.lines.get(i),
              SERIES,
              "series of study " + p.studyId() + " is not in " + seriesFile,
              Long.toString(p.seriesId()));
        }
      }
      coordinates = c.values;
    }

    Path images = root.resolve(TRAIN_IMAGES_DIR);
    Map<Long, Path> studyDirs = new LinkedHashMap<>();
    for (int i = 0; i < train.values.size(); i++) {
      long id = train.values.get(i).studyId();
      Path dir = images.resolve(Long.toString(id));
      if (!Files.isDirectory(dir)) {
        throw CsvFormatException.value(
            trainFile,
            train.lines.get(i),
            STUDY,
            "study has no image directory " + dir,
            Long.toString(id));
      }
      studyDirs.put(id, dir);
    }
    for (int i = 0; i < series.values.size(); i++) {
      SeriesDescription s = series.values.get(i);
      Path dir = studyDirs.get(s.studyId()).resolve(Long.toString(s.seriesId()));
      if (!Files.isDirectory(dir)) {
        throw CsvFormatException.value(
            seriesFile,
            series.lines.get(i),
            SERIES,
            "series has no image directory " + dir,
            Long.toString(s.seriesId()));
      }
    }
    return new Dataset(root, train.values, coordinates, series.values, studyDirs);
  }

  // ---------------------------------------------------------------- helpers

  private static Grade gradeByLabel(String s) {
    for (Grade g : Grade.values()) {
      if (g.label.equals(s)) return g;
    }
    return null;
  }

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

  private static List<String> labels() {
    List<String> out = new ArrayList<>();
    for (Condition c : Condition.values()) out.add(c.label);
    return out;
  }

  private static void checkId(String at, long id) {
    if (id < 0) throw new IllegalArgumentException(at + ": expected an id >= 0, got " + id);
  }
}
