package org.spinekit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.io.kaggle.Condition;
import org.spinekit.io.kaggle.Grade;
import org.spinekit.io.kaggle.Rsna2024;
import org.spinekit.io.kaggle.Rsna2024.ConditionLevel;
import org.spinekit.io.kaggle.Rsna2024.LumbarLabel;
import org.spinekit.io.kaggle.Rsna2024.Prediction;
import org.spinekit.lumbar.LumbarMetric;
import org.spinekit.lumbar.LumbarMetric.Part;
import org.spinekit.lumbar.LumbarPoints;
import org.spinekit.synth.LumbarSynth;

/**
 * {@code spinekit lumbar score} on a synthetic RSNA 2024 set: the printed score and parts are the
 * API's, the report's lines are there, and a submission that does not fit the truth, a bad file or
 * a bad option exits 2 naming it.
 */
class LumbarScoreTest {
  @TempDir static Path dir;
  static Path data;
  static Path pred;
  static List<LumbarLabel> labels;
  static List<Prediction> rows;

  @BeforeAll
  static void files() throws Exception {
    data = dir.resolve("synth");
    LumbarSynth.generate(data, LumbarSynth.Config.small(11).withStudies(4).withTestStudies(0));
    labels = Rsna2024.readTrain(data.resolve(Rsna2024.TRAIN_CSV));
    assertEquals(4, labels.size());
    SplittableRandom rnd = new SplittableRandom(3);
    rows = new ArrayList<>();
    for (LumbarLabel l : labels) {
      for (ConditionLevel c : ConditionLevel.ALL) {
        Grade y = l.grades().get(c);
        double[] p = new double[3];
        for (int k = 0; k < 3; k++) {
          p[k] = Math.exp(rnd.nextGaussian() + (y != null && y.ordinal() == k ? 2 : 0));
        }
        rows.add(new Prediction(l.studyId(), c.condition(), c.level(), p[0], p[1], p[2]));
      }
    }
    pred = dir.resolve("submission.csv");
    Rsna2024.writeSubmission(pred, rows);
  }

  /** The value of the {@code score: } line, which must be there exactly once. */
  static double score(CliRun r) {
    List<String> lines = r.out().lines().filter(l -> l.startsWith("score: ")).toList();
    assertEquals(1, lines.size(), r.toString());
    return Double.parseDouble(lines.get(0).substring("score: ".length()));
  }

  static String[] score(Path d, Path p, String... more) {
    List<String> a = new ArrayList<>(List.of("lumbar", "score", "--data", d.toString()));
    a.add("--pred");
    a.add(p.toString());
    a.addAll(List.of(more));
    return a.toArray(String[]::new);
  }

  @Test
  void printsTheApiScoreFirstThenTheReport() {
    CliRun r = CliRun.of(score(data, pred));
    assertEquals(0, r.rc(), r.toString());
    assertTrue(r.out().startsWith("score: "), r.toString());
    LumbarMetric.Result api = LumbarMetric.score(labels, rows);
    assertEquals(api.score(), score(r), r.toString());
    assertTrue(
        r.out().contains("\neps: 1.0E-15, studies: 4, blank grades not scored: 0\n"), r.toString());
    // The four parts in order, each with its rows and log loss, before the baseline.
    List<String> lines = r.out().lines().toList();
    int at =
        lines.indexOf(String.format(Locale.ROOT, "%-18s %7s %10s", "part", "rows", "log loss"));
    assertTrue(at > 0, r.toString());
    for (Part p : Part.values()) {
      String line = lines.get(at + 1 + p.ordinal());
      String[] f = line.trim().split("\\s+");
      assertEquals(p.label(), f[0], line);
      assertEquals(api.rows().get(p), Integer.parseInt(f[1]), line);
      assertEquals(api.part(p), Double.parseDouble(f[2]), 5e-7, line);
    }
    assertEquals(List.of(20, 40, 40, 4), List.copyOf(api.rows().values()));
    double baseline =
        LumbarMetric.scoreConstant(
                labels, LumbarMetric.prevalence(labels), LumbarMetric.Options.defaults())
            .score();
    assertTrue(
        lines.get(at + 5).startsWith(String.format(Locale.ROOT, "baseline: %.6f", baseline)),
        r.toString());
    assertEquals(
        String.format(Locale.ROOT, "score/baseline: %.4f", api.score() / baseline),
        lines.get(at + 6),
        r.toString());
    for (ConditionLevel c : ConditionLevel.ALL) {
      assertTrue(
          r.out()
              .contains(
                  String.format(
                      Locale.ROOT, "%-38s %5d %10.6f", c.column(), 4, api.columnLogLoss().get(c))),
          "row of " + c.column() + ": " + r);
    }
    assertEquals("", r.err(), r.toString());
  }

