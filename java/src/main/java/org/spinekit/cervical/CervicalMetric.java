package org.spinekit.cervical;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.spinekit.io.kaggle.Rsna2022;
import org.spinekit.io.kaggle.Rsna2022.CervicalLabel;
import org.spinekit.io.kaggle.Rsna2022.Prediction;

/**
 * The metric of RSNA 2022 Cervical Spine Fracture Detection: a weighted binary log loss over the
 * eight columns {@link #COLUMNS} (patient_overall, C1 to C7), with the ROC AUCs a report shows
 * beside it.
 *
 * <p>Each (study, column) row has the log loss {@code l = -(y ln p + (1 - y) ln(1 - p))} of its
 * label {@code y} and its probability {@code p} clipped to {@code [eps, 1 - eps]}, and a weight
 * that depends on the column and the label: patient_overall 7 when negative, 14 when positive; each
 * vertebra 1 when negative, 2 when positive. With {@link Averaging#STUDY} (the competition's) the
 * score is the mean over studies of each study's {@code sum(w l) / sum(w)}; with {@link
 * Averaging#ROW} it is {@code sum(w l) / sum(w)} over every row of every study at once
 * (scikit-learn's {@code log_loss} with {@code sample_weight} on the flattened table).
 *
 * <p>The AUCs are computed on the probabilities as given (not clipped), ties counted as half a
 * correctly ordered pair (scikit-learn's {@code roc_auc_score}); an AUC is NaN when its rows hold
 * only one class, and {@link Result#notes} says which.
 */
public final class CervicalMetric {
  private CervicalMetric() {}

  /** The scored columns, in the order of the weights: patient_overall, then C1 to C7. */
  public static final List<String> COLUMNS =
      List.of(Rsna2022.PATIENT_OVERALL, "C1", "C2", "C3", "C4", "C5", "C6", "C7");

  private static final int K = 8;
  private static final double[] NEGATIVE_WEIGHTS = {7, 1, 1, 1, 1, 1, 1, 1};
  private static final double[] POSITIVE_WEIGHTS = {14, 2, 2, 2, 2, 2, 2, 2};

  /**
   * The weight of a row of {@code column} (one of {@link #COLUMNS}) whose label is {@code
   * fractured}: patient_overall 7 or 14, a vertebra 1 or 2.
   *
   * @throws IllegalArgumentException when {@code column} is not one of {@link #COLUMNS}
   */
  public static double weight(String column, boolean fractured) {
    int c = column(column, "column");
    return fractured ? POSITIVE_WEIGHTS[c] : NEGATIVE_WEIGHTS[c];
  }

  /** How the row losses become one score. */
  public enum Averaging {
    /** The mean over studies of each study's weighted mean {@code sum(w l) / sum(w)}. */
    STUDY("study"),
    /** One weighted mean {@code sum(w l) / sum(w)} over all rows of all studies. */
    ROW("row");

    private final String label;

    Averaging(String label) {
      this.label = label;
    }

    /** The name on the command line: {@code study} or {@code row}. */
    public String label() {
      return label;
    }

    /**
     * {@code study} or {@code row}, any case.
     *
     * @throws IllegalArgumentException naming the text otherwise
     */
    public static Averaging parse(String text) {
      for (Averaging a : values()) {
        if (a.label.equalsIgnoreCase(text == null ? "" : text.strip())) return a;
      }
      throw new IllegalArgumentException(
          "averaging: expected study or row, got " + (text == null ? "null" : "'" + text + "'"));
    }
  }

  /**
   * How the score is computed.
   *
   * @param eps probabilities are clipped to {@code [eps, 1 - eps]} before the logarithm; {@code 0 <
   *     eps <= 0.5}
   * @param averaging per study then over studies (the competition's), or over all rows at once
   */
  public record Options(double eps, Averaging averaging) {
    /** The competition's clipping: 1e-15. */
    public static final double DEFAULT_EPS = 1e-15;

    /**
     * @throws IllegalArgumentException naming the argument when {@code eps} is not in {@code (0,
     *     0.5]} or {@code averaging} is null
     */
    public Options {
      if (!(eps > 0 && eps <= 0.5)) {
        throw new IllegalArgumentException("eps: expected 0 < eps <= 0.5, got " + eps);
      }
      if (averaging == null) {
        throw new IllegalArgumentException("averaging: expected study or row, got null");
      }
    }

    /** The competition's metric: eps 1e-15, averaged per study. */
    public static Options defaults() {
      return new Options(DEFAULT_EPS, Averaging.STUDY);
    }

    /** These options with another clipping. */
    public Options withEps(double eps) {
      return new Options(eps, averaging);
    }

