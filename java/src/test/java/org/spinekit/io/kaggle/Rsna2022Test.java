package org.spinekit.io.kaggle;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.spinekit.io.kaggle.Fixtures.assertCsvError;
import static org.spinekit.io.kaggle.Fixtures.assertValueError;
import static org.spinekit.io.kaggle.Fixtures.write;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.io.MalformedFileException;
import org.spinekit.io.kaggle.Rsna2022.CervicalLabel;
import org.spinekit.io.kaggle.Rsna2022.Dataset;
import org.spinekit.io.kaggle.Rsna2022.FractureBox;
import org.spinekit.io.kaggle.Rsna2022.Prediction;
import org.spinekit.io.kaggle.Rsna2022.TestRow;

class Rsna2022Test {
  @TempDir Path dir;

  static final String A = "1.2.826.0.1.3680043.6200";
  static final String B = "1.2.826.0.1.3680043.27262";
  static final String C = "1.2.826.0.1.3680043.12351";
  static final String D = "1.2.826.0.1.3680043.10051";

  static final String TRAIN =
      "StudyInstanceUID,patient_overall,C1,C2,C3,C4,C5,C6,C7\n"
          + A
          + ",1,1,1,0,0,0,0,0\n"
          + B
          + ",1,0,1,0,0,0,0,0\n"
          + C
          + ",0,0,0,0,0,0,0,0\n"
          + D
          + ",1,0,0,0,0,1,1,0\n";

  static final String BOXES =
      "StudyInstanceUID,x,y,width,height,slice_number\n"
          + D
          + ",219.27715,216.71419,17.3044,20.38517,133\n"
          + D
          + ",221.5646,216.71419,17.87844,25.24362,134\n"
          + A
          + ",183.0,120.5,40.25,33.0,12\n";

  @Test
  void readsTrainInTheRealFilesStyle() throws IOException {
    List<CervicalLabel> t = Rsna2022.readTrain(write(dir, "train.csv", TRAIN));
    assertEquals(4, t.size());
    assertEquals(A, t.get(0).studyUid());
    assertTrue(t.get(0).patientOverall());
    assertArrayEquals(
        new boolean[] {true, true, false, false, false, false, false}, t.get(0).vertebrae());
    assertFalse(t.get(2).patientOverall());
    assertTrue(t.get(3).fractured(5));
    assertTrue(t.get(3).fractured(6));
    assertFalse(t.get(3).fractured(7));
    assertEquals(CervicalLabel.of(D, false, false, false, false, true, true, false), t.get(3));
  }

  @Test
  void labelIsAValueAndDoesNotShareItsArray() {
    boolean[] v = {false, true, false, false, false, false, false};
    CervicalLabel l = new CervicalLabel(B, true, v);
    v[0] = true;
    assertFalse(l.vertebrae()[0]);
    l.vertebrae()[2] = true;
    assertFalse(l.fractured(3));
    assertEquals(l, CervicalLabel.of(B, false, true, false, false, false, false, false));
    assertEquals(
        l.hashCode(),
        CervicalLabel.of(B, false, true, false, false, false, false, false).hashCode());
    assertNotEquals(l, CervicalLabel.of(B, true, true, false, false, false, false, false));
    assertThrows(IllegalArgumentException.class, () -> new CervicalLabel(B, true, new boolean[6]));
  }

  @Test
  void trainRoundTrip() throws IOException {
    List<CervicalLabel> labels = Rsna2022.readTrain(write(dir, "train.csv", TRAIN));
    Path out = dir.resolve("out/train.csv");
    Rsna2022.writeTrain(out, labels);
    assertEquals(TRAIN, Files.readString(out, UTF_8));
    assertEquals(labels, Rsna2022.readTrain(out));
  }

