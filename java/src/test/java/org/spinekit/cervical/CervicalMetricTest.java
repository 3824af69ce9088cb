package org.spinekit.cervical;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.cervical.CervicalMetric.Averaging;
import org.spinekit.cervical.CervicalMetric.Options;
import org.spinekit.cervical.CervicalMetric.Result;
import org.spinekit.io.kaggle.Rsna2022;
import org.spinekit.io.kaggle.Rsna2022.CervicalLabel;
import org.spinekit.io.kaggle.Rsna2022.Prediction;
import org.spinekit.testing.NumpyReference;

/**
 * The RSNA 2022 metric: small cases worked out by hand, clipping, the AUC's ties and undefined
 * cases, the constant baseline, refused input, and random tables against an independent Python
 * implementation ({@code python/cervical_metric_reference.py}, numpy; scipy and scikit-learn
 * cross-check its AUC when installed).
 */
class CervicalMetricTest {
  static final double LN2 = Math.log(2);
  static final String A = "1.2.826.0.1.1";
  static final String B = "1.2.826.0.1.2";

  @TempDir Path dir;

  /** The eight rows of a study: patient_overall, then C1..C7. */
  static List<Prediction> rows(String study, double patient, double... vertebrae) {
    assertEquals(7, vertebrae.length);
    List<Prediction> out = new ArrayList<>();
    for (int k = 0; k < 7; k++) out.add(new Prediction(study, "C" + (k + 1), vertebrae[k]));
    out.add(new Prediction(study, Rsna2022.PATIENT_OVERALL, patient));
    return out;
  }

  static double[] seven(double v) {
    return new double[] {v, v, v, v, v, v, v};
  }

  @SafeVarargs
  static List<Prediction> concat(List<Prediction>... parts) {
    List<Prediction> out = new ArrayList<>();
    for (List<Prediction> p : parts) out.addAll(p);
    return out;
  }

  /**
   * Study A: patient_overall and C1 fractured; study B: nothing fractured. Every probability 0.5
   * (loss ln 2) except A's C1 0.25 (positive: -ln 0.25 = 2 ln 2) and B's C3 0.75 (negative: -ln
   * 0.25 = 2 ln 2).
   */
  static List<CervicalLabel> twoStudies() {
    return List.of(
        CervicalLabel.of(A, true, false, false, false, false, false, false),
        CervicalLabel.of(B, false, false, false, false, false, false, false));
  }

  static List<Prediction> twoStudiesPredicted() {
    return concat(
        rows(A, 0.5, 0.25, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5),
        rows(B, 0.5, 0.5, 0.5, 0.75, 0.5, 0.5, 0.5, 0.5));
  }

  static void close(double expected, double actual, String what) {
    assertEquals(expected, actual, 1e-14 * Math.max(1, Math.abs(expected)), what);
  }

  @Test
  void twoStudiesWorkedOutByHand() {
    // A: weights patient 14, C1 2, C2..C7 1 each: sum(w) = 22,
    //    sum(w l) = 14 ln2 + 2 * 2 ln2 + 6 ln2 = 24 ln2 -> 12/11 ln2.
    // B: weights patient 7, C1..C7 1 each: sum(w) = 14,
    //    sum(w l) = 7 ln2 + 6 ln2 + 2 ln2 = 15 ln2 -> 15/14 ln2.
    // study: (12/11 + 15/14) / 2 ln2 = 333/308 ln2; row: 39/36 ln2 = 13/12 ln2.
    Result study = CervicalMetric.score(twoStudies(), twoStudiesPredicted());
    close(333.0 / 308 * LN2, study.score(), "study averaging");
    Result row =
        CervicalMetric.score(
            twoStudies(), twoStudiesPredicted(), Options.defaults().withAveraging(Averaging.ROW));
    close(13.0 / 12 * LN2, row.score(), "row averaging");

    assertEquals(2, study.studies());
    assertEquals(Options.defaults(), study.options());
    assertEquals(CervicalMetric.COLUMNS, List.copyOf(study.logLoss().keySet()));
    // Unweighted column means: C1 and C3 (ln2 + 2 ln2) / 2, the others ln2.
    for (String c : CervicalMetric.COLUMNS) {
      double expected = c.equals("C1") || c.equals("C3") ? 1.5 * LN2 : LN2;
      close(expected, study.logLoss().get(c), "log loss of " + c);
      assertEquals(
          c.equals("C1") || c.equals(Rsna2022.PATIENT_OVERALL) ? 1 : 0,
          study.positives().get(c),
          c);
    }
    // patient_overall: the positive (0.5) ties the negative (0.5): 1/2.
    assertEquals(0.5, study.patientAuc());
    assertEquals(0.5, study.auc().get(Rsna2022.PATIENT_OVERALL));
    // C1: the positive (0.25) is below the negative (0.5).
    assertEquals(0.0, study.auc().get("C1"));
    // C2..C7 have no positive study.
    for (int k = 2; k <= 7; k++) assertTrue(Double.isNaN(study.auc().get("C" + k)), "C" + k);
    assertTrue(
        study.notes().contains("AUC of C2 undefined: all 2 studies are negative"),
        study.notes().toString());
    assertEquals(6, study.notes().size(), study.notes().toString());
    // Pooled: the one positive row (A C1, 0.25) is below all 13 negative rows (0.5, 0.75).
    assertEquals(0.0, study.vertebraAuc());
  }