    /** These options with another averaging. */
    public Options withAveraging(Averaging averaging) {
      return new Options(eps, averaging);
    }
  }

  /**
   * A scored prediction. The maps are keyed by the names of {@link #COLUMNS}, in that order.
   *
   * @param score the weighted log loss ({@link Options#averaging})
   * @param options what it was computed with
   * @param studies how many studies were scored
   * @param positives per column, how many studies are positive
   * @param logLoss per column, the unweighted mean over studies of the clipped log loss
   * @param auc per column, the ROC AUC over studies; NaN when the column has one class only
   * @param vertebraAuc the ROC AUC over every (study, C1..C7) row pooled; NaN with one class only
   * @param patientAuc the ROC AUC of patient_overall (as in {@code auc}); NaN with one class only
   * @param notes what a reader of the numbers should know: each AUC that is undefined, and why
   */
  public record Result(
      double score,
      Options options,
      int studies,
      Map<String, Integer> positives,
      Map<String, Double> logLoss,
      Map<String, Double> auc,
      double vertebraAuc,
      double patientAuc,
      List<String> notes) {
    public Result {
      Objects.requireNonNull(options, "options");
      positives = Collections.unmodifiableMap(new LinkedHashMap<>(positives));
      logLoss = Collections.unmodifiableMap(new LinkedHashMap<>(logLoss));
      auc = Collections.unmodifiableMap(new LinkedHashMap<>(auc));
      notes = List.copyOf(notes);
    }
  }

  // ---------------------------------------------------------------- scoring

  /** {@link #score(List, List, Options)} with {@link Options#defaults()}. */
  public static Result score(List<CervicalLabel> truth, List<Prediction> predictions) {
    return score(truth, predictions, Options.defaults());
  }

  /**
   * Scores submission rows against the labels: every study of {@code truth} must have exactly one
   * row per column, and every row must be of a study of {@code truth}.
   *
   * @throws IllegalArgumentException naming the row (its row id) or the study and column when
   *     {@code truth} is empty or repeats a study, when a row is of a study that {@code truth} does
   *     not have, of an unknown target, repeated, or has a probability that is NaN or outside [0,
   *     1], and when a study lacks a row
   */
  public static Result score(
      List<CervicalLabel> truth, List<Prediction> predictions, Options options) {
    Table t = new Table(truth);
    Objects.requireNonNull(predictions, "predictions");
    for (Prediction p : predictions) {
      Objects.requireNonNull(p, "predictions: a null row");
      t.put(p.rowId(), p.studyUid(), p.target(), p.fractured());
    }
    return t.complete().score(requireOptions(options));
  }

  /**
   * Scores probabilities keyed by submission row id ({@code <StudyInstanceUID>_C1} to {@code
   * <StudyInstanceUID>_C7}, {@code <StudyInstanceUID>_patient_overall}): the same checks as {@link
   * #score(List, List, Options)}.
   *
   * @throws IllegalArgumentException as {@link #score(List, List, Options)} does, and for a key
   *     that does not end in {@code _<target>}
   */
  public static Result score(
      List<CervicalLabel> truth, Map<String, Double> predictions, Options options) {
    Table t = new Table(truth);
    Objects.requireNonNull(predictions, "predictions");
    for (Map.Entry<String, Double> e : predictions.entrySet()) {
      String id = Objects.requireNonNull(e.getKey(), "predictions: a null row id");
      String target = null;
      for (String c : COLUMNS) {
        if (id.endsWith("_" + c)) target = c;
      }
      if (target == null) {
        throw new IllegalArgumentException(
            "predictions: row '"
                + id
                + "': expected <StudyInstanceUID>_<target> with target one of "
                + Rsna2022.TARGETS);
      }
      String study = id.substring(0, id.length() - target.length() - 1);
      Double p = e.getValue();
      if (p == null) {
        throw new IllegalArgumentException(
            "predictions: row '" + id + "': expected a probability in [0, 1], got null");
      }
      t.put(id, study, target, p);
    }
    return t.complete().score(requireOptions(options));
  }

  /**
   * Per column, the fraction of the studies of {@code truth} that are positive: the prediction of
   * the "training prevalence" baseline.
   *
   * @throws IllegalArgumentException when {@code truth} is empty or repeats a study
   */
  public static Map<String, Double> prevalence(List<CervicalLabel> truth) {
    Table t = new Table(truth);
    Map<String, Double> out = new LinkedHashMap<>();
    for (int c = 0; c < K; c++) {
      int n = 0;
      for (boolean[] y : t.labels) n += y[c] ? 1 : 0;
      out.put(COLUMNS.get(c), n / (double) t.labels.length);
    }
    return Collections.unmodifiableMap(out);
  }

