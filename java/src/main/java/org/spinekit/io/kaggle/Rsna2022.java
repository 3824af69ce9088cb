package org.spinekit.io.kaggle;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import org.spinekit.io.MalformedFileException;

/**
 * The Kaggle layout of RSNA 2022 Cervical Spine Fracture Detection: {@code train.csv}, {@code
 * train_bounding_boxes.csv}, {@code test.csv}, the submission, and a whole training directory
 * ({@code segmentations/<UID>.nii[.gz]}, {@code train_images/<UID>/}).
 *
 * <p>Readers check every value and fail with a {@link CsvFormatException} naming the file, the line
 * and the column; writers refuse (with {@link IllegalArgumentException}) any row the reader would
 * refuse, and write through {@link org.spinekit.io.AtomicFiles}.
 */
public final class Rsna2022 {
  private Rsna2022() {}

  public static final String TRAIN_CSV = "train.csv";
  public static final String BOUNDING_BOXES_CSV = "train_bounding_boxes.csv";
  public static final String TEST_CSV = "test.csv";
  public static final String SAMPLE_SUBMISSION_CSV = "sample_submission.csv";
  public static final String SEGMENTATIONS_DIR = "segmentations";
  public static final String TRAIN_IMAGES_DIR = "train_images";

  /** The seven vertebra column names, C1 to C7. */
  public static final List<String> VERTEBRAE = List.of("C1", "C2", "C3", "C4", "C5", "C6", "C7");

  /** The per-patient target. */
  public static final String PATIENT_OVERALL = "patient_overall";

  /** The eight prediction targets, in submission order: C1 to C7, then patient_overall. */
  public static final List<String> TARGETS =
      List.of("C1", "C2", "C3", "C4", "C5", "C6", "C7", PATIENT_OVERALL);

  static final String UID = "StudyInstanceUID";

  // ---------------------------------------------------------------- records

  /**
   * One row of train.csv: fracture of the patient and of each vertebra C1..C7 (index 0..6). {@code
   * patientOverall} is true exactly when some vertebra is fractured (the readers and writers check
   * it).
   */
  public record CervicalLabel(String studyUid, boolean patientOverall, boolean[] vertebrae) {
    public CervicalLabel {
      Objects.requireNonNull(studyUid, "studyUid");
      Objects.requireNonNull(vertebrae, "vertebrae");
      if (vertebrae.length != 7) {
        throw new IllegalArgumentException(
            "vertebrae: expected 7 flags (C1..C7), got " + vertebrae.length);
      }
      vertebrae = vertebrae.clone();
    }

    /** A label whose patient_overall follows from the vertebrae. */
    public static CervicalLabel of(String studyUid, boolean... vertebrae) {
      boolean any = false;
      for (boolean v : vertebrae) any |= v;
      return new CervicalLabel(studyUid, any, vertebrae);
    }

    /** A copy of the seven flags. */
    @Override
    public boolean[] vertebrae() {
      return vertebrae.clone();
    }

    /** Whether vertebra C{@code number} (1..7) is fractured. */
    public boolean fractured(int number) {
      if (number < 1 || number > 7) {
        throw new IllegalArgumentException("number: expected 1..7 (C1..C7), got " + number);
      }
      return vertebrae[number - 1];
    }

    /** Whether some vertebra is fractured (what patient_overall must say). */
    public boolean anyVertebraFractured() {
      for (boolean v : vertebrae) {
        if (v) return true;
      }
      return false;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof CervicalLabel l
          && studyUid.equals(l.studyUid)
          && patientOverall == l.patientOverall
          && Arrays.equals(vertebrae, l.vertebrae);
    }

    @Override
    public int hashCode() {
      return 31 * Objects.hash(studyUid, patientOverall) + Arrays.hashCode(vertebrae);
    }

    @Override
    public String toString() {
      StringBuilder s =
          new StringBuilder("CervicalLabel[")
              .append(studyUid)
              .append(", patient_overall=")
              .append(patientOverall ? 1 : 0);
      for (int k = 0; k < 7; k++) {
        s.append(", C").append(k + 1).append('=').append(vertebrae[k] ? 1 : 0);
      }
      return s.append(']').toString();
    }
  }

