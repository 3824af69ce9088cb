package org.spinekit.lumbar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.io.kaggle.Condition;
import org.spinekit.io.kaggle.Grade;
import org.spinekit.io.kaggle.Level;
import org.spinekit.io.kaggle.Rsna2024;
import org.spinekit.io.kaggle.Rsna2024.ConditionLevel;
import org.spinekit.io.kaggle.Rsna2024.LumbarLabel;
import org.spinekit.io.kaggle.Rsna2024.Prediction;
import org.spinekit.lumbar.LumbarMetric.Distribution;
import org.spinekit.lumbar.LumbarMetric.Options;
import org.spinekit.lumbar.LumbarMetric.Part;
import org.spinekit.lumbar.LumbarMetric.Result;
import org.spinekit.testing.NumpyReference;

/**
 * The RSNA 2024 metric: small cases worked out by hand (weights, renormalisation, blank grades, the
 * any-severe part on the raw severe column), clipping, the constant baseline, refused input, and
 * random tables against an independent Python implementation ({@code
 * python/lumbar_metric_reference.py}, numpy).
 */
class LumbarMetricTest {
  static final double LN2 = Math.log(2);
  static final double LN3 = Math.log(3);
  static final long A = 4003253;
  static final long B = 4646740;

  @TempDir Path dir;

  static ConditionLevel cl(Condition c, Level l) {
    return new ConditionLevel(c, l);
  }

  /** A study with every grade {@code all}, then {@code changes} applied (a null grade: blank). */
  static LumbarLabel label(long study, Grade all, Object... changes) {
    Map<ConditionLevel, Grade> g = new LinkedHashMap<>();
    for (ConditionLevel c : ConditionLevel.ALL) g.put(c, all);
    for (int i = 0; i < changes.length; i += 2) {
      ConditionLevel c = (ConditionLevel) changes[i];
      Grade v = (Grade) changes[i + 1];
      if (v == null) g.remove(c);
      else g.put(c, v);
    }
    return new LumbarLabel(study, g);
  }

  /** The 25 rows of a study, each (nm, moderate, severe), except those {@code skip} holds. */
  static List<Prediction> rows(
      long study, double nm, double moderate, double severe, Predicate<ConditionLevel> skip) {
    List<Prediction> out = new ArrayList<>();
    for (ConditionLevel c : ConditionLevel.ALL) {
      if (!skip.test(c)) {
        out.add(new Prediction(study, c.condition(), c.level(), nm, moderate, severe));
      }
    }
    return out;
  }

  static List<Prediction> rows(long study, double nm, double moderate, double severe) {
    return rows(study, nm, moderate, severe, c -> false);
  }

  static void close(double expected, double actual, String what) {
    assertEquals(expected, actual, 1e-14 * Math.max(1, Math.abs(expected)), what);
  }