  @Test
  void epsReachesTheMetric() {
    CliRun r = CliRun.of(score(data, pred, "--eps", "0.2"));
    assertEquals(0, r.rc(), r.toString());
    LumbarMetric.Options o = new LumbarMetric.Options(0.2);
    assertEquals(LumbarMetric.score(labels, rows, o).score(), score(r), r.toString());
    assertTrue(r.out().contains("eps: 0.2, "), r.toString());
    assertTrue(score(r) != LumbarMetric.score(labels, rows).score(), "0.2 clips the probabilities");
  }

  @Test
  void blankGradesAreNotScored() throws Exception {
    // The same set with the first study's spinal L1/L2 blank: one row fewer, still scored.
    Path d = dir.resolve("blank");
    Files.createDirectories(d);
    List<LumbarLabel> fewer = new ArrayList<>(labels);
    var grades = new LinkedHashMap<>(labels.get(0).grades());
    grades.remove(ConditionLevel.ALL.get(0));
    fewer.set(0, new LumbarLabel(labels.get(0).studyId(), grades));
    Rsna2024.writeTrain(d.resolve(Rsna2024.TRAIN_CSV), fewer);
    CliRun r = CliRun.of(score(d, pred));
    assertEquals(0, r.rc(), r.toString());
    assertEquals(LumbarMetric.score(fewer, rows).score(), score(r), r.toString());
    assertTrue(r.out().contains("blank grades not scored: 1\n"), r.toString());
  }

  /** The label coordinates of the set as predicted points, spinal ones moved {@code dx} pixels. */
  static List<LumbarPoints.Point> points(double dx) throws Exception {
    List<LumbarPoints.Point> out = new ArrayList<>();
    for (Rsna2024.LabelCoordinate c : Rsna2024.open(data).coordinates()) {
      double x = c.x() + (c.condition() == Condition.SPINAL_CANAL_STENOSIS ? dx : 0);
      out.add(
          new LumbarPoints.Point(
              c.studyId(), c.seriesId(), c.condition(), c.level(), x, c.y(), c.instanceNumber()));
    }
    return out;
  }

  @Test
  void pointsPrintTheAccuracyTableAfterTheScore() throws Exception {
    // 128 px sagittal images: 2.88 px is 1.8 heatmap pixels at 80, 0.9 at 40.
    List<LumbarPoints.Point> moved = points(3.2 * 0.9);
    Path p = dir.resolve("points.csv");
    LumbarPoints.write(p, moved);
    Rsna2024.Dataset ds = Rsna2024.open(data);
    for (int grid : new int[] {80, 40}) {
      String[] args =
          grid == 80
              ? score(data, pred, "--points", p.toString())
              : score(data, pred, "--points", p.toString(), "--grid", "40");
      CliRun r = CliRun.of(args);
      assertEquals(0, r.rc(), r.toString());
      assertTrue(r.out().startsWith("score: "), r.toString());
      assertEquals(LumbarMetric.score(labels, rows).score(), score(r), r.toString());
      LumbarPoints.Accuracy api = LumbarPoints.accuracy(ds, moved, grid);
      String section =
          "\n\npoints: 100 truth points, 100 predicted (0 without a truth point); x, y in pixels of"
              + " a "
              + grid
              + "-wide heatmap, z in slices\n"
              + api.table();
      assertTrue(r.out().endsWith(section), r.toString());
      String scs = api.table().lines().toList().get(2);
      assertTrue(
          scs.startsWith(
              grid == 80
                  ? "| Spinal Canal Stenosis | 20 | 0.000 | 1.000 | 1.000 | 1.000 |"
                  : "| Spinal Canal Stenosis | 20 | 1.000 | 1.000 | 1.000 | 1.000 |"),
          scs);
      assertEquals("", r.err(), r.toString());
    }
  }

