package org.spinekit.io.kaggle;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
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
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.io.kaggle.Rsna2024.ConditionLevel;
import org.spinekit.io.kaggle.Rsna2024.Dataset;
import org.spinekit.io.kaggle.Rsna2024.LabelCoordinate;
import org.spinekit.io.kaggle.Rsna2024.LumbarLabel;
import org.spinekit.io.kaggle.Rsna2024.Prediction;
import org.spinekit.io.kaggle.Rsna2024.SeriesDescription;

class Rsna2024Test {
  @TempDir Path dir;

  /** The header of the real train.csv, spelled out. */
  static final String HEADER =
      "study_id,"
          + "spinal_canal_stenosis_l1_l2,spinal_canal_stenosis_l2_l3,spinal_canal_stenosis_l3_l4,"
          + "spinal_canal_stenosis_l4_l5,spinal_canal_stenosis_l5_s1,"
          + "left_neural_foraminal_narrowing_l1_l2,left_neural_foraminal_narrowing_l2_l3,"
          + "left_neural_foraminal_narrowing_l3_l4,left_neural_foraminal_narrowing_l4_l5,"
          + "left_neural_foraminal_narrowing_l5_s1,"
          + "right_neural_foraminal_narrowing_l1_l2,right_neural_foraminal_narrowing_l2_l3,"
          + "right_neural_foraminal_narrowing_l3_l4,right_neural_foraminal_narrowing_l4_l5,"
          + "right_neural_foraminal_narrowing_l5_s1,"
          + "left_subarticular_stenosis_l1_l2,left_subarticular_stenosis_l2_l3,"
          + "left_subarticular_stenosis_l3_l4,left_subarticular_stenosis_l4_l5,"
          + "left_subarticular_stenosis_l5_s1,"
          + "right_subarticular_stenosis_l1_l2,right_subarticular_stenosis_l2_l3,"
          + "right_subarticular_stenosis_l3_l4,right_subarticular_stenosis_l4_l5,"
          + "right_subarticular_stenosis_l5_s1";

  static final String NM = "Normal/Mild";

  /** 4003253: all Normal/Mild but right subarticular L4/L5 Moderate; 4646740: blanks. */
  static final String TRAIN =
      HEADER
          + "\n"
          + "4003253,"
          + (NM + ",").repeat(23)
          + "Moderate,"
          + NM
          + "\n"
          + "4646740,"
          + NM
          + ","
          + NM
          + ",Moderate,Severe,Severe,"
          + (NM + ",").repeat(10)
          + ",,"
          + NM
          + ",Severe,Moderate,"
          + NM
          + ","
          + NM
          + ",Moderate,"
          + NM
          + ","
          + NM
          + "\n";

  static final String SERIES =
      "study_id,series_id,series_description\n"
          + "4003253,702807833,Sagittal T2/STIR\n"
          + "4003253,1054713880,Sagittal T1\n"
          + "4003253,2448190387,Axial T2\n"
          + "4646740,3201256954,Axial T2\n"
          + "4646740,3486248476,Sagittal T1\n"
          + "4646740,3666319702,Sagittal T2/STIR\n";

  static final String COORDINATES =
      "study_id,series_id,instance_number,condition,level,x,y\n"
          + "4003253,702807833,8,Spinal Canal Stenosis,L1/L2,322.8316831683169,227.96435643564357\n"
          + "4003253,702807833,8,Spinal Canal Stenosis,L2/L3,320.5704225352113,295.65352112676055\n"
          + "4003253,1054713880,4,Left Neural Foraminal Narrowing,L4/L5,187.96141975308643,"
          + "251.7530864197531\n"
          + "4003253,2448190387,11,Right Subarticular Stenosis,L1/L2,309.0,183.0\n"
          + "4646740,3486248476,9,Right Neural Foraminal Narrowing,L5/S1,187.0,300.5\n";