  @Test
  void rowIdMapGivesTheSameResultAsTheRows() {
    Map<String, Double> byId = new LinkedHashMap<>();
    for (Prediction p : twoStudiesPredicted()) byId.put(p.rowId(), p.fractured());
    Options o = new Options(1e-3, Averaging.ROW);
    assertEquals(
        CervicalMetric.score(twoStudies(), twoStudiesPredicted(), o),
        CervicalMetric.score(twoStudies(), byId, o));
  }

  @Test
  void rowOrderDoesNotMatter() {
    List<Prediction> shuffled = new ArrayList<>(twoStudiesPredicted());
    java.util.Collections.reverse(shuffled);
    assertEquals(
        CervicalMetric.score(twoStudies(), twoStudiesPredicted()),
        CervicalMetric.score(twoStudies(), shuffled));
  }

  @Test
  void zerosAndOnesAreClippedToEps() {
    List<CervicalLabel> truth =
        List.of(CervicalLabel.of(A, true, false, false, false, false, false, false));
    // All 0: the positives (patient 14, C1 2) lose -ln(eps), the six negatives -ln(1 - eps).
    double eps = 1e-15;
    double expected = (16 * -Math.log(eps) + 6 * -Math.log(1 - eps)) / 22;
    Result zeros = CervicalMetric.score(truth, rows(A, 0, seven(0)));
    close(expected, zeros.score(), "all zeros");
    close(34.538776394910684 * 16 / 22, zeros.score(), "-ln(1e-15) = 34.5387763949...");
    assertTrue(Double.isFinite(zeros.score()));

    // All 1: clipped to 1 - eps; a negative loses -ln(1 - (1 - eps)), and 1 - (1 - 1e-15) in
    // doubles is 9.992007221626409e-16 (numpy's np.clip does the same).
    List<CervicalLabel> negative =
        List.of(CervicalLabel.of(A, false, false, false, false, false, false, false));
    Result ones = CervicalMetric.score(negative, rows(A, 1, seven(1)));
    close(-Math.log(9.992007221626409e-16), ones.score(), "all ones on a negative study");
    close(34.53957599234088, ones.score(), "-ln(9.992007221626409e-16), from numpy");
    // ... and the same predictions on the right side lose next to nothing.
    Result right = CervicalMetric.score(negative, rows(A, 0, seven(0)));
    assertTrue(
        right.score() > 0 && right.score() < 2e-15, "all zeros on a negative study: " + right);

    // A larger eps bounds the loss of a confident mistake: -ln(1 - 0.99) with 1 - 0.99 in doubles.
    Result eps01 =
        CervicalMetric.score(negative, rows(A, 1, seven(1)), new Options(0.01, Averaging.STUDY));
    close(-Math.log(1 - (1 - 0.01)), eps01.score(), "eps 0.01");
    close(4.60517018598809, eps01.score(), "-ln(0.010000000000000009), from numpy");
    // ... and raises that of a confident hit to -ln(0.99).
    Result hit =
        CervicalMetric.score(negative, rows(A, 0, seven(0)), new Options(0.01, Averaging.STUDY));
    close(-Math.log(0.99), hit.score(), "eps 0.01, right");
    // eps = 0.5 predicts 0.5 everywhere whatever is submitted.
    close(
        LN2,
        CervicalMetric.score(truth, rows(A, 0, seven(1)), new Options(0.5, Averaging.ROW)).score(),
        "eps 0.5");
  }