  @Test
  void pointsAloneNeedNoSubmission() throws Exception {
    Path p = dir.resolve("alone.csv");
    LumbarPoints.write(p, points(0));
    CliRun r = CliRun.of("lumbar", "score", "--data", data.toString(), "--points", p.toString());
    assertEquals(0, r.rc(), r.toString());
    assertTrue(r.out().startsWith("points: 100 truth points, 100 predicted"), r.toString());
    assertFalse(r.out().contains("score: "), r.toString());
    assertTrue(
        r.out()
            .contains(
                "\n| all | 100 | 1.000 | 1.000 | 1.000 | 1.000 | 1.000 | 1.000 | 1.000 | 1.000 |"
                    + " 0 | 0 |\n"),
        r.toString());
  }

  @Test
  void badPointsExit2NamingTheFile() throws Exception {
    Path p = dir.resolve("badpoints.csv");
    Files.writeString(
        p,
        "study_id,series_id,condition,level,x,y,instance_number\n"
            + "1,2,Spinal Canal Stenosis,L1/L2,zero,2,3\n");
    String[] alone = {"lumbar", "score", "--data", data.toString(), "--points", p.toString()};
    badInput(alone, p + ":2: column 'x': not a decimal number");

    List<LumbarPoints.Point> unknown = new ArrayList<>(points(0));
    LumbarPoints.Point first = unknown.get(0);
    unknown.set(
        0,
        new LumbarPoints.Point(
            first.studyId(),
            first.seriesId(),
            first.condition(),
            first.level(),
            first.x(),
            first.y(),
            999));
    LumbarPoints.write(p, unknown);
    for (String[] args : new String[][] {alone, score(data, pred, "--points", p.toString())}) {
      // With --pred as well, nothing is printed before the failure.
      CliRun r =
          badInput(
              args,
              p.toString(),
              "study " + first.studyId() + " series " + first.seriesId() + " has no instance 999",
              Rsna2024.COORDINATES_CSV);
      assertEquals("", r.out(), r.toString());
    }

    // A data set without label coordinates has nothing to compare the points with.
    Path d = dir.resolve("nocoordinates");
    Files.createDirectories(d);
    Files.copy(data.resolve(Rsna2024.TRAIN_CSV), d.resolve(Rsna2024.TRAIN_CSV));
    badInput(
        new String[] {"lumbar", "score", "--data", d.toString(), "--points", p.toString()},
        "no " + Rsna2024.COORDINATES_CSV,
        d.toString());
  }

  /** A run that must exit 2, its stderr holding each fragment, without a stack trace. */
  static CliRun badInput(String[] args, String... fragments) {
    CliRun r = CliRun.of(args);
    assertEquals(Cli.BAD_INPUT, r.rc(), r.toString());
    for (String f : fragments) assertTrue(r.err().contains(f), "'" + f + "' in stderr: " + r);
    assertFalse(r.err().contains("\tat org."), "no stack trace: " + r);
    assertFalse(r.out().contains("score: "), "no score: " + r);
    return r;
  }

  @Test
  void aSubmissionMissingARowExits2NamingFileAndRow() throws Exception {
    List<Prediction> fewer = new ArrayList<>(rows);
    Prediction gone = fewer.remove(30); // the second study's sixth column
    Path p = dir.resolve("short.csv");
    Rsna2024.writeSubmission(p, fewer);
    badInput(
        score(data, p),
        p.toString(),
        "no row '" + gone.rowId() + "'",
        "1 of 100 graded rows missing",
        data.resolve("train.csv").toString());
  }