  @Test
  void conditionLevelsInTheRealColumnOrder() {
    List<String> columns = new ArrayList<>();
    for (ConditionLevel cl : ConditionLevel.ALL) columns.add(cl.column());
    assertEquals(HEADER, "study_id," + String.join(",", columns));
    for (int i = 0; i < ConditionLevel.ALL.size(); i++) {
      ConditionLevel cl = ConditionLevel.ALL.get(i);
      assertEquals(i, cl.index());
      assertEquals(cl, ConditionLevel.parse(cl.column()));
    }
    assertNull(ConditionLevel.parse("spinal_canal_stenosis_l5_l6"));
    assertEquals(
        Rsna2024.SAGITTAL_T1, Rsna2024.seriesFor(Condition.RIGHT_NEURAL_FORAMINAL_NARROWING));
  }

  @Test
  void readsTrainWithBlanksAsMissing() throws IOException {
    List<LumbarLabel> t = Rsna2024.readTrain(write(dir, "train.csv", TRAIN));
    assertEquals(2, t.size());
    LumbarLabel a = t.get(0);
    assertEquals(4003253L, a.studyId());
    assertEquals(25, a.grades().size());
    assertEquals(Grade.MODERATE, a.grade(Condition.RIGHT_SUBARTICULAR_STENOSIS, Level.L4_L5));
    assertEquals(Grade.NORMAL_MILD, a.grade(Condition.RIGHT_SUBARTICULAR_STENOSIS, Level.L5_S1));
    LumbarLabel b = t.get(1);
    assertEquals(23, b.grades().size());
    assertNull(b.grade(Condition.LEFT_SUBARTICULAR_STENOSIS, Level.L1_L2));
    assertNull(b.grade(Condition.LEFT_SUBARTICULAR_STENOSIS, Level.L2_L3));
    assertEquals(Grade.SEVERE, b.grade(Condition.SPINAL_CANAL_STENOSIS, Level.L5_S1));
    assertEquals(Grade.SEVERE, b.grade(Condition.LEFT_SUBARTICULAR_STENOSIS, Level.L4_L5));
    assertEquals(Grade.MODERATE, b.grade(Condition.RIGHT_SUBARTICULAR_STENOSIS, Level.L3_L4));
  }

  @Test
  void trainRoundTripKeepsTheRealColumnOrderAndBlanks() throws IOException {
    List<LumbarLabel> t = Rsna2024.readTrain(write(dir, "train.csv", TRAIN));
    Path out = dir.resolve("again/train.csv");
    Rsna2024.writeTrain(out, t);
    assertEquals(TRAIN, Files.readString(out, UTF_8));
    assertEquals(t, Rsna2024.readTrain(out));
    // The map's order does not matter to the record; iteration follows the columns.
    Map<ConditionLevel, Grade> shuffled = new HashMap<>(t.get(1).grades());
    LumbarLabel again = new LumbarLabel(4646740L, shuffled);
    assertEquals(t.get(1), again);
    assertEquals(
        new ArrayList<>(t.get(1).grades().keySet()), new ArrayList<>(again.grades().keySet()));
  }

  @Test
  void trainWithBomCrlfAndReorderedColumns() throws IOException {
    List<String> cols = new ArrayList<>(List.of(HEADER.split(",")));
    Collections.reverse(cols);
    StringBuilder text =
        new StringBuilder("\uFEFF").append(String.join(",", cols)).append(",\"comment, free\"\r\n");
    List<String> values =
        new ArrayList<>(
            List.of(("4003253," + (NM + ",").repeat(23) + "Moderate," + NM).split(",")));
    Collections.reverse(values);
    text.append(String.join(",", values)).append(",\"a, b\"\r\n");
    List<LumbarLabel> t = Rsna2024.readTrain(write(dir, "train.csv", text.toString()));
    assertEquals(Rsna2024.readTrain(write(dir, "plain.csv", TRAIN)).get(0), t.get(0));
  }