  /** One row of train_bounding_boxes.csv: a fracture box in pixels on one axial slice. */
  public record FractureBox(
      String studyUid, double x, double y, double width, double height, int sliceNumber) {
    public FractureBox {
      Objects.requireNonNull(studyUid, "studyUid");
    }
  }

  /** One row of test.csv: {@code rowId} is {@code <studyUid>_<predictionType>}. */
  public record TestRow(String rowId, String studyUid, String predictionType) {
    public TestRow {
      Objects.requireNonNull(rowId, "rowId");
      Objects.requireNonNull(studyUid, "studyUid");
      Objects.requireNonNull(predictionType, "predictionType");
    }

    /** The row of {@code studyUid} and {@code predictionType}, with its row id. */
    public static TestRow of(String studyUid, String predictionType) {
      return new TestRow(studyUid + "_" + predictionType, studyUid, predictionType);
    }
  }

  /**
   * One submission row: the probability that {@code target} (C1..C7 or patient_overall) of the
   * study is fractured.
   */
  public record Prediction(String studyUid, String target, double fractured) {
    public Prediction {
      Objects.requireNonNull(studyUid, "studyUid");
      Objects.requireNonNull(target, "target");
    }

    /** {@code <studyUid>_<target>}, as in the submission's row_id. */
    public String rowId() {
      return studyUid + "_" + target;
    }
  }

  /**
   * A checked training directory: the labels, the fracture boxes (empty without
   * train_bounding_boxes.csv), the segmentation files by study and the image directory of every
   * study of train.csv, both maps in train.csv order.
   */
  public record Dataset(
      Path root,
      List<CervicalLabel> train,
      List<FractureBox> boxes,
      Map<String, Path> segmentations,
      Map<String, Path> imageDirs) {
    public Dataset {
      Objects.requireNonNull(root, "root");
      train = List.copyOf(train);
      boxes = List.copyOf(boxes);
      segmentations = Collections.unmodifiableMap(new LinkedHashMap<>(segmentations));
      imageDirs = Collections.unmodifiableMap(new LinkedHashMap<>(imageDirs));
    }
  }

  /**
   * Whether {@code s} is a DICOM UID: dot-separated numbers without leading zeros, at most 64
   * chars.
   */
  public static boolean isDicomUid(String s) {
    return Csv.isDicomUid(s);
  }

  // ---------------------------------------------------------------- train.csv

  /**
   * Reads train.csv. Fails on a missing column, a value other than 0/1, a bad UID, a repeated
   * study, or a patient_overall that disagrees with C1..C7.
   */
  public static List<CervicalLabel> readTrain(Path file) throws IOException {
    return parseTrain(file).values;
  }

  private static Csv.Lined<CervicalLabel> parseTrain(Path file) throws IOException {
    Csv.Table t = Csv.read(file);
    Csv.Column uid = t.column(UID);
    Csv.Column overall = t.column(PATIENT_OVERALL);
    Csv.Column[] cs = new Csv.Column[7];
    for (int k = 0; k < 7; k++) cs[k] = t.column(VERTEBRAE.get(k));
    Csv.Lined<CervicalLabel> out = new Csv.Lined<>();
    Map<String, Integer> seen = new HashMap<>();
    for (Csv.Row r : t.rows) {
      String study = r.uid(uid);
      Integer before = seen.putIfAbsent(study, r.line);
      if (before != null) throw r.error(uid, "study repeated (first on line " + before + ")");
      boolean po = r.bit(overall);
      boolean[] v = new boolean[7];
      int firstFractured = -1;
      for (int k = 0; k < 7; k++) {
        v[k] = r.bit(cs[k]);
        if (v[k] && firstFractured < 0) firstFractured = k;
      }
      if (po && firstFractured < 0) {
        throw r.error(overall, "is 1 but none of C1..C7 is 1");
      }
      if (!po && firstFractured >= 0) {
        throw r.error(overall, "is 0 but " + VERTEBRAE.get(firstFractured) + " is 1");
      }
      out.add(new CervicalLabel(study, po, v), r.line);
    }
    return out;
  }