  @Test
  void trainWithBomCrlfQuotesReorderedAndExtraColumns() throws IOException {
    String text =
        "\uFEFFC7,C6,C5,C4,C3,C2,C1,patient_overall,\"StudyInstanceUID\",note\r\n"
            + "0,0,0,0,0,1,1,1,\""
            + A
            + "\",\"fractures C1, C2\"\r\n"
            + "0,0,0,0,0,0,0,0,"
            + C
            + ",\"said \"\"none\"\"\"\r\n";
    List<CervicalLabel> t = Rsna2022.readTrain(write(dir, "train.csv", text));
    assertEquals(
        List.of(
            CervicalLabel.of(A, true, true, false, false, false, false, false),
            CervicalLabel.of(C, false, false, false, false, false, false, false)),
        t);
  }

  @Test
  void trainErrorsNameFileLineAndColumn() throws IOException {
    Path missing = write(dir, "m.csv", "StudyInstanceUID,patient_overall,C1,C2,C3,C4,C5,C6\n");
    assertCsvError(
        missing
            + ": missing column 'C7' (header has: StudyInstanceUID,"
            + " patient_overall, C1, C2, C3, C4, C5, C6)",
        () -> Rsna2022.readTrain(missing));

    Path bit = write(dir, "bit.csv", TRAIN.replace(B + ",1,0,1,", B + ",1,0,yes,"));
    assertValueError(bit, 3, "C2", "expected 0 or 1", "yes", () -> Rsna2022.readTrain(bit));

    Path uid = write(dir, "uid.csv", TRAIN.replace(C, "1.2.826.0.1.3680043.x"));
    assertValueError(
        uid,
        4,
        "StudyInstanceUID",
        "not a DICOM UID (digits and dots, no empty or"
            + " zero-led component, at most 64 characters)",
        "1.2.826.0.1.3680043.x",
        () -> Rsna2022.readTrain(uid));

    Path dup = write(dir, "dup.csv", TRAIN + A + ",0,0,0,0,0,0,0,0\n");
    assertValueError(
        dup,
        6,
        "StudyInstanceUID",
        "study repeated (first on line 2)",
        A,
        () -> Rsna2022.readTrain(dup));

    Path overall0 = write(dir, "o0.csv", TRAIN.replace(D + ",1,", D + ",0,"));
    assertValueError(
        overall0,
        5,
        "patient_overall",
        "is 0 but C5 is 1",
        "0",
        () -> Rsna2022.readTrain(overall0));

    Path overall1 = write(dir, "o1.csv", TRAIN.replace(C + ",0,", C + ",1,"));
    assertValueError(
        overall1,
        4,
        "patient_overall",
        "is 1 but none of C1..C7 is 1",
        "1",
        () -> Rsna2022.readTrain(overall1));
  }

  @Test
  void boxesRoundTripAndErrors() throws IOException {
    List<FractureBox> boxes = Rsna2022.readBoundingBoxes(write(dir, "b.csv", BOXES));
    assertEquals(new FractureBox(D, 219.27715, 216.71419, 17.3044, 20.38517, 133), boxes.get(0));
    assertEquals(3, boxes.size());
    List<FractureBox> odd = new ArrayList<>(boxes);
    odd.add(new FractureBox(C, 0.1 + 0.2, -1.0 / 3, Double.MIN_VALUE, 1e300, 0));
    Path out = dir.resolve("b2.csv");
    Rsna2022.writeBoundingBoxes(out, odd);
    assertEquals(odd, Rsna2022.readBoundingBoxes(out));
    assertTrue(Files.readString(out).startsWith(BOXES), "real values written as they were read");

    Path nan = write(dir, "nan.csv", BOXES.replace("17.3044", "nan"));
    assertValueError(
        nan, 2, "width", "not a decimal number", "nan", () -> Rsna2022.readBoundingBoxes(nan));
    Path neg = write(dir, "neg.csv", BOXES.replace("40.25", "-40.25"));
    assertValueError(
        neg, 4, "width", "negative width", "-40.25", () -> Rsna2022.readBoundingBoxes(neg));
    Path slice = write(dir, "slice.csv", BOXES.replace(",134\n", ",134.5\n"));
    assertValueError(
        slice,
        3,
        "slice_number",
        "not a non-negative integer",
        "134.5",
        () -> Rsna2022.readBoundingBoxes(slice));
    Path col = write(dir, "col.csv", BOXES.replace(",height,", ",h,"));
    assertCsvError(
        col
            + ": missing column 'height' (header has: StudyInstanceUID, x, y, width,"
            + " h, slice_number)",
        () -> Rsna2022.readBoundingBoxes(col));

    assertThrows(
        IllegalArgumentException.class,
        () ->
            Rsna2022.writeBoundingBoxes(out, List.of(new FractureBox(D, Double.NaN, 1, 1, 1, 1))));
    assertThrows(
        IllegalArgumentException.class,
        () -> Rsna2022.writeBoundingBoxes(out, List.of(new FractureBox(D, 1, 1, -1, 1, 1))));
    assertEquals(odd, Rsna2022.readBoundingBoxes(out), "a refused write leaves the file as it was");
  }