  @Test
  void trainErrorsNameFileLineAndColumn() throws IOException {
    Path grade = write(dir, "g.csv", TRAIN.replace(",Severe,Severe,", ",Severe,Mild,"));
    assertValueError(
        grade,
        3,
        "spinal_canal_stenosis_l5_s1",
        "unknown grade, expected Normal/Mild, Moderate, Severe or blank",
        "Mild",
        () -> Rsna2024.readTrain(grade));
    Path key = write(dir, "k.csv", TRAIN.replace("Moderate," + NM + "\n", "moderate," + NM + "\n"));
    assertValueError(
        key,
        2,
        "right_subarticular_stenosis_l4_l5",
        "unknown grade, expected Normal/Mild, Moderate, Severe or blank",
        "moderate",
        () -> Rsna2024.readTrain(key));
    Path id = write(dir, "id.csv", TRAIN.replace("4646740,", "4646740a,"));
    assertValueError(
        id,
        3,
        "study_id",
        "not a non-negative integer id",
        "4646740a",
        () -> Rsna2024.readTrain(id));
    Path dup = write(dir, "dup.csv", TRAIN + TRAIN.split("\n")[1] + "\n");
    assertValueError(
        dup,
        4,
        "study_id",
        "study repeated (first on line 2)",
        "4003253",
        () -> Rsna2024.readTrain(dup));
    Path col =
        write(
            dir,
            "col.csv",
            TRAIN.replace("spinal_canal_stenosis_l3_l4", "spinal_canal_stenosis_l3-l4"));
    CsvFormatException e = assertThrows(CsvFormatException.class, () -> Rsna2024.readTrain(col));
    assertTrue(
        e.getMessage()
            .startsWith(
                col
                    + ": missing column 'spinal_canal_stenosis_l3_l4'"
                    + " (header has: study_id, spinal_canal_stenosis_l1_l2,"),
        e.getMessage());
  }

  @Test
  void coordinatesRoundTripAndErrors() throws IOException {
    List<LabelCoordinate> c = Rsna2024.readCoordinates(write(dir, "c.csv", COORDINATES));
    assertEquals(5, c.size());
    assertEquals(
        new LabelCoordinate(
            4003253L,
            702807833L,
            8,
            Condition.SPINAL_CANAL_STENOSIS,
            Level.L1_L2,
            322.8316831683169,
            227.96435643564357),
        c.get(0));
    assertEquals(Condition.LEFT_NEURAL_FORAMINAL_NARROWING, c.get(2).condition());
    assertEquals(Level.L4_L5, c.get(2).level());
    Path out = dir.resolve("c2.csv");
    Rsna2024.writeCoordinates(out, c);
    assertEquals(COORDINATES, Files.readString(out));
    assertEquals(c, Rsna2024.readCoordinates(out));

    Path cond =
        write(
            dir,
            "cond.csv",
            COORDINATES.replace(
                "Left Neural Foraminal Narrowing", "left_neural_foraminal_narrowing"));
    assertValueError(
        cond,
        4,
        "condition",
        "unknown condition, expected one of [Spinal Canal"
            + " Stenosis, Left Neural Foraminal Narrowing, Right Neural Foraminal Narrowing, Left"
            + " Subarticular Stenosis, Right Subarticular Stenosis]",
        "left_neural_foraminal_narrowing",
        () -> Rsna2024.readCoordinates(cond));
    Path level = write(dir, "level.csv", COORDINATES.replace("L5/S1", "L5-S1"));
    assertValueError(
        level,
        6,
        "level",
        "unknown level, expected one of L1/L2, L2/L3, L3/L4," + " L4/L5, L5/S1",
        "L5-S1",
        () -> Rsna2024.readCoordinates(level));
    Path x = write(dir, "x.csv", COORDINATES.replace("309.0,183.0", "309,0,183.0"));
    assertCsvError(x + ":5: 8 fields where the header has 7", () -> Rsna2024.readCoordinates(x));
    Path y = write(dir, "y.csv", COORDINATES.replace("309.0,183.0", "309.0,\"183,0\""));
    assertValueError(y, 5, "y", "not a decimal number", "183,0", () -> Rsna2024.readCoordinates(y));
    Path series =
        write(dir, "s.csv", COORDINATES.replace("4646740,3486248476,", "4646740,3486248476.0,"));
    assertValueError(
        series,
        6,
        "series_id",
        "not a non-negative integer id",
        "3486248476.0",
        () -> Rsna2024.readCoordinates(series));

    assertThrows(
        IllegalArgumentException.class,
        () ->
            Rsna2024.writeCoordinates(
                out,
                List.of(
                    new LabelCoordinate(
                        1,
                        2,
                        3,
                        Condition.SPINAL_CANAL_STENOSIS,
                        Level.L1_L2,
                        Double.POSITIVE_INFINITY,
                        0))));
    assertEquals(c, Rsna2024.readCoordinates(out), "a refused write leaves the file as it was");
  }