  @Test
  void aucCountsTiesAsHalf() {
    // Positives 0.9 and 0.5, negatives 0.8, 0.5, 0.1: 0.9 beats all 3 (3); 0.5 beats 0.1 (1) and
    // ties 0.5 (1/2): 4.5 of 6 pairs.
    boolean[] y = {true, false, true, false, false};
    double[] s = {0.9, 0.8, 0.5, 0.5, 0.1};
    assertEquals(0.75, CervicalMetric.rocAuc(y, s));
    // All tied: 1/2; perfectly ordered: 1; reversed: 0.
    assertEquals(0.5, CervicalMetric.rocAuc(y, new double[] {0.3, 0.3, 0.3, 0.3, 0.3}));
    assertEquals(1.0, CervicalMetric.rocAuc(y, new double[] {1, 0, 1, 0, 0}));
    assertEquals(0.0, CervicalMetric.rocAuc(y, new double[] {0, 1, 0, 1, 1}));
    // One class only: NaN, as sklearn refuses to define it.
    assertTrue(
        Double.isNaN(CervicalMetric.rocAuc(new boolean[] {true, true}, new double[] {0, 1})));
    assertTrue(Double.isNaN(CervicalMetric.rocAuc(new boolean[] {false}, new double[] {0})));
    assertTrue(Double.isNaN(CervicalMetric.rocAuc(new boolean[0], new double[0])));
    // -0.0 and 0.0 are one score.
    assertEquals(0.5, CervicalMetric.rocAuc(new boolean[] {true, false}, new double[] {-0.0, 0.0}));
  }

  @Test
  void aucThroughTheScoreWithTies() {
    String c = "1.2.826.0.1.3";
    List<CervicalLabel> truth =
        List.of(
            CervicalLabel.of(A, true, false, false, false, false, false, false),
            CervicalLabel.of(B, false, true, false, false, false, false, false),
            CervicalLabel.of(c, false, false, false, false, false, false, false));
    // patient_overall: positives A (0.9), B (0.4); negative C (0.4): (1 + 1/2) / 2 = 0.75.
    // C1: positive A (0.7); negatives B (0.7), C (0.2): (1/2 + 1) / 2 = 0.75.
    // C2: positive B (0.1); negatives A (0.1), C (0.3): (1/2 + 0) / 2 = 0.25.
    // Pooled C1..C7: positives A C1 (0.7), B C2 (0.1); the 19 negatives are B C1 0.7,
    // C C1 0.2, A C2 0.1, C C2 0.3 and 15 rows at 0.05 (C3..C7): 0.7 beats 18 and ties 1
    // (18.5); 0.1 beats 15 and ties 1 (15.5): 34 / 38.
    List<Prediction> p =
        concat(
            rows(A, 0.9, 0.7, 0.1, 0.05, 0.05, 0.05, 0.05, 0.05),
            rows(B, 0.4, 0.7, 0.1, 0.05, 0.05, 0.05, 0.05, 0.05),
            rows(c, 0.4, 0.2, 0.3, 0.05, 0.05, 0.05, 0.05, 0.05));
    Result r = CervicalMetric.score(truth, p);
    assertEquals(0.75, r.patientAuc());
    assertEquals(0.75, r.auc().get("C1"));
    assertEquals(0.25, r.auc().get("C2"));
    close(34.0 / 38, r.vertebraAuc(), "pooled");
    assertEquals(2, r.positives().get(Rsna2022.PATIENT_OVERALL));
    assertEquals(5, r.notes().size(), r.notes().toString()); // C3..C7
  }

  @Test
  void singleClassEverywhereIsNotedNotThrown() {
    List<CervicalLabel> truth =
        List.of(CervicalLabel.of(A, true, true, true, true, true, true, true));
    Result r = CervicalMetric.score(truth, rows(A, 0.9, seven(0.8)));
    assertTrue(Double.isNaN(r.patientAuc()));
    assertTrue(Double.isNaN(r.vertebraAuc()));
    assertTrue(
        r.notes().contains("AUC of patient_overall undefined: the only study is positive"),
        r.notes().toString());
    assertTrue(
        r.notes().contains("vertebra AUC (C1..C7 pooled) undefined: all 7 rows are positive"),
        r.notes().toString());
    // The score is still defined: -(14 ln 0.9 + 14 ln 0.8) / 28.
    close(-(Math.log(0.9) + Math.log(0.8)) / 2, r.score(), "score");
  }