  @Test
  void testCsvRoundTripAndRowIdChecks() throws IOException {
    String uid = "1.2.826.0.1.3680043.10197";
    StringBuilder text = new StringBuilder("row_id,StudyInstanceUID,prediction_type\n");
    for (String target : Rsna2022.TARGETS) {
      text.append(uid)
          .append('_')
          .append(target)
          .append(',')
          .append(uid)
          .append(',')
          .append(target)
          .append('\n');
    }
    List<TestRow> rows = Rsna2022.readTest(write(dir, "test.csv", text.toString()));
    assertEquals(8, rows.size());
    assertEquals(TestRow.of(uid, "C1"), rows.get(0));
    assertEquals(new TestRow(uid + "_patient_overall", uid, "patient_overall"), rows.get(7));
    Path out = dir.resolve("test2.csv");
    Rsna2022.writeTest(out, rows);
    assertEquals(text.toString(), Files.readString(out));
    assertEquals(rows, Rsna2022.readTest(out));

    Path mismatch = write(dir, "mm.csv", text.toString().replace(uid + "_C3,", uid + "_C4,"));
    assertValueError(
        mismatch,
        4,
        "row_id",
        "expected '" + uid + "_C3' from StudyInstanceUID" + " and prediction_type",
        uid + "_C4",
        () -> Rsna2022.readTest(mismatch));
    Path type =
        write(
            dir,
            "type.csv",
            text.toString().replace(uid + "_C3," + uid + ",C3", uid + "_C8," + uid + ",C8"));
    assertValueError(
        type,
        4,
        "prediction_type",
        "expected one of " + Rsna2022.TARGETS,
        "C8",
        () -> Rsna2022.readTest(type));
    Path dup = write(dir, "dup.csv", text + uid + "_C1," + uid + ",C1\n");
    assertValueError(
        dup,
        10,
        "row_id",
        "row id repeated (first on line 2)",
        uid + "_C1",
        () -> Rsna2022.readTest(dup));
    assertThrows(
        IllegalArgumentException.class,
        () -> Rsna2022.writeTest(out, List.of(new TestRow(uid + "_C2", uid, "C1"))));
  }

  @Test
  void submissionRoundTripsFullPrecision() throws IOException {
    List<Prediction> p = new ArrayList<>();
    double[] values = {
      0.5, 0.1 + 0.2, 1.0 / 3, Double.MIN_VALUE, Math.nextDown(1.0), 0.0, 1.0, 1e-17
    };
    for (int i = 0; i < Rsna2022.TARGETS.size(); i++) {
      p.add(new Prediction(A, Rsna2022.TARGETS.get(i), values[i]));
      p.add(new Prediction(B, Rsna2022.TARGETS.get(i), 1 - values[i]));
    }
    Path f = dir.resolve("submission.csv");
    Rsna2022.writeSubmission(f, p);
    List<String> lines = Files.readAllLines(f);
    assertEquals("row_id,fractured", lines.get(0));
    assertEquals(A + "_C1,0.5", lines.get(1));
    assertEquals(B + "_patient_overall,1.0", lines.get(16));
    List<Prediction> back = Rsna2022.readSubmission(f);
    assertEquals(p, back);
    for (int i = 0; i < p.size(); i++) {
      assertEquals(
          Double.doubleToLongBits(p.get(i).fractured()),
          Double.doubleToLongBits(back.get(i).fractured()));
    }
  }