  @Test
  void aSubmissionOfAnotherStudyExits2() throws Exception {
    List<Prediction> more = new ArrayList<>(rows);
    Prediction extra = rows.get(0);
    more.add(new Prediction(123, extra.condition(), extra.level(), 1, 0, 0));
    Path p = dir.resolve("more.csv");
    Rsna2024.writeSubmission(p, more);
    badInput(
        score(data, p),
        p.toString(),
        "'" + more.get(more.size() - 1).rowId() + "'",
        "not in the truth");
  }

  @Test
  void badFilesExit2NamingTheFile() throws Exception {
    String text = Files.readString(pred, StandardCharsets.UTF_8);
    String first = rows.get(0).rowId();
    Path negative = dir.resolve("negative.csv");
    String fixed = text.replaceFirst(first + ",[^\\n]*", first + ",0.5,-0.25,0.75");
    assertTrue(!fixed.equals(text), "the first row was replaced");
    Files.writeString(negative, fixed, StandardCharsets.UTF_8);
    badInput(score(data, negative), negative.toString(), "moderate", "negative");

    Path nan = dir.resolve("nan.csv");
    Files.writeString(nan, text.replaceFirst(first + ",[^\\n]*", first + ",nan,0,1"));
    badInput(score(data, nan), nan.toString(), "normal_mild");

    Path id = dir.resolve("id.csv");
    Files.writeString(id, text.replaceFirst(first, "x_spinal"));
    badInput(score(data, id), id.toString(), "row_id", "<study_id>_<condition>_<level>");

    Path d = dir.resolve("badtruth");
    Files.createDirectories(d);
    Files.writeString(
        d.resolve("train.csv"),
        Files.readString(data.resolve("train.csv")).replaceFirst("Normal/Mild", "Mild"));
    badInput(score(d, pred), d.resolve("train.csv").toString(), "unknown grade");

    // A truth whose spinal grades are all blank leaves the spinal part undefined.
    Path blank = dir.resolve("nospinal");
    Files.createDirectories(blank);
    List<LumbarLabel> noSpinal = new ArrayList<>();
    for (LumbarLabel l : labels) {
      var g = new LinkedHashMap<>(l.grades());
      g.keySet().removeIf(c -> c.condition() == Condition.SPINAL_CANAL_STENOSIS);
      noSpinal.add(new LumbarLabel(l.studyId(), g));
    }
    Rsna2024.writeTrain(blank.resolve("train.csv"), noSpinal);
    badInput(
        score(blank, pred),
        blank.resolve("train.csv").toString(),
        "no spinal row has a grade in 4 studies");
  }

  @Test
  void usageErrorsExit2() {
    badInput(new String[] {"lumbar", "score", "--data", data.toString()}, "--pred");
    badInput(new String[] {"lumbar", "score", "--pred", pred.toString()}, "--data");
    badInput(score(data, pred, "--eps", "0"), "--eps", "(0, 0.5]");
    badInput(new String[] {"lumbar", "score", "--data", data.toString()}, "--pred", "--points");
    badInput(score(data, pred, "--grid", "0"), "--grid", "expected an integer >= 1");
    badInput(score(data, pred, "--points", dir.resolve("nope.csv").toString()), "--points");
    Path missing = dir.resolve("missing");
    badInput(score(missing, pred), "--data", missing.toString());
    badInput(score(dir, pred), "no train.csv", dir.toString());
    badInput(score(data, dir.resolve("missing.csv")), "--pred", "missing.csv");
    badInput(new String[] {"lumbar"}, "expected a command", "score");
  }

  @Test
  void helpNamesTheOptions() {
    CliRun r = CliRun.of("lumbar", "score", "--help");
    assertEquals(0, r.rc(), r.toString());
    for (String o : new String[] {"--data", "--pred", "--eps", "--points", "--grid"}) {
      assertTrue(r.out().contains(o), o + " in " + r);
    }
    CliRun top = CliRun.of("--help");
    assertTrue(top.out().contains("lumbar"), top.toString());
  }
}