  @Test
  void constantPredictionBaseline() {
    List<CervicalLabel> truth =
        List.of(
            CervicalLabel.of(A, true, false, false, false, false, false, false),
            CervicalLabel.of(B, false, false, false, false, false, false, false),
            CervicalLabel.of("1.2.826.0.1.3", true, true, false, false, false, false, false),
            CervicalLabel.of("1.2.826.0.1.4", false, false, false, false, false, false, true));
    Map<String, Double> prevalence = CervicalMetric.prevalence(truth);
    assertEquals(CervicalMetric.COLUMNS, List.copyOf(prevalence.keySet()));
    assertEquals(0.75, prevalence.get(Rsna2022.PATIENT_OVERALL));
    assertEquals(0.5, prevalence.get("C1"));
    assertEquals(0.25, prevalence.get("C2"));
    assertEquals(0.0, prevalence.get("C3"));
    assertEquals(0.25, prevalence.get("C7"));

    Result base = CervicalMetric.scoreConstant(truth, prevalence, Options.defaults());
    // The same as submitting those probabilities row by row.
    List<Prediction> explicit = new ArrayList<>();
    for (CervicalLabel l : truth) {
      double[] v = new double[7];
      for (int k = 0; k < 7; k++) v[k] = prevalence.get("C" + (k + 1));
      explicit.addAll(rows(l.studyUid(), prevalence.get(Rsna2022.PATIENT_OVERALL), v));
    }
    assertEquals(CervicalMetric.score(truth, explicit), base);
    // Predicting the prevalence q, a column's mean log loss is the entropy -q ln q - (1-q) ln(1-q).
    close(
        -0.75 * Math.log(0.75) - 0.25 * Math.log(0.25),
        base.logLoss().get(Rsna2022.PATIENT_OVERALL),
        "entropy of 3/4");
    close(LN2, base.logLoss().get("C1"), "entropy of 1/2");
    assertTrue(base.logLoss().get("C3") < 2e-15, "prevalence 0, clipped: " + base.logLoss());
    // Within a column a constant ties every pair.
    assertEquals(0.5, base.patientAuc());
    assertEquals(0.5, base.auc().get("C1"));
    // Pooled, the columns' constants differ: positives C1 0.5 (twice), C2 and C7 0.25; the 24
    // negatives C1 0.5 (2), C2 and C7 0.25 (6), C3..C6 0 (16). A 0.5 beats 22 and ties 2 (23), a
    // 0.25 beats 16 and ties 6 (19): (2 * 23 + 2 * 19) / 96.
    assertEquals(84.0 / 96, base.vertebraAuc());

    Map<String, Double> missing = new HashMap<>(prevalence);
    missing.remove("C4");
    expectError(
        () -> CervicalMetric.scoreConstant(truth, missing, Options.defaults()),
        "probabilities",
        "C4",
        "null");
    Map<String, Double> extra = new HashMap<>(prevalence);
    extra.put("C8", 0.1);
    expectError(
        () -> CervicalMetric.scoreConstant(truth, extra, Options.defaults()),
        "probabilities",
        "'C8'");
    Map<String, Double> bad = new HashMap<>(prevalence);
    bad.put("C2", 1.5);
    expectError(
        () -> CervicalMetric.scoreConstant(truth, bad, Options.defaults()),
        "probabilities",
        "C2",
        "[0, 1]",
        "1.5");
  }

  @Test
  void weights() {
    assertEquals(7, CervicalMetric.weight(Rsna2022.PATIENT_OVERALL, false));
    assertEquals(14, CervicalMetric.weight(Rsna2022.PATIENT_OVERALL, true));
    for (String v : Rsna2022.VERTEBRAE) {
      assertEquals(1, CervicalMetric.weight(v, false));
      assertEquals(2, CervicalMetric.weight(v, true));
    }
    expectError(() -> CervicalMetric.weight("T1", true), "column", "'T1'", "patient_overall");
  }

  // ---------------------------------------------------------------- refused input