  @Test
  void submissionErrors() throws IOException {
    String head = "row_id,fractured\n" + A + "_C1,0.5\n";
    Path noTarget = write(dir, "s1.csv", head + A + "_C8,0.5\n");
    String rowIdWhat =
        "expected <StudyInstanceUID>_<target> with target one of " + Rsna2022.TARGETS;
    assertValueError(
        noTarget, 3, "row_id", rowIdWhat, A + "_C8", () -> Rsna2022.readSubmission(noTarget));
    Path noUid = write(dir, "s2.csv", head + "abc_C1,0.5\n");
    assertValueError(noUid, 3, "row_id", rowIdWhat, "abc_C1", () -> Rsna2022.readSubmission(noUid));
    Path noSep = write(dir, "s3.csv", head + A + ",0.5\n");
    assertValueError(noSep, 3, "row_id", rowIdWhat, A, () -> Rsna2022.readSubmission(noSep));
    Path high = write(dir, "s4.csv", head + A + "_C2,1.0000001\n");
    assertValueError(
        high,
        3,
        "fractured",
        "probability outside [0, 1]",
        "1.0000001",
        () -> Rsna2022.readSubmission(high));
    Path nan = write(dir, "s5.csv", head + A + "_C2,NaN\n");
    assertValueError(
        nan, 3, "fractured", "not a decimal number", "NaN", () -> Rsna2022.readSubmission(nan));
    Path dup = write(dir, "s6.csv", head + B + "_C1,0.5\n" + A + "_C1,0.25\n");
    assertValueError(
        dup,
        4,
        "row_id",
        "row id repeated (first on line 2)",
        A + "_C1",
        () -> Rsna2022.readSubmission(dup));
    Path col = write(dir, "s7.csv", "row_id,probability\n" + A + "_C1,0.5\n");
    assertCsvError(
        col + ": missing column 'fractured' (header has: row_id, probability)",
        () -> Rsna2022.readSubmission(col));

    Path out = dir.resolve("out.csv");
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                Rsna2022.writeSubmission(
                    out,
                    List.of(new Prediction(A, "C1", 0.5), new Prediction(A, "C2", Double.NaN))));
    assertEquals(
        "predictions[1].fractured: expected a probability in [0, 1], got NaN", e.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () ->
            Rsna2022.writeSubmission(
                out, List.of(new Prediction(A, "C1", 0.5), new Prediction(A, "C1", 0.5))));
    assertThrows(
        IllegalArgumentException.class,
        () -> Rsna2022.writeSubmission(out, List.of(new Prediction(A, "c1", 0.5))));
    assertFalse(Files.exists(out), "a refused submission is not written");
  }

  @Test
  void writeTrainRefusesWhatReadTrainRefuses() {
    Path out = dir.resolve("train.csv");
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                Rsna2022.writeTrain(
                    out,
                    List.of(
                        new CervicalLabel(
                            A,
                            false,
                            new boolean[] {false, false, true, false, false, false, false}))));
    assertEquals(
        "labels[0].patientOverall: must be true (some vertebra fractured), got false",
        e.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () ->
            Rsna2022.writeTrain(
                out,
                List.of(CervicalLabel.of(A, new boolean[7]), CervicalLabel.of(A, new boolean[7]))));
    assertThrows(
        IllegalArgumentException.class,
        () -> Rsna2022.writeTrain(out, List.of(CervicalLabel.of("study-1", new boolean[7]))));
    assertFalse(Files.exists(out));
  }

  // ------------------------------------------------------------ the directory

  private Path layout() throws IOException {
    Path root = dir.resolve("rsna2022");
    write(root, "train.csv", TRAIN);
    write(root, "train_bounding_boxes.csv", BOXES);
    for (String uid : List.of(A, B, C, D)) {
      write(root, "train_images/" + uid + "/1.dcm", "not read here");
    }
    write(root, "segmentations/" + D + ".nii", "");
    write(root, "segmentations/" + A + ".nii.gz", "");
    write(root, "segmentations/readme.txt", "ignored");
    return root;
  }

  @Test
  void opensAWholeTrainingDirectory() throws IOException {
    Path root = layout();
    Dataset d = Rsna2022.open(root);
    assertEquals(root, d.root());
    assertEquals(4, d.train().size());
    assertEquals(3, d.boxes().size());
    assertEquals(List.of(A, D), new ArrayList<>(d.segmentations().keySet()), "in train.csv order");
    assertEquals(root.resolve("segmentations/" + A + ".nii.gz"), d.segmentations().get(A));
    assertEquals(root.resolve("segmentations/" + D + ".nii"), d.segmentations().get(D));
    assertEquals(List.of(A, B, C, D), new ArrayList<>(d.imageDirs().keySet()));
    assertEquals(root.resolve("train_images/" + C), d.imageDirs().get(C));

    Files.delete(root.resolve("train_bounding_boxes.csv"));
    Files.delete(root.resolve("segmentations/" + D + ".nii"));
    Files.delete(root.resolve("segmentations/" + A + ".nii.gz"));
    Dataset bare = Rsna2022.open(root);
    assertEquals(List.of(), bare.boxes());
    assertEquals(Map.of(), bare.segmentations());
  }

  @Test
  void danglingBoxNamesItsLine() throws IOException {
    Path root = layout();
    String other = "1.2.826.0.1.3680043.99999";
    Path boxes = write(root, "train_bounding_boxes.csv", BOXES + other + ",1,2,3,4,5\n");
    assertValueError(
        boxes,
        5,
        "StudyInstanceUID",
        "study is not in " + root.resolve("train.csv"),
        other,
        () -> Rsna2022.open(root));
  }

  @Test
  void danglingOrDoubledSegmentationNamesTheFile() throws IOException {
    Path root = layout();
    String other = "1.2.826.0.1.3680043.99999";
    Path seg = write(root, "segmentations/" + other + ".nii.gz", "");
    MalformedFileException e =
        assertThrows(MalformedFileException.class, () -> Rsna2022.open(root));
    assertEquals(
        seg + ": segmentation of study " + other + ", which is not in " + root.resolve("train.csv"),
        e.getMessage());
    Files.delete(seg);

    write(root, "segmentations/" + D + ".nii.gz", "");
    e = assertThrows(MalformedFileException.class, () -> Rsna2022.open(root));
    assertTrue(e.getMessage().contains("second segmentation of study " + D), e.getMessage());
    Files.delete(root.resolve("segmentations/" + D + ".nii.gz"));

    Path bad = write(root, "segmentations/C1-mask.nii", "");
    e = assertThrows(MalformedFileException.class, () -> Rsna2022.open(root));
    assertEquals(
        bad + ": segmentation file name is not <StudyInstanceUID>.nii or .nii.gz", e.getMessage());
  }

  @Test
  void studyWithoutImagesNamesItsTrainLine() throws IOException {
    Path root = layout();
    Path images = root.resolve("train_images/" + C);
    Files.delete(images.resolve("1.dcm"));
    Files.delete(images);
    assertValueError(
        root.resolve("train.csv"),
        4,
        "StudyInstanceUID",
        "study has no image directory " + images,
        C,
        () -> Rsna2022.open(root));
  }

  @Test
  void inconsistentOrMissingTrainFailsTheDirectory() throws IOException {
    Path root = layout();
    Path train = write(root, "train.csv", TRAIN.replace(B + ",1,", B + ",0,"));
    assertValueError(
        train, 3, "patient_overall", "is 0 but C2 is 1", "0", () -> Rsna2022.open(root));
    Files.delete(train);
    NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> Rsna2022.open(root));
    assertEquals(train.toString(), e.getFile());
  }
}