  public static void writeTrain(Path file, List<CervicalLabel> labels) throws IOException {
    Csv.Writer w = new Csv.Writer(UID, PATIENT_OVERALL, "C1", "C2", "C3", "C4", "C5", "C6", "C7");
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < labels.size(); i++) {
      CervicalLabel l = labels.get(i);
      String at = "labels[" + i + "]";
      checkUid(at, l.studyUid());
      if (!seen.add(l.studyUid())) {
        throw new IllegalArgumentException(at + ".studyUid: study repeated (" + l.studyUid() + ")");
      }
      if (l.patientOverall() != l.anyVertebraFractured()) {
        throw new IllegalArgumentException(
            at
                + ".patientOverall: must be "
                + l.anyVertebraFractured()
                + " (some vertebra fractured), got "
                + l.patientOverall());
      }
      String[] row = new String[9];
      row[0] = l.studyUid();
      row[1] = l.patientOverall() ? "1" : "0";
      for (int k = 0; k < 7; k++) row[2 + k] = l.fractured(k + 1) ? "1" : "0";
      w.row(row);
    }
    w.writeTo(file);
  }

  // ---------------------------------------------------------------- train_bounding_boxes.csv

  /** Reads train_bounding_boxes.csv: finite coordinates, non-negative size and slice number. */
  public static List<FractureBox> readBoundingBoxes(Path file) throws IOException {
    return parseBoxes(file).values;
  }

  private static Csv.Lined<FractureBox> parseBoxes(Path file) throws IOException {
    Csv.Table t = Csv.read(file);
    Csv.Column uid = t.column(UID);
    Csv.Column x = t.column("x");
    Csv.Column y = t.column("y");
    Csv.Column width = t.column("width");
    Csv.Column height = t.column("height");
    Csv.Column slice = t.column("slice_number");
    Csv.Lined<FractureBox> out = new Csv.Lined<>();
    for (Csv.Row r : t.rows) {
      String study = r.uid(uid);
      double bx = r.real(x);
      double by = r.real(y);
      double bw = r.real(width);
      if (bw < 0) throw r.error(width, "negative width");
      double bh = r.real(height);
      if (bh < 0) throw r.error(height, "negative height");
      out.add(new FractureBox(study, bx, by, bw, bh, r.count(slice)), r.line);
    }
    return out;
  }

  public static void writeBoundingBoxes(Path file, List<FractureBox> boxes) throws IOException {
    Csv.Writer w = new Csv.Writer(UID, "x", "y", "width", "height", "slice_number");
    for (int i = 0; i < boxes.size(); i++) {
      FractureBox b = boxes.get(i);
      String at = "boxes[" + i + "]";
      checkUid(at, b.studyUid());
      Csv.checkFinite(at + ".x", b.x());
      Csv.checkFinite(at + ".y", b.y());
      Csv.checkNonNegative(at + ".width", b.width());
      Csv.checkNonNegative(at + ".height", b.height());
      if (b.sliceNumber() < 0) {
        throw new IllegalArgumentException(
            at + ".sliceNumber: must be >= 0, got " + b.sliceNumber());
      }
      w.row(
          b.studyUid(),
          Csv.number(b.x()),
          Csv.number(b.y()),
          Csv.number(b.width()),
          Csv.number(b.height()),
          Integer.toString(b.sliceNumber()));
    }
    w.writeTo(file);
  }

  // ---------------------------------------------------------------- test.csv

  /**
   * Reads test.csv; the row_id must be {@code <StudyInstanceUID>_<prediction_type>} and unique, the
   * prediction type one of C1..C7, patient_overall.
   */
  public static List<TestRow> readTest(Path file) throws IOException {
    Csv.Table t = Csv.read(file);
    Csv.Column rowId = t.column("row_id");
    Csv.Column uid = t.column(UID);
    Csv.Column type = t.column("prediction_type");
    List<TestRow> out = new ArrayList<>(t.rows.size());
    Map<String, Integer> seen = new HashMap<>();
    for (Csv.Row r : t.rows) {
      String study = r.uid(uid);
      String target = r.get(type);
      if (!TARGETS.contains(target)) throw r.error(type, "expected one of " + TARGETS);
      String id = r.get(rowId);
      String expected = study + "_" + target;
      if (!id.equals(expected)) {
        throw r.error(rowId, "expected '" + expected + "' from " + UID + " and prediction_type");
      }
      Integer before = seen.putIfAbsent(id, r.line);
      if (before != null) throw r.error(rowId, "row id repeated (first on line " + before + ")");
      out.add(new TestRow(id, study, target));
    }
    return out;
  }

  public static void writeTest(Path file, List<TestRow> rows) throws IOException {
    Csv.Writer w = new Csv.Writer("row_id", UID, "prediction_type");
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < rows.size(); i++) {
      TestRow row = rows.get(i);
      String at = "rows[" + i + "]";
      checkUid(at, row.studyUid());
      checkTarget(at + ".predictionType", row.predictionType());
      String expected = row.studyUid() + "_" + row.predictionType();
      if (!row.rowId().equals(expected)) {
        throw new IllegalArgumentException(
            at + ".rowId: expected '" + expected + "', got '" + row.rowId() + "'");
      }
      if (!seen.add(row.rowId())) {
        throw new IllegalArgumentException(at + ".rowId: repeated ('" + row.rowId() + "')");
      }
      w.row(row.rowId(), row.studyUid(), row.predictionType());
    }
    w.writeTo(file);
  }

  // ---------------------------------------------------------------- submission

  /**
   * Reads a submission ({@code row_id,fractured}): row ids {@code <UID>_C1} .. {@code <UID>_C7},
   * {@code <UID>_patient_overall}, each once; probabilities finite and in [0, 1].
   */
  public static List<Prediction> readSubmission(Path file) throws IOException {
    Csv.Table t = Csv.read(file);
    Csv.Column rowId = t.column("row_id");
    Csv.Column fractured = t.column("fractured");
    List<Prediction> out = new ArrayList<>(t.rows.size());
    Map<String, Integer> seen = new HashMap<>();
    for (Csv.Row r : t.rows) {
      String id = r.get(rowId);
      int cut = id.indexOf('_');
      String study = cut < 0 ? "" : id.substring(0, cut);
      String target = cut < 0 ? "" : id.substring(cut + 1);
      if (!Csv.isDicomUid(study) || !TARGETS.contains(target)) {
        throw r.error(rowId, "expected <StudyInstanceUID>_<target> with target one of " + TARGETS);
      }
      Integer before = seen.putIfAbsent(id, r.line);
      if (before != null) throw r.error(rowId, "row id repeated (first on line " + before + ")");
      double p = r.real(fractured);
      if (p < 0 || p > 1) throw r.error(fractured, "probability outside [0, 1]");
      out.add(new Prediction(study, target, p));
    }
    return out;
  }

  /** Writes a submission in the order given; probabilities are written to full precision. */
  public static void writeSubmission(Path file, List<Prediction> predictions) throws IOException {
    Csv.Writer w = new Csv.Writer("row_id", "fractured");
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < predictions.size(); i++) {
      Prediction p = predictions.get(i);
      String at = "predictions[" + i + "]";
      checkUid(at, p.studyUid());
      checkTarget(at + ".target", p.target());
      if (!(p.fractured() >= 0 && p.fractured() <= 1)) {
        throw new IllegalArgumentException(
            at + ".fractured: expected a probability in [0, 1]," + " got " + p.fractured());
      }
      if (!seen.add(p.rowId())) {
        throw new IllegalArgumentException(at + ": row id repeated ('" + p.rowId() + "')");
      }
      w.row(p.rowId(), Csv.number(p.fractured()));
    }
    w.writeTo(file);
  }

  // ---------------------------------------------------------------- the directory

  /**
   * Opens and checks a training directory: train.csv (required), train_bounding_boxes.csv
   * (optional), {@code segmentations/<UID>.nii} or {@code .nii.gz} (optional) and {@code
   * train_images/<UID>/} for every study of train.csv. Fails on a box or segmentation of a study
   * that train.csv lacks, a study without an image directory, and on anything {@link #readTrain}
   * and {@link #readBoundingBoxes} refuse.
   */
  public static Dataset open(Path root) throws IOException {
    Path trainFile = root.resolve(TRAIN_CSV);
    if (!Files.isRegularFile(trainFile)) {
      throw new NoSuchFileException(
          trainFile.toString(), null, "an RSNA 2022 training directory needs " + TRAIN_CSV);
    }
    Csv.Lined<CervicalLabel> train = parseTrain(trainFile);
    Map<String, Integer> trainLine = new HashMap<>();
    for (int i = 0; i < train.values.size(); i++) {
      trainLine.put(train.values.get(i).studyUid(), train.lines.get(i));
    }

    List<FractureBox> boxes = List.of();
    Path boxFile = root.resolve(BOUNDING_BOXES_CSV);
    if (Files.exists(boxFile)) {
      Csv.Lined<FractureBox> b = parseBoxes(boxFile);
      for (int i = 0; i < b.values.size(); i++) {
        String study = b.values.get(i).studyUid();
        if (!trainLine.containsKey(study)) {
          throw CsvFormatException.value(
              boxFile, b.lines.get(i), UID, "study is not in " + trainFile, study);
        }
      }
      boxes = b.values;
    }

    Map<String, Path> found = new TreeMap<>();
    Path segDir = root.resolve(SEGMENTATIONS_DIR);
    if (Files.isDirectory(segDir)) {
      try (DirectoryStream<Path> files = Files.newDirectoryStream(segDir)) {
        for (Path f : files) {
          String name = f.getFileName().toString();
          String stem =
              name.endsWith(".nii.gz")
                  ? name.substring(0, name.length() - 7)
                  : name.endsWith(".nii") ? name.substring(0, name.length() - 4) : null;
          if (stem == null || name.startsWith(".")) continue;
          if (!Csv.isDicomUid(stem)) {
            throw new MalformedFileException(
                f, "segmentation file name is not <StudyInstanceUID>.nii or .nii.gz");
          }
          if (!trainLine.containsKey(stem)) {
            throw new MalformedFileException(
                f, "segmentation of study " + stem + ", which is not in " + trainFile);
          }
          Path other = found.put(stem, f);
          if (other != null) {
            throw new MalformedFileException(
                f, "second segmentation of study " + stem + " (also " + other.getFileName() + ")");
          }
        }
      }
    }
    Map<String, Path> segmentations = new LinkedHashMap<>();
    Map<String, Path> imageDirs = new LinkedHashMap<>();
    Path images = root.resolve(TRAIN_IMAGES_DIR);
    for (int i = 0; i < train.values.size(); i++) {
      String study = train.values.get(i).studyUid();
      Path seg = found.get(study);
      if (seg != null) segmentations.put(study, seg);
      Path dir = images.resolve(study);
      if (!Files.isDirectory(dir)) {
        throw CsvFormatException.value(
            trainFile, train.lines.get(i), UID, "study has no image directory " + dir, study);
      }
      imageDirs.put(study, dir);
    }
    return new Dataset(root, train.values, boxes, segmentations, imageDirs);
  }

  // ---------------------------------------------------------------- helpers

  private static void checkUid(String at, String uid) {
    if (!Csv.isDicomUid(uid)) {
      throw new IllegalArgumentException(
          at
              + ".studyUid: expected a DICOM UID (digits and dots,"
              + " at most 64 characters), got '"
              + uid
              + "'");
    }
  }

  private static void checkTarget(String at, String target) {
    if (!TARGETS.contains(target)) {
      throw new IllegalArgumentException(
          at + ": expected one of " + TARGETS + ", got '" + target + "'");
    }
  }
}