  /**
   * The score of predicting, for every study of {@code truth}, the same probability per column
   * (e.g. {@link #prevalence} of the training set): the baseline a model must beat.
   *
   * @param probabilities one probability in [0, 1] for each of {@link #COLUMNS}, and nothing else
   * @throws IllegalArgumentException when a column is missing or unknown, a probability is NaN or
   *     outside [0, 1], or {@code truth} is empty or repeats a study
   */
  public static Result scoreConstant(
      List<CervicalLabel> truth, Map<String, Double> probabilities, Options options) {
    Table t = new Table(truth);
    Objects.requireNonNull(probabilities, "probabilities");
    for (String key : probabilities.keySet()) column(key, "probabilities");
    for (int c = 0; c < K; c++) {
      String name = COLUMNS.get(c);
      Double p = probabilities.get(name);
      if (p == null || !(p >= 0 && p <= 1)) {
        throw new IllegalArgumentException(
            "probabilities: " + name + ": expected a probability in [0, 1], got " + p);
      }
      for (double[] row : t.probabilities) row[c] = p + 0.0;
    }
    return t.score(requireOptions(options));
  }

  // ---------------------------------------------------------------- the computation

  /** Labels and probabilities of the studies of the truth, in its order, [study][column]. */
  private static final class Table {
    final String[] studies;
    final boolean[][] labels;
    final double[][] probabilities;
    final Map<String, Integer> index = new HashMap<>();

    Table(List<CervicalLabel> truth) {
      Objects.requireNonNull(truth, "truth");
      if (truth.isEmpty()) {
        throw new IllegalArgumentException("truth: expected at least one study, got none");
      }
      int n = truth.size();
      studies = new String[n];
      labels = new boolean[n][K];
      probabilities = new double[n][K];
      for (int s = 0; s < n; s++) {
        CervicalLabel l = Objects.requireNonNull(truth.get(s), "truth: a null label");
        Integer before = index.putIfAbsent(l.studyUid(), s);
        if (before != null) {
          throw new IllegalArgumentException(
              "truth: study "
                  + l.studyUid()
                  + " repeated (truth["
                  + before
                  + "] and truth["
                  + s
                  + "])");
        }
        studies[s] = l.studyUid();
        labels[s][0] = l.patientOverall();
        for (int v = 1; v <= 7; v++) labels[s][v] = l.fractured(v);
        Arrays.fill(probabilities[s], Double.NaN);
      }
    }

    /** Records one submission row, refusing what {@link #score} documents. */
    void put(String rowId, String study, String target, double p) {
      int c = COLUMNS.indexOf(target);
      if (c < 0) {
        throw new IllegalArgumentException(
            "predictions: row '"
                + rowId
                + "': target: expected one of "
                + Rsna2022.TARGETS
                + ", got '"
                + target
                + "'");
      }
      Integer s = index.get(study);
      if (s == null) {
        throw new IllegalArgumentException(
            "predictions: row '" + rowId + "': study " + study + " is not in the truth");
      }
      if (!(p >= 0 && p <= 1)) {
        throw new IllegalArgumentException(
            "predictions: row '" + rowId + "': expected a probability in [0, 1], got " + p);
      }
      if (!Double.isNaN(probabilities[s][c])) {
        throw new IllegalArgumentException("predictions: row '" + rowId + "' repeated");
      }
      probabilities[s][c] = p + 0.0; // -0.0 becomes 0.0, one value for the AUC's ties
    }

    /** This table, once every study has a probability in every column. */
    Table complete() {
      int missing = 0;
      String first = null;
      for (int s = 0; s < studies.length; s++) {
        for (int c = 0; c < K; c++) {
          if (Double.isNaN(probabilities[s][c])) {
            if (missing++ == 0) {
              first =
                  "study "
                      + studies[s]
                      + " has no row for "
                      + COLUMNS.get(c)
                      + " ('"
                      + studies[s]
                      + "_"
                      + COLUMNS.get(c)
                      + "')";
            }
          }
        }
      }
      if (missing > 0) {
        throw new IllegalArgumentException(
            "predictions: "
                + first
                + "; "
                + missing
                + " of "
                + (long) studies.length * K
                + " rows missing");
      }
      return this;
    }