  static IllegalArgumentException expectError(Runnable r, String... fragments) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
    for (String f : fragments) {
      assertTrue(e.getMessage().contains(f), "'" + f + "' in: " + e.getMessage());
    }
    return e;
  }

  // ---------------------------------------------------------------- worked out by hand

  static final ConditionLevel SPINAL_L1 = cl(Condition.SPINAL_CANAL_STENOSIS, Level.L1_L2);
  static final ConditionLevel SPINAL_L4 = cl(Condition.SPINAL_CANAL_STENOSIS, Level.L4_L5);
  static final ConditionLevel SPINAL_L5 = cl(Condition.SPINAL_CANAL_STENOSIS, Level.L5_S1);
  static final ConditionLevel LEFT_FORAMEN_L5 =
      cl(Condition.LEFT_NEURAL_FORAMINAL_NARROWING, Level.L5_S1);

  /**
   * Study A: all normal/mild but spinal L4/L5 severe and left foramen L5/S1 moderate. Study B: all
   * normal/mild but spinal L1/L2 moderate; spinal L5/S1 and the five right subarticular grades
   * blank.
   */
  static List<LumbarLabel> twoStudies() {
    Object[] blanks = new Object[14];
    blanks[0] = SPINAL_L1;
    blanks[1] = Grade.MODERATE;
    blanks[2] = SPINAL_L5;
    blanks[3] = null;
    for (Level l : Level.values()) {
      blanks[4 + 2 * l.ordinal()] = cl(Condition.RIGHT_SUBARTICULAR_STENOSIS, l);
      blanks[5 + 2 * l.ordinal()] = null;
    }
    return List.of(
        label(A, Grade.NORMAL_MILD, SPINAL_L4, Grade.SEVERE, LEFT_FORAMEN_L5, Grade.MODERATE),
        label(B, Grade.NORMAL_MILD, blanks));
  }

  /**
   * A: every row (1/2, 1/4, 1/4). B: every row (1, 1/2, 1/2), which renormalises to the same but
   * whose raw severe is 1/2; B's blank spinal L5/S1 gets (0, 0, 3) (not scored, and not in its
   * any-severe maximum); B's blank right subarticular rows are left out.
   */
  static List<Prediction> twoStudiesPredicted() {
    List<Prediction> out = new ArrayList<>(rows(A, 0.5, 0.25, 0.25));
    out.addAll(
        rows(
            B,
            1,
            0.5,
            0.5,
            c -> c.equals(SPINAL_L5) || c.condition() == Condition.RIGHT_SUBARTICULAR_STENOSIS));
    out.add(new Prediction(B, Condition.SPINAL_CANAL_STENOSIS, Level.L5_S1, 0, 0, 3));
    return out;
  }

  @Test
  void twoStudiesWorkedOutByHand() {
    // Every scored row has shares (1/2, 1/4, 1/4): loss ln2 when normal/mild, 2 ln2 otherwise.
    // spinal: A 4 x (w1, ln2) + (w4, 2ln2) = 12 ln2 over 8; B (w2, 2ln2) + 3 x (w1, ln2) = 7 ln2
    //   over 5: 19/13 ln2.
    // foraminal: A 9 x ln2 + (w2, 2ln2) = 13 ln2 over 11; B 10 ln2 over 10: 23/21 ln2.
    // subarticular: A 10, B 5 rows, all ln2: ln2.
    // any severe: A label 1, weight 4, p = 1/4: 2 ln2; B label 0, weight 2, raw p = 1/2: ln2.
    //   (8 + 2) / 6 ln2 = 5/3 ln2.
    Result r = LumbarMetric.score(twoStudies(), twoStudiesPredicted());
    close(19.0 / 13 * LN2, r.part(Part.SPINAL), "spinal");
    close(23.0 / 21 * LN2, r.part(Part.FORAMINAL), "foraminal");
    close(LN2, r.part(Part.SUBARTICULAR), "subarticular");
    close(5.0 / 3 * LN2, r.part(Part.ANY_SEVERE_SPINAL), "any severe spinal");
    close((19.0 / 13 + 23.0 / 21 + 1 + 5.0 / 3) / 4 * LN2, r.score(), "score");

    assertEquals(2, r.studies());
    assertEquals(Options.defaults(), r.options());
    assertEquals(List.of(Part.values()), List.copyOf(r.parts().keySet()));
    assertEquals(9, r.rows().get(Part.SPINAL));
    assertEquals(20, r.rows().get(Part.FORAMINAL));
    assertEquals(15, r.rows().get(Part.SUBARTICULAR));
    assertEquals(2, r.rows().get(Part.ANY_SEVERE_SPINAL));
    assertEquals(6, r.unscored());

    assertEquals(ConditionLevel.ALL, List.copyOf(r.columnLogLoss().keySet()));
    // spinal L1/L2: A (w1, ln2), B (w2, 2 ln2): 5/3 ln2. spinal L5/S1: A alone.
    close(5.0 / 3 * LN2, r.columnLogLoss().get(SPINAL_L1), "column spinal L1/L2");
    close(LN2, r.columnLogLoss().get(SPINAL_L5), "column spinal L5/S1");
    close(
        9.0 / 5 * LN2, r.columnLogLoss().get(SPINAL_L4), "column spinal L4/L5: (4 2ln2 + ln2) / 5");
    assertEquals(1, r.columnRows().get(SPINAL_L5));
    assertEquals(2, r.columnRows().get(SPINAL_L1));
    // Right subarticular: A's rows only; B alone leaves those columns without a graded row.
    ConditionLevel rightL3 = cl(Condition.RIGHT_SUBARTICULAR_STENOSIS, Level.L3_L4);
    close(LN2, r.columnLogLoss().get(rightL3), "column right subarticular L3/L4");
    assertEquals(1, r.columnRows().get(rightL3));
    List<Prediction> onlyB = new ArrayList<>(twoStudiesPredicted());
    onlyB.removeIf(p -> p.studyId() == A);
    Result b = LumbarMetric.score(List.of(twoStudies().get(1)), onlyB);
    assertTrue(Double.isNaN(b.columnLogLoss().get(rightL3)), b.columnLogLoss().toString());
    assertEquals(0, b.columnRows().get(rightL3));
    close(7.0 / 5 * LN2, b.part(Part.SPINAL), "B alone: spinal");
    close(LN2, b.part(Part.ANY_SEVERE_SPINAL), "B alone: any severe");
  }

  @Test
  void anySevereUsesTheRawSevereColumnNotTheRenormalisedOne() {
    // One study, all normal/mild: rows (1, 0.5, 0.5) renormalise to (1/2, 1/4, 1/4), but the
    // any-severe probability is the raw 0.5: ln2, not -ln(3/4).
    List<LumbarLabel> truth = List.of(label(A, Grade.NORMAL_MILD));
    Result raw = LumbarMetric.score(truth, rows(A, 1, 0.5, 0.5));
    close(LN2, raw.part(Part.ANY_SEVERE_SPINAL), "raw 0.5");
    close(LN2, raw.part(Part.SPINAL), "renormalised rows");
    // A raw severe above 1 is clipped to 1 - eps: a confident false alarm.
    Result big = LumbarMetric.score(truth, rows(A, 2, 2, 2));
    close(LN3, big.part(Part.SPINAL), "(2, 2, 2) is 1/3 each");
    close(34.53957599234088, big.part(Part.ANY_SEVERE_SPINAL), "-ln(1 - (1 - 1e-15)), numpy");
  }

  @Test
  void rowOrderDoesNotMatterAndRowsOfBlankGradesAreIgnored() {
    List<Prediction> shuffled = new ArrayList<>(twoStudiesPredicted());
    Collections.reverse(shuffled);
    Result r = LumbarMetric.score(twoStudies(), twoStudiesPredicted());
    assertEquals(r, LumbarMetric.score(twoStudies(), shuffled));
    // B's blank spinal L5/S1 row: absent, or any values, gives the same result.
    List<Prediction> without = new ArrayList<>(twoStudiesPredicted());
    without.removeIf(
        p ->
            p.studyId() == B
                && p.condition() == Condition.SPINAL_CANAL_STENOSIS
                && p.level() == Level.L5_S1);
    assertEquals(r, LumbarMetric.score(twoStudies(), without));
  }

  @Test
  void zerosAreClippedThenRenormalised() {
    List<LumbarLabel> truth = List.of(label(A, Grade.NORMAL_MILD));
    // (0, 0, 1) on normal/mild rows: (eps, eps, 1 - eps) / (1 + eps); any severe: label 0, p = 1
    // clipped to 1 - eps.
    Result wrong = LumbarMetric.score(truth, rows(A, 0, 0, 1));
    for (Part p : List.of(Part.SPINAL, Part.FORAMINAL, Part.SUBARTICULAR)) {
      close(34.538776394910684, wrong.part(p), p + ": -ln(eps / (1 + eps)), numpy");
    }
    close(34.53957599234088, wrong.part(Part.ANY_SEVERE_SPINAL), "numpy");
    close((3 * 34.538776394910684 + 34.53957599234088) / 4, wrong.score(), "score");
    assertTrue(Double.isFinite(wrong.score()));

    // All-zero rows mean 1/3 each; any severe: p = 0 clipped to eps on a negative: next to nothing.
    Result zeros = LumbarMetric.score(truth, rows(A, 0, 0, 0));
    close(LN3, zeros.part(Part.SPINAL), "zeros: 1/3 each");
    assertTrue(zeros.part(Part.ANY_SEVERE_SPINAL) < 2e-15, zeros.toString());
    close(3 * LN3 / 4, zeros.score(), "zeros");

    // (1, 0, 0) on normal/mild rows: the loss -ln((1 - eps) / (1 + eps)), about 2e-15.
    Result right = LumbarMetric.score(truth, rows(A, 1, 0, 0));
    close(2.1094237467877998e-15, right.part(Part.SPINAL), "-ln((1 - eps) / (1 + eps)), numpy");
    // eps 0.5 makes every row 1/3 each and the any-severe pair 1/2 each.
    Result half = LumbarMetric.score(truth, rows(A, 1, 0, 0), new Options(0.5));
    close((3 * LN3 + LN2) / 4, half.score(), "eps 0.5");
    // A larger eps bounds the loss of a confident mistake: (0.01, 0.01, 0.99) / 1.01.
    Result eps01 = LumbarMetric.score(truth, rows(A, 0, 0, 1), new Options(0.01));
    close(-Math.log(0.01 / (0.01 + 0.01 + 0.99)), eps01.part(Part.FORAMINAL), "eps 0.01");
  }

  @Test
  void allSevereTruth() {
    // Every grade severe: weight 4 everywhere; rows (1/4, 1/4, 1/2): ln2 each; any severe: every
    // study positive (one class, which the host's log_loss would refuse), p = 1/2: ln2.
    List<LumbarLabel> truth = List.of(label(A, Grade.SEVERE), label(B, Grade.SEVERE));
    List<Prediction> p = new ArrayList<>(rows(A, 0.25, 0.25, 0.5));
    p.addAll(rows(B, 0.25, 0.25, 0.5));
    Result r = LumbarMetric.score(truth, p);
    for (Part part : Part.values()) close(LN2, r.part(part), part.label());
    close(LN2, r.score(), "score");
    // The baseline predicts (0, 0, 1): clipped, next to nothing lost.
    Result base =
        LumbarMetric.scoreConstant(truth, LumbarMetric.prevalence(truth), Options.defaults());
    assertTrue(base.score() < 1e-14, base.toString());
  }

  @Test
  void oneStudy() {
    // One study, spinal L4/L5 moderate, the rest normal/mild; rows (0.8, 0.1, 0.1) except spinal
    // L4/L5 (0.2, 0.6, 0.2) with severe the largest spinal severe (0.2) for a negative, weight 2.
    List<LumbarLabel> truth = List.of(label(A, Grade.NORMAL_MILD, SPINAL_L4, Grade.MODERATE));
    List<Prediction> p = new ArrayList<>(rows(A, 0.8, 0.1, 0.1, c -> c.equals(SPINAL_L4)));
    p.add(new Prediction(A, Condition.SPINAL_CANAL_STENOSIS, Level.L4_L5, 0.2, 0.6, 0.2));
    Result r = LumbarMetric.score(truth, p);
    double spinal = (4 * -Math.log(0.8) + 2 * -Math.log(0.6)) / 6;
    close(spinal, r.part(Part.SPINAL), "spinal");
    close(-Math.log(0.8), r.part(Part.FORAMINAL), "foraminal");
    close(-Math.log(0.8), r.part(Part.SUBARTICULAR), "subarticular");
    close(-Math.log(0.8), r.part(Part.ANY_SEVERE_SPINAL), "any severe: -ln(1 - 0.2)");
    close((spinal + 3 * -Math.log(0.8)) / 4, r.score(), "score");
    assertEquals(1, r.rows().get(Part.ANY_SEVERE_SPINAL));
  }

  @Test
  void constantPredictionBaseline() {
    List<LumbarLabel> truth = new ArrayList<>(twoStudies());
    truth.add(label(5000001, Grade.MODERATE, SPINAL_L1, Grade.SEVERE));
    truth.add(label(5000002, Grade.NORMAL_MILD));
    Map<ConditionLevel, Distribution> prevalence = LumbarMetric.prevalence(truth);
    assertEquals(ConditionLevel.ALL, List.copyOf(prevalence.keySet()));
    // spinal L1/L2: normal/mild (A, 5000002), moderate (B), severe (5000001).
    assertEquals(new Distribution(0.5, 0.25, 0.25), prevalence.get(SPINAL_L1));
    // spinal L5/S1: blank in B: A and 5000002 normal/mild, 5000001 moderate.
    assertEquals(new Distribution(2 / 3.0, 1 / 3.0, 0), prevalence.get(SPINAL_L5));
    assertEquals(new Distribution(0.5, 0.5, 0), prevalence.get(LEFT_FORAMEN_L5));

    Result base = LumbarMetric.scoreConstant(truth, prevalence, Options.defaults());
    // The same as submitting those rows for every study.
    List<Prediction> explicit = new ArrayList<>();
    for (LumbarLabel l : truth) {
      for (ConditionLevel c : ConditionLevel.ALL) {
        Distribution d = prevalence.get(c);
        explicit.add(
            new Prediction(
                l.studyId(), c.condition(), c.level(), d.normalMild(), d.moderate(), d.severe()));
      }
    }
    assertEquals(LumbarMetric.score(truth, explicit), base);
    // Column spinal L1/L2 predicts its shares (1/2, 1/4, 1/4): losses ln2 (w1, twice), 2 ln2
    // (w2, w4): (2 + 12) / 8 ln2.
    close(14.0 / 8 * LN2, base.columnLogLoss().get(SPINAL_L1), "baseline column spinal L1/L2");

    Map<ConditionLevel, Distribution> missing = new HashMap<>(prevalence);
    missing.remove(SPINAL_L4);
    expectError(
        () -> LumbarMetric.scoreConstant(truth, missing, Options.defaults()),
        "probabilities",
        "spinal_canal_stenosis_l4_l5");
    expectError(() -> new Distribution(0.5, Double.NaN, 0.5), "moderate", "NaN");
    expectError(() -> new Distribution(-0.1, 0.5, 0.5), "normal_mild", "-0.1");
    // A column without a graded row (B's right subarticular ones) gets 1/3 each.
    assertEquals(
        new Distribution(1 / 3.0, 1 / 3.0, 1 / 3.0),
        LumbarMetric.prevalence(List.of(twoStudies().get(1)))
            .get(cl(Condition.RIGHT_SUBARTICULAR_STENOSIS, Level.L1_L2)));
  }

  // ---------------------------------------------------------------- refused input

  @Test
  void refusesRowsThatDoNotFitTheTruth() {
    List<LumbarLabel> truth = twoStudies();
    List<Prediction> unknown = new ArrayList<>(twoStudiesPredicted());
    unknown.add(new Prediction(123, Condition.SPINAL_CANAL_STENOSIS, Level.L1_L2, 1, 0, 0));
    expectError(
        () -> LumbarMetric.score(truth, unknown),
        "'123_spinal_canal_stenosis_l1_l2'",
        "study 123 is not in the truth");

    List<Prediction> missing = new ArrayList<>(twoStudiesPredicted());
    missing.removeIf(
        p -> p.studyId() == A && p.condition() == Condition.LEFT_SUBARTICULAR_STENOSIS);
    expectError(
        () -> LumbarMetric.score(truth, missing),
        "no row '" + A + "_left_subarticular_stenosis_l1_l2'",
        "Normal/Mild",
        "5 of 44 graded rows missing");

    List<Prediction> repeated = new ArrayList<>(twoStudiesPredicted());
    repeated.add(new Prediction(A, Condition.SPINAL_CANAL_STENOSIS, Level.L2_L3, 1, 0, 0));
    expectError(
        () -> LumbarMetric.score(truth, repeated),
        "'" + A + "_spinal_canal_stenosis_l2_l3' repeated");

    double[] bad = {Double.NaN, -0.1, Double.POSITIVE_INFINITY};
    for (double v : bad) {
      for (int k = 0; k < 3; k++) {
        List<Prediction> p = new ArrayList<>(twoStudiesPredicted());
        double[] x = {0.3, 0.3, 0.4};
        x[k] = v;
        p.set(
            7,
            new Prediction(
                A, Condition.LEFT_NEURAL_FORAMINAL_NARROWING, Level.L3_L4, x[0], x[1], x[2]));
        expectError(
            () -> LumbarMetric.score(truth, p),
            "'" + A + "_left_neural_foraminal_narrowing_l3_l4'",
            Rsna2024.SUBMISSION_COLUMNS.get(k),
            "finite probability >= 0",
            String.valueOf(v));
      }
    }
    // ... also in a row of a blank grade, which is not scored but must still be a probability.
    List<Prediction> blank = new ArrayList<>(twoStudiesPredicted());
    blank.removeIf(
        p ->
            p.studyId() == B
                && p.level() == Level.L5_S1
                && p.condition() == Condition.SPINAL_CANAL_STENOSIS);
    blank.add(new Prediction(B, Condition.SPINAL_CANAL_STENOSIS, Level.L5_S1, Double.NaN, 0, 0));
    expectError(() -> LumbarMetric.score(truth, blank), "'" + B + "_spinal_canal_stenosis_l5_s1'");
  }

  @Test
  void refusesBadTruthAndOptions() {
    expectError(() -> LumbarMetric.score(List.of(), List.of()), "truth", "at least one study");
    List<LumbarLabel> twice = List.of(label(A, Grade.MODERATE), label(A, Grade.SEVERE));
    expectError(
        () -> LumbarMetric.score(twice, rows(A, 1, 0, 0)), "truth", "study " + A + " repeated");
    // A part with no graded row is undefined.
    Object[] noSpinal = new Object[10];
    for (Level l : Level.values()) {
      noSpinal[2 * l.ordinal()] = cl(Condition.SPINAL_CANAL_STENOSIS, l);
    }
    List<LumbarLabel> blankSpinal = List.of(label(A, Grade.MODERATE, noSpinal));
    expectError(
        () -> LumbarMetric.score(blankSpinal, rows(A, 1, 0, 0)),
        "truth",
        "no spinal row has a grade in 1 study",
        "spinal part is undefined");
    // ... but the prevalence of such a truth is still defined.
    assertNotNull(LumbarMetric.prevalence(blankSpinal));

    for (double eps : new double[] {0, -1e-15, 0.6, 1, Double.NaN}) {
      expectError(() -> new Options(eps), "eps", "0 < eps <= 0.5", String.valueOf(eps));
    }
    expectError(
        () -> LumbarMetric.score(twoStudies(), twoStudiesPredicted(), null), "options", "null");
    assertEquals(new Options(1e-7), Options.defaults().withEps(1e-7));
    assertEquals(1e-15, Options.defaults().eps());
  }

  @Test
  void partsOfConditions() {
    assertEquals(Part.SPINAL, Part.of(Condition.SPINAL_CANAL_STENOSIS));
    assertEquals(Part.FORAMINAL, Part.of(Condition.LEFT_NEURAL_FORAMINAL_NARROWING));
    assertEquals(Part.FORAMINAL, Part.of(Condition.RIGHT_NEURAL_FORAMINAL_NARROWING));
    assertEquals(Part.SUBARTICULAR, Part.of(Condition.LEFT_SUBARTICULAR_STENOSIS));
    assertEquals(Part.SUBARTICULAR, Part.of(Condition.RIGHT_SUBARTICULAR_STENOSIS));
    assertEquals("any_severe_spinal", Part.ANY_SEVERE_SPINAL.label());
  }

  // ---------------------------------------------------------------- against Python

  /** A random table and the files both sides read. */
  record Case(List<LumbarLabel> truth, List<Prediction> predictions, Path truthCsv, Path predCsv) {}

  /**
   * Random grades (normal/mild, moderate, severe with the given shares; blank with {@code
   * blankRate}) and rows that mix exact zeros, values below the clipping, rows far from summing to
   * 1 (scaled by up to 5, or all-zero) and noisy shares that follow the grade; rows of blank grades
   * are sometimes left out.
   */
  Case randomCase(long seed, int n, double[] shares, double blankRate) throws IOException {
    SplittableRandom rnd = new SplittableRandom(seed);
    List<LumbarLabel> truth = new ArrayList<>();
    List<Prediction> predictions = new ArrayList<>();
    for (int s = 0; s < n; s++) {
      long study = 1000000L * seed + 7919L * s + 13;
      Map<ConditionLevel, Grade> g = new LinkedHashMap<>();
      for (ConditionLevel c : ConditionLevel.ALL) {
        if (rnd.nextDouble() < blankRate) continue;
        double u = rnd.nextDouble();
        g.put(
            c,
            u < shares[0]
                ? Grade.NORMAL_MILD
                : u < shares[0] + shares[1] ? Grade.MODERATE : Grade.SEVERE);
      }
      truth.add(new LumbarLabel(study, g));
      for (ConditionLevel c : ConditionLevel.ALL) {
        Grade y = g.get(c);
        if (y == null && rnd.nextDouble() < 0.5) continue;
        double[] p = new double[3];
        double u = rnd.nextDouble();
        if (u < 0.05) {
          p[rnd.nextInt(3)] = 1; // one-hot, two exact zeros
        } else if (u < 0.08) {
          p = new double[] {0, 0, 0};
        } else if (u < 0.12) {
          p = new double[] {1e-17, 1e-17, 1};
          shuffle(p, rnd);
        } else {
          double sum = 0;
          for (int k = 0; k < 3; k++) {
            double logit = rnd.nextGaussian() * 1.5 + (y != null && y.ordinal() == k ? 1.5 : 0);
            p[k] = Math.exp(logit);
            sum += p[k];
          }
          double scale = u < 0.35 ? 0.2 + 4.8 * rnd.nextDouble() : 1;
          for (int k = 0; k < 3; k++) p[k] = p[k] / sum * scale;
          if (u > 0.9) for (int k = 0; k < 3; k++) p[k] = Math.round(p[k] * 10) / 10.0;
        }
        predictions.add(new Prediction(study, c.condition(), c.level(), p[0], p[1], p[2]));
      }
    }
    Collections.shuffle(predictions, new Random(seed));
    Path t = dir.resolve("train-" + seed + ".csv");
    Path p = dir.resolve("submission-" + seed + ".csv");
    Rsna2024.writeTrain(t, truth);
    Rsna2024.writeSubmission(p, predictions);
    return new Case(truth, predictions, t, p);
  }

  static void shuffle(double[] v, SplittableRandom rnd) {
    for (int i = v.length - 1; i > 0; i--) {
      int j = rnd.nextInt(i + 1);
      double x = v[i];
      v[i] = v[j];
      v[j] = x;
    }
  }

  /** The reference's lines as key -> value ("score", "part spinal", "column ...", ...). */
  static Map<String, String> reference(Case c, Options o) throws IOException {
    return NumpyReference.run(
        "lumbar_metric_reference.py",
        c.truthCsv().toString(),
        c.predCsv().toString(),
        Double.toString(o.eps()));
  }

  static double number(Map<String, String> ref, String key) {
    return NumpyReference.number(ref, key);
  }

  static void relative(double expected, double actual, String what) {
    NumpyReference.relative(expected, actual, 1e-10, what);
  }

  @Test
  void randomTablesAgreeWithTheNumpyReference() throws Exception {
    NumpyReference.assumeNumpy();

    double[] typical = {0.7, 0.2, 0.1};
    record Setting(long seed, int studies, double[] shares, double blankRate, Options options) {}
    List<Setting> settings =
        List.of(
            new Setting(1, 40, typical, 0.0, Options.defaults()),
            new Setting(2, 120, typical, 0.05, Options.defaults()),
            new Setting(3, 300, new double[] {0.5, 0.3, 0.2}, 0.02, new Options(1e-7)),
            new Setting(4, 60, typical, 0.3, new Options(0.02)), // many blank grades
            new Setting(5, 20, new double[] {0, 0, 1}, 0.1, Options.defaults()), // all severe
            new Setting(6, 25, new double[] {1, 0, 0}, 0.0, Options.defaults()), // none severe
            new Setting(7, 1, typical, 0.2, Options.defaults()), // one study
            new Setting(8, 3, new double[] {0.4, 0.3, 0.3}, 0.0, new Options(0.5)));
    for (Setting s : settings) {
      Case c = randomCase(s.seed(), s.studies(), s.shares(), s.blankRate());
      Map<String, String> ref = reference(c, s.options());
      String at = "seed " + s.seed() + ", " + s.options() + ": ";
      Result r = LumbarMetric.score(c.truth(), c.predictions(), s.options());
      relative(number(ref, "score"), r.score(), at + "score");
      for (Part p : Part.values()) {
        relative(number(ref, "part " + p.label()), r.part(p), at + p.label());
        assertEquals(
            (int) number(ref, "rows " + p.label()), r.rows().get(p), at + "rows " + p.label());
      }
      assertEquals((int) number(ref, "unscored"), r.unscored(), at + "unscored");
      for (ConditionLevel col : ConditionLevel.ALL) {
        relative(
            number(ref, "column " + col.column()),
            r.columnLogLoss().get(col),
            at + "column " + col.column());
      }
      Result base =
          LumbarMetric.scoreConstant(c.truth(), LumbarMetric.prevalence(c.truth()), s.options());
      relative(number(ref, "baseline"), base.score(), at + "baseline");
      // The files read back give the same result as the lists they were written from.
      assertEquals(
          r,
          LumbarMetric.score(
              Rsna2024.readTrain(c.truthCsv()), Rsna2024.readSubmission(c.predCsv()), s.options()),
          at + "read back");
      if (s.blankRate() > 0.1) assertNotEquals(0, r.unscored(), at + "some grades blank");
    }
  }
}