  static IllegalArgumentException expectError(Runnable r, String... fragments) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
    for (String f : fragments) {
      assertTrue(e.getMessage().contains(f), "'" + f + "' in: " + e.getMessage());
    }
    return e;
  }

  @Test
  void refusesRowsThatDoNotFitTheTruth() {
    List<CervicalLabel> truth = twoStudies();
    List<Prediction> unknown =
        concat(twoStudiesPredicted(), List.of(new Prediction("1.2.9", "C1", 0.5)));
    expectError(
        () -> CervicalMetric.score(truth, unknown),
        "'1.2.9_C1'",
        "study 1.2.9",
        "not in the truth");

    List<Prediction> missing = new ArrayList<>(twoStudiesPredicted());
    missing.removeIf(p -> p.studyUid().equals(B) && p.target().equals("C4"));
    missing.removeIf(p -> p.studyUid().equals(B) && p.target().equals("C5"));
    expectError(
        () -> CervicalMetric.score(truth, missing),
        "study " + B,
        "no row for C4",
        "'" + B + "_C4'",
        "2 of 16 rows missing");

    List<Prediction> repeated =
        concat(twoStudiesPredicted(), List.of(new Prediction(A, "C7", 0.5)));
    expectError(() -> CervicalMetric.score(truth, repeated), "'" + A + "_C7' repeated");

    for (double bad : new double[] {Double.NaN, -0.1, 1.5, Double.POSITIVE_INFINITY}) {
      List<Prediction> p = new ArrayList<>(twoStudiesPredicted());
      p.set(3, new Prediction(A, "C4", bad));
      expectError(
          () -> CervicalMetric.score(truth, p),
          "'" + A + "_C4'",
          "probability in [0, 1]",
          String.valueOf(bad));
    }

    List<Prediction> target = concat(twoStudiesPredicted(), List.of(new Prediction(A, "T1", 0.5)));
    expectError(() -> CervicalMetric.score(truth, target), "'" + A + "_T1'", "target", "'T1'");

    Map<String, Double> byId = new HashMap<>();
    for (Prediction p : twoStudiesPredicted()) byId.put(p.rowId(), p.fractured());
    byId.put(A + "_C9", 0.5);
    expectError(
        () -> CervicalMetric.score(truth, byId, Options.defaults()),
        "'" + A + "_C9'",
        "<StudyInstanceUID>_<target>");
    byId.remove(A + "_C9");
    byId.put(A + "_C2", null);
    expectError(
        () -> CervicalMetric.score(truth, byId, Options.defaults()), "'" + A + "_C2'", "got null");
  }

  @Test
  void refusesBadTruthAndOptions() {
    expectError(() -> CervicalMetric.score(List.of(), List.of()), "truth", "at least one study");
    List<CervicalLabel> twice = List.of(twoStudies().get(0), twoStudies().get(0));
    expectError(
        () -> CervicalMetric.score(twice, rows(A, 0.5, seven(0.5))),
        "truth",
        "study " + A + " repeated");
    for (double eps : new double[] {0, -1e-15, 0.6, 1, Double.NaN}) {
      expectError(
          () -> new Options(eps, Averaging.STUDY), "eps", "0 < eps <= 0.5", String.valueOf(eps));
    }
    expectError(() -> new Options(1e-15, null), "averaging", "null");
    expectError(() -> CervicalMetric.score(twoStudies(), twoStudiesPredicted(), null), "options");
    assertEquals(Averaging.ROW, Averaging.parse(" Row "));
    assertEquals(Averaging.STUDY, Averaging.parse("study"));
    expectError(() -> Averaging.parse("exam"), "averaging", "study or row", "'exam'");
  }

  // ---------------------------------------------------------------- against Python

  /** A random table of {@code n} studies and the files both sides read. */
  record Case(
      List<CervicalLabel> truth, List<Prediction> predictions, Path truthCsv, Path predCsv) {}

  /**
   * Random labels (patient_overall = any vertebra) and predictions mixing exact 0 and 1, values
   * below the clipping (1e-17, 1 - 1e-17 rounds to 1), ties (one decimal) and noisy scores that
   * follow the label.
   */
  Case randomCase(long seed, int n, double fractureRate) throws IOException {
    SplittableRandom rnd = new SplittableRandom(seed);
    List<CervicalLabel> truth = new ArrayList<>();
    List<Prediction> predictions = new ArrayList<>();
    for (int s = 0; s < n; s++) {
      String uid = "1.2.826.0.1.3680043." + seed + "." + (s + 1);
      boolean[] v = new boolean[7];
      for (int k = 0; k < 7; k++) v[k] = rnd.nextDouble() < fractureRate;
      CervicalLabel l = CervicalLabel.of(uid, v);
      truth.add(l);
      List<String> targets = new ArrayList<>(Rsna2022.TARGETS);
      for (String t : targets) {
        boolean y =
            t.equals(Rsna2022.PATIENT_OVERALL)
                ? l.patientOverall()
                : l.fractured(t.charAt(1) - '0');
        double u = rnd.nextDouble();
        double p;
        if (u < 0.08) p = 0;
        else if (u < 0.16) p = 1;
        else if (u < 0.20) p = 1e-17;
        else if (u < 0.24) p = 1 - 1e-12;
        else {
          double logit = rnd.nextGaussian() * 2 + (y ? 1.5 : -1.5);
          p = 1 / (1 + Math.exp(-logit));
          if (u < 0.45) p = Math.round(p * 10) / 10.0;
        }
        predictions.add(new Prediction(uid, t, p));
      }
    }
    java.util.Collections.shuffle(predictions, new java.util.Random(seed));
    Path t = dir.resolve("train-" + seed + ".csv");
    Path p = dir.resolve("submission-" + seed + ".csv");
    Rsna2022.writeTrain(t, truth);
    Rsna2022.writeSubmission(p, predictions);
    return new Case(truth, predictions, t, p);
  }

  /** The reference's lines as key -> value ("score", "logloss C1", "auc vertebra", ...). */
  static Map<String, String> reference(Case c, Options o) throws IOException {
    return NumpyReference.run(
        "cervical_metric_reference.py",
        c.truthCsv().toString(),
        c.predCsv().toString(),
        Double.toString(o.eps()),
        o.averaging().label());
  }

  static double number(Map<String, String> ref, String key) {
    return NumpyReference.number(ref, key);
  }

  static void relative(double expected, double actual, String what) {
    NumpyReference.relative(expected, actual, 1e-9, what);
  }

  @Test
  void randomTablesAgreeWithTheNumpyReference() throws Exception {
    NumpyReference.assumeNumpy();

    record Setting(long seed, int studies, double rate, Options options) {}
    List<Setting> settings =
        List.of(
            new Setting(1, 60, 0.15, Options.defaults()),
            new Setting(2, 60, 0.15, Options.defaults().withAveraging(Averaging.ROW)),
            new Setting(3, 200, 0.1, new Options(1e-7, Averaging.STUDY)),
            new Setting(4, 150, 0.3, new Options(0.02, Averaging.ROW)),
            new Setting(5, 3, 0.05, Options.defaults()), // columns with one class only
            new Setting(6, 1, 0.5, new Options(1e-3, Averaging.ROW)), // one study
            new Setting(7, 400, 0.05, Options.defaults()));
    int undefined = 0;
    for (Setting s : settings) {
      Case c = randomCase(s.seed(), s.studies(), s.rate());
      Map<String, String> ref = reference(c, s.options());
      assertTrue(ref.get("auc_checked_with").startsWith("numpy"), ref.toString());
      String at = "seed " + s.seed() + ", " + s.options() + ": ";
      Result r = CervicalMetric.score(c.truth(), c.predictions(), s.options());
      relative(number(ref, "score"), r.score(), at + "score");
      for (String col : CervicalMetric.COLUMNS) {
        relative(number(ref, "logloss " + col), r.logLoss().get(col), at + "log loss " + col);
        relative(number(ref, "auc " + col), r.auc().get(col), at + "AUC " + col);
        if (Double.isNaN(r.auc().get(col))) undefined++;
      }
      relative(number(ref, "auc vertebra"), r.vertebraAuc(), at + "vertebra AUC");
      relative(number(ref, "auc patient_overall"), r.patientAuc(), at + "patient AUC");
      // The files read back give the same result as the lists they were written from.
      assertEquals(
          r,
          CervicalMetric.score(
              Rsna2022.readTrain(c.truthCsv()), Rsna2022.readSubmission(c.predCsv()), s.options()),
          at + "read back");
    }
    assertTrue(undefined > 0, "some column of the small tables has one class only");
  }
}