    Result score(Options o) {
      int n = studies.length;
      double lo = o.eps();
      double hi = 1 - o.eps();
      double studySum = 0;
      double rowLoss = 0;
      double rowWeight = 0;
      double[] columnLoss = new double[K];
      for (int s = 0; s < n; s++) {
        double wl = 0;
        double w = 0;
        for (int c = 0; c < K; c++) {
          boolean y = labels[s][c];
          double p = Math.min(Math.max(probabilities[s][c], lo), hi);
          double l = -Math.log(y ? p : 1 - p);
          double weight = y ? POSITIVE_WEIGHTS[c] : NEGATIVE_WEIGHTS[c];
          wl += weight * l;
          w += weight;
          columnLoss[c] += l;
        }
        studySum += wl / w;
        rowLoss += wl;
        rowWeight += w;
      }
      double score =
          switch (o.averaging()) {
            case STUDY -> studySum / n;
            case ROW -> rowLoss / rowWeight;
          };

      Map<String, Integer> positives = new LinkedHashMap<>();
      Map<String, Double> logLoss = new LinkedHashMap<>();
      Map<String, Double> auc = new LinkedHashMap<>();
      List<String> notes = new ArrayList<>();
      boolean[] y = new boolean[n];
      double[] p = new double[n];
      for (int c = 0; c < K; c++) {
        String name = COLUMNS.get(c);
        int pos = 0;
        for (int s = 0; s < n; s++) {
          y[s] = labels[s][c];
          p[s] = probabilities[s][c];
          pos += y[s] ? 1 : 0;
        }
        positives.put(name, pos);
        logLoss.put(name, columnLoss[c] / n);
        auc.put(name, rocAuc(y, p));
        undefined("AUC of " + name, "study", "studies", pos, n, notes);
      }
      boolean[] vy = new boolean[n * 7];
      double[] vp = new double[n * 7];
      int vpos = 0;
      for (int s = 0; s < n; s++) {
        for (int c = 1; c < K; c++) {
          int i = s * 7 + c - 1;
          vy[i] = labels[s][c];
          vp[i] = probabilities[s][c];
          vpos += vy[i] ? 1 : 0;
        }
      }
      undefined("vertebra AUC (C1..C7 pooled)", "row", "rows", vpos, vy.length, notes);
      return new Result(
          score,
          o,
          n,
          positives,
          logLoss,
          auc,
          rocAuc(vy, vp),
          auc.get(Rsna2022.PATIENT_OVERALL),
          notes);
    }
  }

  /** Adds a note when {@code positives} of {@code n} leaves one class only. */
  private static void undefined(
      String what, String one, String many, int positives, int n, List<String> notes) {
    if (positives == 0 || positives == n) {
      notes.add(
          String.format(
              Locale.ROOT,
              "%s undefined: %s %s %s",
              what,
              n == 1 ? "the only " + one : "all " + n + " " + many,
              n == 1 ? "is" : "are",
              positives == 0 ? "negative" : "positive"));
    }
  }

  /**
   * The area under the ROC curve of {@code scores} for {@code positive}: the fraction of (positive,
   * negative) pairs in which the positive scores higher, a tie counting one half (the Mann-Whitney
   * U over the product of the class sizes). NaN when either class is empty.
   */
  static double rocAuc(boolean[] positive, double[] scores) {
    int n = positive.length;
    if (scores.length != n) {
      throw new IllegalArgumentException(
          "scores: expected " + n + " values (one per label), got " + scores.length);
    }
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      if (Double.isNaN(scores[i])) {
        throw new IllegalArgumentException("scores[" + i + "]: expected a number, got NaN");
      }
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Double.compare(scores[a], scores[b]));
    // Twice U, exact in a long: a tie group adds 2 * (negatives below) * (its positives)
    // + (its positives) * (its negatives).
    long twiceU = 0;
    long negativesBelow = 0;
    long positives = 0;
    for (int i = 0; i < n; ) {
      int j = i;
      long pos = 0;
      long neg = 0;
      while (j < n && scores[order[j]] == scores[order[i]]) {
        if (positive[order[j]]) pos++;
        else neg++;
        j++;
      }
      twiceU += 2 * negativesBelow * pos + pos * neg;
      negativesBelow += neg;
      positives += pos;
      i = j;
    }
    long negatives = negativesBelow;
    if (positives == 0 || negatives == 0) return Double.NaN;
    return twiceU / (2.0 * positives * negatives);
  }

  // ---------------------------------------------------------------- helpers

  private static Options requireOptions(Options options) {
    if (options == null) throw new IllegalArgumentException("options: expected options, got null");
    return options;
  }

  private static int column(String name, String what) {
    int c = COLUMNS.indexOf(name);
    if (c < 0) {
      throw new IllegalArgumentException(
          what
              + ": expected one of "
              + COLUMNS
              + ", got "
              + (name == null ? "null" : "'" + name + "'"));
    }
    return c;
  }
}
