package org.spinekit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.cervical.CervicalMetric;
import org.spinekit.io.kaggle.Rsna2022;
import org.spinekit.io.kaggle.Rsna2022.CervicalLabel;
import org.spinekit.io.kaggle.Rsna2022.Prediction;

/**
 * {@code spinekit cervical score}: the printed score is the API's, the report's lines are there,
 * and a submission that does not fit the truth, a bad file or a bad option exits 2 naming it.
 */
class CervicalScoreTest {
  @TempDir Path dir;
  Path truth;
  Path pred;
  List<CervicalLabel> labels;
  List<Prediction> rows;

  @BeforeEach
  void files() throws Exception {
    SplittableRandom rnd = new SplittableRandom(5);
    labels = new ArrayList<>();
    rows = new ArrayList<>();
    for (int s = 0; s < 30; s++) {
      String uid = "1.2.826.0.1.3680043.9." + (s + 1);
      boolean[] v = new boolean[7];
      for (int k = 0; k < 7; k++) v[k] = rnd.nextDouble() < 0.2;
      CervicalLabel l = CervicalLabel.of(uid, v);
      labels.add(l);
      for (String t : Rsna2022.TARGETS) {
        boolean y =
            t.equals(Rsna2022.PATIENT_OVERALL)
                ? l.patientOverall()
                : l.fractured(t.charAt(1) - '0');
        double p = Math.min(1, Math.max(0, (y ? 0.6 : 0.3) + rnd.nextGaussian() * 0.2));
        rows.add(new Prediction(uid, t, p));
      }
    }
    truth = dir.resolve("train.csv");
    pred = dir.resolve("submission.csv");
    Rsna2022.writeTrain(truth, labels);
    Rsna2022.writeSubmission(pred, rows);
  }

  /** The value of the {@code score: } line, which must be there exactly once. */
  static double score(CliRun r) {
    List<String> lines = r.out().lines().filter(l -> l.startsWith("score: ")).toList();
    assertEquals(1, lines.size(), r.toString());
    return Double.parseDouble(lines.get(0).substring("score: ".length()));
  }

  @Test
  void printsTheApiScoreFirstThenTheReport() {
    CliRun r =
        CliRun.of("cervical", "score", "--truth", truth.toString(), "--pred", pred.toString());
    assertEquals(0, r.rc(), r.toString());
    assertTrue(r.out().startsWith("score: "), r.toString());
    CervicalMetric.Result api = CervicalMetric.score(labels, rows);
    assertEquals(api.score(), score(r), r.toString());
    for (String line :
        new String[] {
          "averaging: study, eps: 1.0E-15, studies: 30",
          "vertebra AUC: ",
          "patient AUC: ",
          "baseline: ",
          "score/baseline: "
        }) {
      assertTrue(r.out().contains("\n" + line), "'" + line + "' in " + r);
    }
    for (String c : Rsna2022.TARGETS) {
      assertTrue(r.out().lines().anyMatch(l -> l.startsWith(c + " ")), "row of " + c + ": " + r);
    }
    assertTrue(
        r.out()
            .contains(String.format(java.util.Locale.ROOT, "patient AUC: %.4f", api.patientAuc())),
        r.toString());
    double baseline =
        CervicalMetric.scoreConstant(
                labels, CervicalMetric.prevalence(labels), CervicalMetric.Options.defaults())
            .score();
    assertTrue(
        r.out().contains(String.format(java.util.Locale.ROOT, "baseline: %.6f", baseline)),
        r.toString());
    assertEquals("", r.err(), r.toString());
  }

  @Test
  void averagingAndEpsReachTheMetric() {
    CliRun r =
        CliRun.of(
            "cervical",
            "score",
            "--truth",
            truth.toString(),
            "--pred",
            pred.toString(),
            "--average",
            "row",
            "--eps",
            "1e-3");
    assertEquals(0, r.rc(), r.toString());
    CervicalMetric.Options o = new CervicalMetric.Options(1e-3, CervicalMetric.Averaging.ROW);
    assertEquals(CervicalMetric.score(labels, rows, o).score(), score(r), r.toString());
    assertTrue(r.out().contains("averaging: row, eps: 0.001"), r.toString());
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

  String[] score(Path t, Path p) {
    return new String[] {"cervical", "score", "--truth", t.toString(), "--pred", p.toString()};
  }

  @Test
  void aSubmissionMissingARowExits2NamingFileStudyAndColumn() throws Exception {
    List<Prediction> fewer = new ArrayList<>(rows);
    Prediction gone = fewer.remove(13); // the sixth row of the second study: C6
    Path p = dir.resolve("short.csv");
    Rsna2022.writeSubmission(p, fewer);
    badInput(
        score(truth, p), p.toString(), "study " + gone.studyUid(), gone.target(), truth.toString());
  }

  @Test
  void aSubmissionOfAnotherStudyExits2() throws Exception {
    List<Prediction> more = new ArrayList<>(rows);
    more.add(new Prediction("1.2.3.4", "C1", 0.5));
    Path p = dir.resolve("more.csv");
    Rsna2022.writeSubmission(p, more);
    badInput(score(truth, p), p.toString(), "'1.2.3.4_C1'", "not in the truth");
  }

  @Test
  void aBadProbabilityExits2NamingTheFile() throws Exception {
    String text = Files.readString(pred, StandardCharsets.UTF_8);
    String first = rows.get(0).rowId();
    String fixed = text.replaceFirst(first + ",[^\\n]*", first + ",1.5");
    assertTrue(!fixed.equals(text), "the first row was replaced");
    Path p = dir.resolve("bad.csv");
    Files.writeString(p, fixed, StandardCharsets.UTF_8);
    badInput(score(truth, p), p.toString(), "probability outside [0, 1]");

    Path nan = dir.resolve("nan.csv");
    Files.writeString(nan, text.replaceFirst(first + ",[^\\n]*", first + ",nan"));
    badInput(score(truth, nan), nan.toString(), "fractured");
  }

  @Test
  void usageErrorsExit2() {
    badInput(new String[] {"cervical", "score", "--truth", truth.toString()}, "--pred");
    badInput(new String[] {"cervical", "score", "--pred", pred.toString()}, "--truth");
    badInput(
        new String[] {
          "cervical", "score", "--truth", truth.toString(), "--pred", pred.toString(), "--eps", "0"
        },
        "--eps",
        "(0, 0.5]");
    badInput(
        new String[] {
          "cervical",
          "score",
          "--truth",
          truth.toString(),
          "--pred",
          pred.toString(),
          "--average",
          "exam"
        },
        "--average",
        "study or row");
    badInput(
        score(dir.resolve("missing.csv"), pred), "--truth", dir.resolve("missing.csv").toString());
    badInput(new String[] {"cervical"}, "expected a command", "score");
  }

  @Test
  void helpNamesTheOptions() {
    CliRun r = CliRun.of("cervical", "score", "--help");
    assertEquals(0, r.rc(), r.toString());
    for (String o : new String[] {"--truth", "--pred", "--eps", "--average"}) {
      assertTrue(r.out().contains(o), o + " in " + r);
    }
    CliRun top = CliRun.of("--help");
    assertTrue(top.out().contains("cervical"), top.toString());
  }
}