  @Test
  void seriesDescriptionsRoundTripAndErrors() throws IOException {
    List<SeriesDescription> s = Rsna2024.readSeriesDescriptions(write(dir, "s.csv", SERIES));
    assertEquals(new SeriesDescription(4003253L, 702807833L, Rsna2024.SAGITTAL_T2_STIR), s.get(0));
    Path out = dir.resolve("s2.csv");
    Rsna2024.writeSeriesDescriptions(out, s);
    assertEquals(SERIES, Files.readString(out));
    assertEquals(s, Rsna2024.readSeriesDescriptions(out));

    Path unknown =
        write(
            dir,
            "u.csv",
            SERIES.replace("4646740,3201256954,Axial T2", "4646740,3201256954,Axial T1"));
    assertValueError(
        unknown,
        5,
        "series_description",
        "unknown series description, expected"
            + " one of [Sagittal T1, Sagittal T2/STIR, Axial T2]",
        "Axial T1",
        () -> Rsna2024.readSeriesDescriptions(unknown));
    Path dup = write(dir, "d.csv", SERIES + "4003253,702807833,Sagittal T1\n");
    assertValueError(
        dup,
        8,
        "series_id",
        "series repeated (first on line 2)",
        "702807833",
        () -> Rsna2024.readSeriesDescriptions(dup));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            Rsna2024.writeSeriesDescriptions(
                out, List.of(new SeriesDescription(1, 2, "Sagittal T2"))));
  }

  @Test
  void submissionRoundTripIsNotRenormalised() throws IOException {
    List<Prediction> p = new ArrayList<>();
    for (ConditionLevel cl : ConditionLevel.ALL) {
      double a = (cl.index() + 1) / 7.0;
      p.add(new Prediction(4003253L, cl.condition(), cl.level(), a, 0.1 + 0.2, 0.2));
    }
    p.add(
        new Prediction(
            44036939L, Condition.SPINAL_CANAL_STENOSIS, Level.L1_L2, 0.333333, 0.333333, 0.333333));
    p.add(new Prediction(44036939L, Condition.SPINAL_CANAL_STENOSIS, Level.L2_L3, 0, 0, 0));
    Path f = dir.resolve("submission.csv");
    Rsna2024.writeSubmission(f, p);
    List<String> lines = Files.readAllLines(f);
    assertEquals("row_id,normal_mild,moderate,severe", lines.get(0));
    assertEquals("44036939_spinal_canal_stenosis_l1_l2,0.333333,0.333333,0.333333", lines.get(26));
    assertTrue(
        lines.get(25).startsWith("4003253_right_subarticular_stenosis_l5_s1,"), lines.get(25));
    List<Prediction> back = Rsna2024.readSubmission(f);
    assertEquals(p, back);
    assertEquals(0.1 + 0.2, back.get(3).probability(Grade.MODERATE));
  }

  @Test
  void submissionErrors() throws IOException {
    String head =
        "row_id,normal_mild,moderate,severe\n"
            + "4003253_spinal_canal_stenosis_l1_l2,0.7,0.2,0.1\n";
    String what =
        "expected <study_id>_<condition>_<level> such as" + " 4003253_spinal_canal_stenosis_l1_l2";
    for (String bad :
        List.of(
            "4003253_spinal_canal_stenosis_l5_l6",
            "spinal_canal_stenosis_l1_l2",
            "_spinal_canal_stenosis_l1_l2",
            "-4_spinal_canal_stenosis_l1_l2",
            "4003253_Spinal Canal Stenosis_L1/L2",
            "99999999999999999999_spinal_canal_stenosis_l1_l2",
            "4003253_central_canal_stenosis_l1_l2")) {
      Path f = write(dir, "bad.csv", head + bad + ",0.3,0.3,0.4\n");
      assertValueError(f, 3, "row_id", what, bad, () -> Rsna2024.readSubmission(f));
    }
    Path neg = write(dir, "neg.csv", head + "4003253_spinal_canal_stenosis_l2_l3,0.5,-0.1,0.6\n");
    assertValueError(
        neg, 3, "moderate", "negative probability", "-0.1", () -> Rsna2024.readSubmission(neg));
    Path inf = write(dir, "inf.csv", head + "4003253_spinal_canal_stenosis_l2_l3,0.5,0.1,inf\n");
    assertValueError(
        inf, 3, "severe", "not a decimal number", "inf", () -> Rsna2024.readSubmission(inf));
    Path dup = write(dir, "dup.csv", head + "4003253_spinal_canal_stenosis_l1_l2,0.5,0.1,0.4\n");
    assertValueError(
        dup,
        3,
        "row_id",
        "row id repeated (first on line 2)",
        "4003253_spinal_canal_stenosis_l1_l2",
        () -> Rsna2024.readSubmission(dup));
    Path col = write(dir, "col.csv", "row_id,normal_mild,moderate\n");
    assertCsvError(
        col + ": missing column 'severe' (header has: row_id, normal_mild," + " moderate)",
        () -> Rsna2024.readSubmission(col));

    Path out = dir.resolve("out.csv");
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                Rsna2024.writeSubmission(
                    out,
                    List.of(
                        new Prediction(
                            1L,
                            Condition.SPINAL_CANAL_STENOSIS,
                            Level.L1_L2,
                            0.5,
                            Double.NaN,
                            0.5))));
    assertEquals("predictions[0].moderate: expected a finite number >= 0, got NaN", e.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () ->
            Rsna2024.writeSubmission(
                out,
                List.of(
                    new Prediction(1L, Condition.SPINAL_CANAL_STENOSIS, Level.L1_L2, 1, 0, 0),
                    new Prediction(1L, Condition.SPINAL_CANAL_STENOSIS, Level.L1_L2, 1, 0, 0))));
    assertFalse(Files.exists(out));
  }

  @Test
  void writeTrainRefusesRepeatedStudies() {
    Map<ConditionLevel, Grade> g = Map.of(ConditionLevel.ALL.get(0), Grade.SEVERE);
    Path out = dir.resolve("train.csv");
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                Rsna2024.writeTrain(out, List.of(new LumbarLabel(7L, g), new LumbarLabel(7L, g))));
    assertEquals("labels[1].studyId: study repeated (7)", e.getMessage());
    assertFalse(Files.exists(out));
  }

  // ------------------------------------------------------------ the directory

  private Path layout() throws IOException {
    Path root = dir.resolve("rsna2024");
    write(root, "train.csv", TRAIN);
    write(root, "train_series_descriptions.csv", SERIES);
    write(root, "train_label_coordinates.csv", COORDINATES);
    for (SeriesDescription s :
        Rsna2024.readSeriesDescriptions(root.resolve("train_series_descriptions.csv"))) {
      write(root, "train_images/" + s.studyId() + "/" + s.seriesId() + "/1.dcm", "not read");
    }
    return root;
  }

  @Test
  void opensAWholeTrainingDirectory() throws IOException {
    Path root = layout();
    Dataset d = Rsna2024.open(root);
    assertEquals(2, d.train().size());
    assertEquals(5, d.coordinates().size());
    assertEquals(6, d.series().size());
    assertEquals(List.of(4003253L, 4646740L), new ArrayList<>(d.studyDirs().keySet()));
    assertEquals(root.resolve("train_images/4646740"), d.studyDirs().get(4646740L));
    assertEquals(List.of(), d.warnings());

    Files.delete(root.resolve("train_label_coordinates.csv"));
    assertEquals(List.of(), Rsna2024.open(root).coordinates());
  }

  @Test
  void quirksOfTheRealDataAreWarningsNotErrors() throws IOException {
    Path root = layout();
    // One spinal canal point of the real data sits on a Sagittal T1; a study can lack points.
    write(
        root,
        "train_label_coordinates.csv",
        COORDINATES.replace(
            "4646740,3486248476,9,Right Neural Foraminal Narrowing",
            "4003253,1054713880,9,Spinal Canal Stenosis"));
    Dataset d = Rsna2024.open(root);
    assertEquals(
        List.of(
            "study 4003253: Spinal Canal Stenosis L5/S1 marked on series 1054713880"
                + " (Sagittal T1), expected a Sagittal T2/STIR",
            "study 4646740: no label coordinates"),
        d.warnings());
  }

  @Test
  void danglingCoordinateStudyOrSeriesNamesItsLine() throws IOException {
    Path root = layout();
    Path c =
        write(
            root,
            "train_label_coordinates.csv",
            COORDINATES + "1234567,702807833,8,Spinal Canal Stenosis,L3/L4,1.0,2.0\n");
    assertValueError(
        c,
        7,
        "study_id",
        "study is not in " + root.resolve("train.csv"),
        "1234567",
        () -> Rsna2024.open(root));
    // The series exists, but belongs to the other study.
    write(
        root,
        "train_label_coordinates.csv",
        COORDINATES + "4646740,702807833,8,Spinal Canal Stenosis,L3/L4,1.0,2.0\n");
    assertValueError(
        c,
        7,
        "series_id",
        "series of study 4646740 is not in " + root.resolve("train_series_descriptions.csv"),
        "702807833",
        () -> Rsna2024.open(root));
  }

  @Test
  void danglingSeriesStudyAndMissingImageDirectories() throws IOException {
    Path root = layout();
    Path s = write(root, "train_series_descriptions.csv", SERIES + "8888,1,Axial T2\n");
    assertValueError(
        s,
        8,
        "study_id",
        "study is not in " + root.resolve("train.csv"),
        "8888",
        () -> Rsna2024.open(root));
    write(root, "train_series_descriptions.csv", SERIES);

    Path series = root.resolve("train_images/4646740/3666319702");
    Files.delete(series.resolve("1.dcm"));
    Files.delete(series);
    assertValueError(
        s,
        7,
        "series_id",
        "series has no image directory " + series,
        "3666319702",
        () -> Rsna2024.open(root));

    Path study = root.resolve("train_images/4003253");
    try (var walk = Files.walk(study)) {
      for (Path p : walk.sorted(Collections.reverseOrder()).toList()) Files.delete(p);
    }
    assertValueError(
        root.resolve("train.csv"),
        2,
        "study_id",
        "study has no image directory " + study,
        "4003253",
        () -> Rsna2024.open(root));
  }

  @Test
  void missingRequiredFiles() throws IOException {
    Path root = layout();
    Path series = root.resolve("train_series_descriptions.csv");
    Files.delete(series);
    NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> Rsna2024.open(root));
    assertEquals(series.toString(), e.getFile());
  }

  @Test
  void labelMapIsImmutableAndRejectsNulls() {
    Map<ConditionLevel, Grade> g = new HashMap<>();
    g.put(ConditionLevel.ALL.get(3), Grade.MODERATE);
    LumbarLabel l = new LumbarLabel(1L, g);
    g.put(ConditionLevel.ALL.get(4), Grade.SEVERE);
    assertEquals(1, l.grades().size());
    assertThrows(
        UnsupportedOperationException.class,
        () -> l.grades().put(ConditionLevel.ALL.get(4), Grade.SEVERE));
    g.put(ConditionLevel.ALL.get(5), null);
    assertThrows(IllegalArgumentException.class, () -> new LumbarLabel(1L, g));
  }
}
